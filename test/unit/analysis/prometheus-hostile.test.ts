import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import type { StepContext } from '../../../src/contracts/checks.js';
import { MetricChecks } from '../../../src/analysis/metric-checks.js';
import type { MetricProvider } from '../../../src/analysis/metric-provider.js';
import { MetricProviderRegistry } from '../../../src/analysis/metric-registry.js';
import {
  PrometheusProvider,
  prometheusFactory,
  type PrometheusOptions,
} from '../../../src/analysis/prometheus-provider.js';
import { egressPolicy } from '../../../src/util/egress.js';
import { watchConnections, type ConnectionWatch } from '../../harness/connections.js';
import { startHostileServer, type HostileServer } from '../../harness/hostile-server.js';

// Given a Prometheus address chosen by an untrusted Canary author, when it answers with
// hostility, then every query ends within its bounds with a message saying which bound.
let hostile: HostileServer;
let bystander: HostileServer;
let watch: ConnectionWatch;
beforeAll(async () => {
  hostile = await startHostileServer({ kind: 'prometheus', series: 1, value: '1' });
  bystander = await startHostileServer({ kind: 'prometheus', series: 1, value: '1' });
});
afterAll(async () => {
  await hostile.stop();
  await bystander.stop();
});
beforeEach(() => {
  watch = watchConnections();
});
afterEach(() => watch.stop());

const provider = (timeoutMs = 5_000, options: PrometheusOptions = {}, address = hostile.url) =>
  new PrometheusProvider(
    { type: 'prometheus', address, headers: {}, insecureSkipVerify: false, timeoutMs },
    options,
  );
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const unsafe = /[\0-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u200b]/u;

describe('PrometheusProvider against a hostile server', () => {
  it('reads at most 4 MiB of a 1 GiB answer: fails fast with the limit and the flag, memory stays flat', async () => {
    hostile.set({ kind: 'huge', bytes: 2 ** 30, prefix: '{"status":"success","data":{"result":[' });
    const before = process.memoryUsage().rss;
    const started = performance.now();
    expect(await provider().measure('up')).toEqual({
      kind: 'error',
      reason: 'Prometheus answer exceeds 4 MiB (--max-metrics-response-bytes)',
    });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
  });

  it('uses the configured limit, and cuts an endless answer at it', async () => {
    hostile.set({ kind: 'endless' });
    expect(await provider(5_000, { maxResponseBytes: 64 * 1024 }).measure('up')).toEqual({
      kind: 'error',
      reason: 'Prometheus answer exceeds 64 KiB (--max-metrics-response-bytes)',
    });
  });

  it('ends a body dripping a byte every 100 ms at the 1 s timeout', async () => {
    hostile.set({ kind: 'drip', intervalMs: 100 });
    const started = performance.now();
    expect(await provider(1_000).measure('up')).toEqual({
      kind: 'error',
      reason: `Prometheus at ${hostile.url} did not answer within 1s`,
    });
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  it('ends a query that never answers at its deadline', async () => {
    hostile.set({ kind: 'hang' });
    expect(await provider(300).measure('up')).toEqual({
      kind: 'error',
      reason: `Prometheus at ${hostile.url} did not answer within 0.3s`,
    });
  });

  it('does not follow a redirect: its target receives nothing', async () => {
    const seen = bystander.requests.length;
    hostile.set({ kind: 'redirect', status: 307, location: `${bystander.url}/api/v1/query` });
    expect(await provider().measure('up')).toEqual({
      kind: 'error',
      reason: 'Prometheus answered HTTP 307: redirects are not followed',
    });
    expect(bystander.requests.length).toBe(seen);
  });

  it('a 200 whose body is not JSON is an error that says so, with the start of the body', async () => {
    hostile.set({ kind: 'answer', body: '{"status":"success","data":' });
    expect(await provider().measure('up')).toEqual({
      kind: 'error',
      reason: `Prometheus at ${hostile.url} answered HTTP 200 with a body that is not JSON: {"status":"success","data":`,
    });
  });

  it('10,000 series: a clear error with the count', async () => {
    hostile.set({ kind: 'prometheus', series: 10_000, value: '1' });
    expect(await provider().measure('up')).toEqual({
      kind: 'error',
      reason:
        'the query returned 10000 series; a check needs one: aggregate it (sum, max …) or filter by labels',
    });
  });

  it('more series than it counts: says so instead of the count', async () => {
    hostile.set({ kind: 'prometheus', series: 101, value: '1' });
    expect(await provider(5_000, { maxSeries: 100 }).measure('up')).toMatchObject({
      kind: 'error',
      reason: expect.stringMatching(/^the query returned more than 100 series; a check needs one/),
    });
  });

  it('keeps a hostile error short and inert: ≤ 256 characters, no control characters', async () => {
    hostile.set({
      kind: 'answer',
      status: 500,
      body: JSON.stringify({
        status: 'error',
        errorType: '\x1b]0;pwned\x07',
        error: `\x1b[2J\x1b[H\r\nSucceeded\u202e ${'x'.repeat(1_000_000)}`,
      }),
    });
    const m = await provider().measure('up');
    expect(m.kind).toBe('error');
    const reason = (m as { reason: string }).reason;
    expect(reason.length).toBeLessThanOrEqual(256);
    expect(reason).not.toMatch(unsafe);
    expect(reason).toMatch(/^Prometheus answered HTTP 500 \(\\x1b\]0;pwned\\x07\): \\x1b\[2J/);
  });

  it('refuses compressed answers it did not ask for', async () => {
    hostile.set({ kind: 'prometheus', series: 1, value: '1' });
    await provider().measure('up');
    expect(hostile.requests.at(-1)!.headers['accept-encoding']).toBe('identity');
  });

  it('refuses the metadata address before connecting', async () => {
    expect(await provider(5_000, {}, 'http://169.254.169.254/').measure('up')).toEqual({
      kind: 'error',
      reason:
        'Prometheus at http://169.254.169.254: destination 169.254.169.254 is not allowed by the egress policy (link-local and metadata addresses are always denied)',
    });
    expect(watch.attempts).toEqual([]);
  });

  it('applies --egress-deny-cidrs to author addresses but not to the operator’s --metrics-server', async () => {
    hostile.set({ kind: 'prometheus', series: 1, value: '1' });
    const seen = bystander.requests.length;
    const factory = prometheusFactory({
      egress: egressPolicy({ denyCidrs: ['127.0.0.0/8'] }),
      trustedAddresses: [hostile.url],
    });
    const config = (address: string) => ({
      type: 'prometheus',
      address,
      headers: {},
      insecureSkipVerify: false,
      timeoutMs: 5_000,
    });
    expect(await factory(config(hostile.url)).measure('up')).toEqual({ kind: 'value', value: 1 });
    expect(await factory(config(`${bystander.url}/prefix`)).measure('up')).toEqual({
      kind: 'error',
      reason: `Prometheus at ${bystander.url}/prefix: destination 127.0.0.1 is not allowed by the egress policy (--egress-deny-cidrs)`,
    });
    expect(bystander.requests.length).toBe(seen);
  });

  it('keeps at most maxConcurrent queries in flight over all providers of a factory', async () => {
    hostile.set({ kind: 'hang' });
    const seen = hostile.requests.length;
    const factory = prometheusFactory({ maxConcurrent: 1 });
    const config = (timeoutMs: number) => ({
      type: 'prometheus',
      address: hostile.url,
      headers: { 'X-Tenant': String(timeoutMs) },
      insecureSkipVerify: false,
      timeoutMs,
    });
    const [first, second] = await Promise.all([
      factory(config(300)).measure('up'),
      factory(config(150)).measure('up'),
    ]);
    expect(first).toMatchObject({ reason: expect.stringMatching(/did not answer within 0\.3s$/) });
    expect(second).toEqual({
      kind: 'error',
      reason: 'no free query slot within 0.15s: 1 metric queries are in flight',
    });
    expect(hostile.requests.length - seen).toBe(1);
  });
});

describe('MetricChecks against a hostile Prometheus', () => {
  const canary = (metricsServer: string, name = 'podinfo'): Canary =>
    ({
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'Canary',
      metadata: { name, namespace: 'test', generation: 1 },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
        service: { port: 80 },
        metricsServer,
        analysis: { metrics: [{ name: 'errors', query: 'up', thresholdRange: { max: 1 } }] },
      },
    }) as unknown as Canary;
  const checks = (registry: MetricProviderRegistry, probeTimeoutMs?: number) =>
    new MetricChecks({
      registry,
      templates: () => undefined,
      secrets: () => undefined,
      defaultProvider: 'kubernetes',
      crossNamespaceRefs: false,
      // The hostile server answers whatever is asked: an inline query keeps the test short.
      allowInlineQueries: true,
      metrics: new Registry(),
      now: () => 0,
      ...(probeTimeoutMs ? { probeTimeoutMs } : {}),
    });
  const step: StepContext = {
    revision: 'r1',
    phase: 'Progressing',
    weight: 10,
    iterations: 1,
    hooks: [],
    measure: true,
    signal: new AbortController().signal,
  };

  it('NaN is a failed check that says why, never a pass', async () => {
    hostile.set({ kind: 'prometheus', series: 1, value: 'NaN' });
    const c = checks(new MetricProviderRegistry().register('prometheus', prometheusFactory()));
    const outcome = await c.run(canary(hostile.url), step);
    expect(outcome.passed).toBe(false);
    expect(outcome.failures).toEqual([
      'errors: the query returned NaN (no requests in the window?): is the canary receiving traffic?',
    ]);
  });

  it('a probe has its own deadline, shorter than the query timeout', async () => {
    hostile.set({ kind: 'hang' });
    const c = checks(new MetricProviderRegistry().register('prometheus', prometheusFactory()), 200);
    const started = performance.now();
    expect(await c.preflight(canary(hostile.url), new AbortController().signal)).toBe(
      `Prometheus at ${hostile.url} did not answer within 0.2s`,
    );
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('keeps probe answers for at most 256 providers, however many addresses authors use', async () => {
    // Providers that answer at once: what is bounded here is memory, not HTTP.
    const answering = (): MetricProvider => ({
      type: 'prometheus',
      measure: async () => ({ kind: 'value', value: 1 }),
      probe: async () => undefined,
    });
    const c = checks(new MetricProviderRegistry().register('prometheus', answering));
    for (let i = 0; i < 1_000; i++)
      await c.preflight(
        canary(`http://prometheus-${i}.example:9090`, `c${i}`),
        new AbortController().signal,
      );
    expect(c.probesHeld).toBeLessThanOrEqual(256);
  });
});
