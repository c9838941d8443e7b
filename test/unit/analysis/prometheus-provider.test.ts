import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary, MetricTemplate } from '../../../src/api/types.js';
import { MetricChecks } from '../../../src/analysis/metric-checks.js';
import { MetricProviderRegistry } from '../../../src/analysis/metric-registry.js';
import {
  PrometheusProvider,
  prometheusProvider,
} from '../../../src/analysis/prometheus-provider.js';

/**
 * A real local HTTP server speaking Prometheus's query API. Each query string
 * selects a scripted answer, so every bad case is reproduced exactly.
 */
type Answer = { status?: number; body?: unknown; delayMs?: number; auth?: string };
const vector = (...values: string[]) => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [1700000000, v] })),
  },
});
const answers: Record<string, Answer> = {
  good: { body: vector('99.5') },
  empty: { body: vector() },
  nan: { body: vector('NaN') },
  several: { body: vector('1', '2') },
  scalar: { body: { status: 'success', data: { resultType: 'scalar', result: [1, '42'] } } },
  matrix: { body: { status: 'success', data: { resultType: 'matrix', result: [] } } },
  broken: {
    status: 500,
    body: { status: 'error', errorType: 'internal', error: 'storage is sad' },
  },
  badquery: {
    status: 400,
    body: { status: 'error', errorType: 'bad_data', error: 'parse error at char 4' },
  },
  html: { status: 502, body: '<html>bad gateway</html>' },
  slow: { delayMs: 3_000, body: vector('1') },
  secret: { auth: 'Bearer s3cret', body: vector('7') },
  'vector(1)': { body: vector('1') },
  'range-good': {
    body: {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: { pod: 'a' },
            values: [
              [1700000000, '12.5'],
              [1700000005, 'NaN'],
            ],
          },
          {
            metric: { pod: 'b' },
            values: [
              [1700000000, '+Inf'],
              [1700000005, '14'],
            ],
          },
        ],
      },
    },
  },
  'range-empty': { body: { status: 'success', data: { resultType: 'matrix', result: [] } } },
  'range-huge': {
    body: {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [{ values: Array.from({ length: 20_001 }, (_, i) => [i, '1']) }],
      },
    },
  },
};

let server: Server;
let url: string;
const seen: { query: string; params: string; path: string; headers: IncomingMessage['headers'] }[] =
  [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const query = new URLSearchParams(raw).get('query') ?? '';
      seen.push({ query, params: raw, path: req.url ?? '', headers: req.headers });
      // A window of samples is asked as a subquery of the query: answer by the query inside.
      const inner = /^\((.*)\)\[\d+s:\d+s\]$/s.exec(query)?.[1];
      const a = answers[inner ?? query] ?? { status: 404, body: 'unknown query' };
      const send = () => {
        if (a.auth && req.headers.authorization !== a.auth) {
          res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
          return;
        }
        const json = typeof a.body !== 'string';
        res
          .writeHead(a.status ?? 200, { 'content-type': json ? 'application/json' : 'text/html' })
          .end(json ? JSON.stringify(a.body) : a.body);
      };
      if (a.delayMs) setTimeout(send, a.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const provider = (over: Partial<ConstructorParameters<typeof PrometheusProvider>[0]> = {}) =>
  new PrometheusProvider({
    type: 'prometheus',
    address: url,
    headers: {},
    insecureSkipVerify: false,
    timeoutMs: 500,
    ...over,
  });

describe('PrometheusProvider', () => {
  it.each([
    ['good', { kind: 'value', value: 99.5 }],
    ['scalar', { kind: 'value', value: 42 }],
    ['empty', { kind: 'no-data', reason: 'the query returned no series' }],
    [
      'several',
      {
        kind: 'error',
        reason: expect.stringMatching(
          /^the query returned 2 series; a check needs one: aggregate it/,
        ),
      },
    ],
    ['matrix', { kind: 'error', reason: expect.stringMatching(/returned a matrix result/) }],
    [
      'broken',
      { kind: 'error', reason: 'Prometheus answered HTTP 500 (internal): storage is sad' },
    ],
    [
      'badquery',
      { kind: 'error', reason: 'Prometheus answered HTTP 400 (bad_data): parse error at char 4' },
    ],
    ['html', { kind: 'error', reason: 'Prometheus answered HTTP 502: <html>bad gateway</html>' }],
    [
      'secret',
      { kind: 'error', reason: expect.stringMatching(/HTTP 401.*authentication required/) },
    ],
  ])('answers %s with a measurement', async (query, expected) => {
    expect(await provider().measure(query)).toEqual(expected);
  });

  it('reads every value of every series over a window for the judge, NaN and infinities kept', async () => {
    const s = await provider().samples('range-good', { seconds: 60, stepSeconds: 5 });
    expect(s).toEqual({ kind: 'samples', values: [12.5, NaN, Infinity, 14] });
    const sent = seen.at(-1)!;
    expect(sent.path).toBe('/api/v1/query');
    expect(Object.fromEntries(new URLSearchParams(sent.params))).toEqual({
      query: '(range-good)[60s:5s]',
    });
  });

  it.each([
    ['range-empty', { kind: 'no-data', reason: "the window's query returned no samples" }],
    [
      'good',
      {
        kind: 'error',
        reason: "the window's query returned a vector result; a matrix is expected",
      },
    ],
    [
      'range-huge',
      {
        kind: 'error',
        reason:
          "the window's query returned more than 20000 samples: aggregate the series or lengthen the step",
      },
    ],
    [
      'broken',
      { kind: 'error', reason: 'Prometheus answered HTTP 500 (internal): storage is sad' },
    ],
  ])('answers the range query %s with why there are no samples', async (query, expected) => {
    expect(await provider().samples(query, { seconds: 60, stepSeconds: 5 })).toEqual(expected);
  });

  it('refuses a window it would not send', async () => {
    const asked = seen.length;
    expect(await provider().samples('range-good', { seconds: 4, stepSeconds: 5 })).toEqual({
      kind: 'error',
      reason:
        'a window of samples needs whole seconds, at least one step long (got 4s at 5s steps)',
    });
    expect(await provider().samples('range-good', { seconds: 86_400, stepSeconds: 1 })).toEqual({
      kind: 'error',
      reason: 'a window of 86401 steps exceeds 20000 samples: lengthen the step',
    });
    expect(seen.length).toBe(asked);
  });

  it('returns NaN as a value for the judge to reject', async () => {
    const m = await provider().measure('nan');
    expect(m.kind).toBe('value');
    expect(Number.isNaN((m as { value: number }).value)).toBe(true);
  });

  it('times out with the timeout in the reason', async () => {
    expect(await provider().measure('slow')).toEqual({
      kind: 'error',
      reason: `Prometheus at ${url} did not answer within 0.5s`,
    });
  });

  it('is cancelled when the release moves on', async () => {
    const controller = new AbortController();
    const pending = provider({ timeoutMs: 5_000 }).measure('slow', controller.signal);
    controller.abort();
    expect(await pending).toEqual({
      kind: 'error',
      reason: 'query cancelled: the release moved on',
    });
  });

  it('reports an unreachable Prometheus', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await provider({ address: `http://127.0.0.1:${port}` }).measure('good')).toEqual({
      kind: 'error',
      reason: `Prometheus at http://127.0.0.1:${port} is unreachable (ECONNREFUSED)`,
    });
  });

  it('sends bearer auth and custom headers', async () => {
    const m = await provider({
      auth: { bearer: 's3cret' },
      headers: { 'X-Scope-OrgID': 'team-a' },
    }).measure('secret');
    expect(m).toEqual({ kind: 'value', value: 7 });
    expect(seen.at(-1)!.headers['x-scope-orgid']).toBe('team-a');
  });

  it('takes basic auth out of the address so it never shows in messages', async () => {
    const p = provider({ address: url.replace('http://', 'http://user:pw@'), timeoutMs: 200 });
    expect(seen.length).toBeGreaterThan(0);
    await p.measure('good');
    expect(seen.at(-1)!.headers.authorization).toBe(
      `Basic ${Buffer.from('user:pw').toString('base64')}`,
    );
    const slow = await p.measure('slow');
    expect(slow.kind === 'error' && slow.reason).not.toMatch(/pw/);
  });

  it('probes with vector(1)', async () => {
    expect(await provider().probe()).toBeUndefined();
    expect(await provider({ auth: { bearer: 'wrong' } }).measure('secret')).toMatchObject({
      kind: 'error',
    });
  });
});

describe('MetricChecks against the local server', () => {
  const template = (
    name: string,
    query: string,
    extra: Partial<MetricTemplate['spec']['provider']> = {},
  ): MetricTemplate => ({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'MetricTemplate',
    metadata: { name, namespace: 'test' },
    spec: { provider: { type: 'prometheus', address: url, timeout: '500ms', ...extra }, query },
  });
  // Built on each lookup: the server's address is only known once it listens.
  const templateOf = (name: string): MetricTemplate | undefined => {
    if (name === 'secret') return template(name, 'secret', { secretRef: { name: 'prom-auth' } });
    if (name === 'nosecret') return template(name, 'secret', { secretRef: { name: 'missing' } });
    if (name === 'typo') return template(name, '{{ varaibles.x }}');
    return name in answers ? template(name, name) : undefined;
  };
  const checks = new MetricChecks({
    registry: new MetricProviderRegistry().register('prometheus', prometheusProvider),
    templates: (_ns, name) => templateOf(name),
    secrets: (_ns, name) =>
      name === 'prom-auth'
        ? {
            metadata: { labels: { 'weir.dev/credentials': 'true' } },
            data: { token: Buffer.from('s3cret').toString('base64') },
          }
        : undefined,
    defaultProvider: 'kubernetes',
    crossNamespaceRefs: false,
    metrics: new Registry(),
    now: () => 0,
  });
  const canary = (...metrics: object[]): Canary =>
    ({
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'Canary',
      metadata: { name: 'podinfo', namespace: 'test' },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
        service: { port: 80 },
        analysis: { metrics },
      },
    }) as unknown as Canary;
  const run = (c: Canary) =>
    checks.run(c, {
      revision: 'r1',
      phase: 'Progressing',
      weight: 10,
      iterations: 1,
      hooks: [],
      measure: true,
      signal: new AbortController().signal,
    });
  const ref = (name: string, thresholdRange = { min: 1 }) => ({
    name,
    templateRef: { name },
    thresholdRange,
  });

  it.each([
    ['empty', 'empty: no data (the query returned no series): is the canary receiving traffic?'],
    [
      'nan',
      'nan: the query returned NaN (no requests in the window?): is the canary receiving traffic?',
    ],
    ['nosecret', 'nosecret: MetricTemplate test/nosecret: Secret test/missing not found'],
    ['typo', /^typo: unknown placeholder \{\{ varaibles\.x \}\}/],
    ['absent', 'absent: MetricTemplate test/absent not found'],
  ])('%s is a failed check with its own message, never a pass', async (name, message) => {
    const outcome = await run(canary(ref(name)));
    expect(outcome.passed).toBe(false);
    expect(outcome.failures).toHaveLength(1);
    expect(outcome.failures[0]).toEqual(
      typeof message === 'string' ? message : expect.stringMatching(message),
    );
    expect(outcome.metrics![0]).toMatchObject({ name, passed: false });
  });

  it.each([
    ['several', /^several: the query returned 2 series/],
    ['broken', 'broken: Prometheus answered HTTP 500 (internal): storage is sad'],
    ['slow', /^slow: Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer within 0\.5s$/],
  ])(
    '%s: the provider did not answer, so the check is inconclusive with its own message, never a pass',
    async (name, message) => {
      const outcome = await run(canary(ref(name)));
      expect(outcome.passed).toBe(false);
      expect(outcome.failures).toEqual([]);
      expect(outcome.inconclusive).toEqual([
        typeof message === 'string' ? message : expect.stringMatching(message),
      ]);
      expect(outcome.metrics![0]).toMatchObject({ name, passed: false, inconclusive: true });
    },
  );

  it('a template whose Secret holds the token passes', async () => {
    const outcome = await run(canary(ref('secret')));
    expect(outcome).toEqual({
      passed: true,
      failures: [],
      metrics: [{ name: 'secret', value: 7, min: 1, passed: true }],
    });
  });

  it('forbids a MetricTemplate in another namespace when told to', async () => {
    const outcome = await run(
      canary({ name: 'x', templateRef: { name: 'good', namespace: 'other' } }),
    );
    expect(outcome.failures[0]).toBe(
      'x: MetricTemplate other/good is in another namespace, and this controller forbids cross-namespace references',
    );
  });

  it('built-ins without a Prometheus address fail and say where to set one', async () => {
    const outcome = await run(
      canary({ name: 'request-success-rate', thresholdRange: { min: 99 } }),
    );
    expect(outcome.failures[0]).toBe(
      'request-success-rate: no Prometheus address: set spec.metricsServer or start the controller with --metrics-server',
    );
  });

  it('preflight names what cannot work before a release', async () => {
    const problem = await checks.preflight(
      canary(ref('good'), ref('absent')),
      new AbortController().signal,
    );
    expect(problem).toBe('absent: MetricTemplate test/absent not found');
  });
});
