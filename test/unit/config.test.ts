import { describe, expect, it } from 'vitest';
import { parseConfig, parseListenAddress } from '../../src/config.js';
import { WeirError } from '../../src/errors.js';

describe('parseConfig', () => {
  it('uses the documented defaults when nothing is given', () => {
    expect(parseConfig([], {})).toEqual({
      provider: 'gatewayapi',
      concurrency: 32,
      crossNamespaceRefs: true,
      allowInlineQueries: false,
      allowMetricsServerHeaders: false,
      metricsAddress: { host: '0.0.0.0', port: 8080 },
      probeAddress: { host: '0.0.0.0', port: 8081 },
      logLevel: 'info',
    });
  });

  it('prefers flags over the environment', () => {
    const config = parseConfig(['--log-level=debug', '--kubeconfig', '/k/flag'], {
      WEIR_LOG_LEVEL: 'warn',
      KUBECONFIG: '/k/env',
      WEIR_WATCH_NAMESPACE: 'team-a',
    });
    expect(config).toMatchObject({
      logLevel: 'debug',
      kubeconfig: '/k/flag',
      watchNamespace: 'team-a',
    });
  });

  it('reads the metrics server and the cross-namespace switch', () => {
    expect(
      parseConfig(['--metrics-server=http://127.0.0.1:9090', '--no-cross-namespace-refs'], {}),
    ).toMatchObject({ metricsServer: 'http://127.0.0.1:9090', crossNamespaceRefs: false });
    expect(parseConfig([], { WEIR_NO_CROSS_NAMESPACE_REFS: 'true' })).toMatchObject({
      crossNamespaceRefs: false,
    });
  });

  it('reads the switches for what Canary-written input may reach --metrics-server', () => {
    expect(
      parseConfig(['--allow-inline-queries', '--allow-metrics-server-headers'], {}),
    ).toMatchObject({ allowInlineQueries: true, allowMetricsServerHeaders: true });
    expect(
      parseConfig([], {
        WEIR_ALLOW_INLINE_QUERIES: 'true',
        WEIR_ALLOW_METRICS_SERVER_HEADERS: 'yes',
      }),
    ).toMatchObject({ allowInlineQueries: true, allowMetricsServerHeaders: true });
    expect(() => parseConfig([], { WEIR_ALLOW_INLINE_QUERIES: 'maybe' })).toThrow(
      'WEIR_ALLOW_INLINE_QUERIES: expected true or false, got "maybe"',
    );
  });

  it('returns undefined for --help', () => {
    expect(parseConfig(['--help'], {})).toBeUndefined();
  });

  it.each([
    [
      ['--log-level=loud'],
      /--log-level: expected one of trace, debug, info, warn, error, got "loud"/,
    ],
    [['--metrics-bind-address=8080'], /--metrics-bind-address: expected HOST:PORT .* got "8080"/],
    [['--health-probe-bind-address=:70000'], /--health-probe-bind-address: .*got ":70000"/],
    [['--watch-namespace=Team_A'], /--watch-namespace: "Team_A" is not a valid namespace name/],
    [['--no-such-flag'], /Unknown option '--no-such-flag'/],
    [
      ['--metrics-server=prometheus:9090'],
      /--metrics-server: expected an http\(s\) URL .*got "prometheus:9090"/,
    ],
  ])('rejects %j with a message naming the flag and the value', (argv, message) => {
    let error: unknown;
    try {
      parseConfig(argv, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WeirError);
    expect((error as WeirError).code).toBe('InvalidConfig');
    expect((error as WeirError).retriable).toBe(false);
    expect((error as Error).message).toMatch(message);
  });
});

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    [':9090', { host: '0.0.0.0', port: 9090 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
  ])('parses %s', (value, expected) => {
    expect(parseListenAddress(value, '--x')).toEqual(expected);
  });
});
