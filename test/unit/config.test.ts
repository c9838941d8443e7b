import { describe, expect, it } from 'vitest';
import { parseConfig, parseListenAddress, usage } from '../../src/config.js';
import { WeirError } from '../../src/errors.js';

describe('parseConfig', () => {
  it('uses the documented defaults when nothing is given', () => {
    expect(parseConfig([], {})).toEqual({
      provider: 'gatewayapi',
      concurrency: 32,
      crossNamespaceRefs: true,
      egress: { denyCidrs: [], denyPrivate: false },
      maxMetricsResponseBytes: 4 * 1024 * 1024,
      allowInlineQueries: false,
      allowMetricsServerHeaders: false,
      knative: false,
      statefulSets: false,
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

  it('reads the egress policy and the metrics response limit, from flags or the environment', () => {
    expect(
      parseConfig(
        [
          '--egress-deny-cidrs=127.0.0.0/8, 10.96.0.1/32,fd00::/8',
          '--egress-deny-private',
          '--max-metrics-response-bytes=1048576',
        ],
        {},
      ),
    ).toMatchObject({
      egress: { denyCidrs: ['127.0.0.0/8', '10.96.0.1/32', 'fd00::/8'], denyPrivate: true },
      maxMetricsResponseBytes: 1_048_576,
    });
    expect(
      parseConfig([], {
        WEIR_EGRESS_DENY_CIDRS: '100.100.100.200/32',
        WEIR_EGRESS_DENY_PRIVATE: 'true',
        WEIR_MAX_METRICS_RESPONSE_BYTES: '65536',
      }),
    ).toMatchObject({
      egress: { denyCidrs: ['100.100.100.200/32'], denyPrivate: true },
      maxMetricsResponseBytes: 65_536,
    });
  });

  it('documents the new flags in --help', () => {
    for (const flag of [
      '--egress-deny-cidrs',
      '--egress-deny-private',
      '--max-metrics-response-bytes',
    ])
      expect(usage).toContain(flag);
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
    [
      ['--egress-deny-cidrs=10.0.0.0/8,169.254.0.0/33'],
      /--egress-deny-cidrs: "169\.254\.0\.0\/33" is not a CIDR such as 10\.0\.0\.0\/8 or fd00::\/8/,
    ],
    [['--egress-deny-cidrs=metadata.internal'], /--egress-deny-cidrs: "metadata\.internal"/],
    [
      ['--max-metrics-response-bytes=4Mi'],
      /--max-metrics-response-bytes: expected a number of bytes from 1024 to 67108864, got "4Mi"/,
    ],
    [['--max-metrics-response-bytes=100'], /--max-metrics-response-bytes: .*got "100"/],
    [
      ['--max-metrics-response-bytes=1073741824'],
      /--max-metrics-response-bytes: .*got "1073741824"/,
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
