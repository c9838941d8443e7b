import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynatraceProvider } from '../../../src/analysis/dynatrace-provider.js';
import { sharedBy } from '../../../src/analysis/provider-transport.js';
import { startVendorApi, type ApiAnswer, type VendorApi } from '../../harness/vendor-api.js';

/**
 * The Dynatrace provider against a local server that speaks the documented Metrics API v2
 * (https://docs.dynatrace.com/docs/dynatrace-api/environment-api/metric-v2): the contract,
 * not the service.
 */
const seen: { path: string; params: URLSearchParams; auth?: string }[] = [];
let answers: Record<string, ApiAnswer> = {};
const result = (...values: (number | null)[][]) => ({
  totalCount: values.length,
  result: [
    {
      metricId: 'builtin:service.response.time',
      data: values.map((v) => ({ dimensions: [], timestamps: v.map((_, i) => i), values: v })),
    },
  ],
});

let api: VendorApi;
let url: string;
beforeAll(async () => {
  api = await startVendorApi((path, params, headers) => {
    const auth = headers.authorization;
    seen.push({ path, params, ...(auth ? { auth } : {}) });
    if (auth !== 'Api-Token dt0c01.good')
      return {
        status: 401,
        body: { error: { code: 401, message: 'Missing authorization parameter.' } },
      };
    if (path === '/api/v2/metrics')
      return { body: { totalCount: 1, metrics: [{ metricId: 'builtin:host.cpu.usage' }] } };
    return (
      answers[params.get('metricSelector') ?? ''] ?? {
        status: 400,
        body: { error: { code: 400, message: 'Metric selector is invalid' } },
      }
    );
  });
  url = api.url;
});
afterAll(() => api.stop());
beforeEach(() => {
  seen.length = 0;
  answers = {};
});

let clock = Date.parse('2026-12-04T10:00:00Z');
const provider = (token = 'dt0c01.good') =>
  new DynatraceProvider(
    {
      type: 'dynatrace',
      address: url,
      headers: { Authorization: `Api-Token ${token}` },
      insecureSkipVerify: false,
      timeoutMs: 2_000,
    },
    sharedBy({}),
    () => clock,
  );

describe('DynatraceProvider', () => {
  it('asks for one value over the metric’s window ending now (resolution Inf)', async () => {
    answers.q = { body: result([231.5]) };
    expect(await provider().measure('q', undefined, { seconds: 120 })).toEqual({
      kind: 'value',
      value: 231.5,
    });
    expect(seen[0]!.path).toBe('/api/v2/metrics/query');
    expect(Object.fromEntries(seen[0]!.params)).toEqual({
      metricSelector: 'q',
      resolution: 'Inf',
      from: String(clock - 120_000),
      to: String(clock),
    });
  });

  it.each([
    [
      'no data series',
      { totalCount: 0, result: [{ metricId: 'q', data: [] }] },
      { kind: 'no-data', reason: 'the query returned no data' },
    ],
    [
      'a null value',
      result([null]),
      { kind: 'no-data', reason: 'the series has no value in the window' },
    ],
    [
      'several series',
      result([1], [2]),
      {
        kind: 'error',
        reason:
          'the query returned 2 series; a check needs one: aggregate it (:splitBy() …) or filter it',
      },
    ],
  ] as const)('%s', async (_what, body, expected) => {
    answers.q = { body };
    expect(await provider().measure('q')).toEqual(expected);
  });

  it('says what Dynatrace said for a bad selector and a refused token', async () => {
    expect(await provider().measure('bad')).toEqual({
      kind: 'error',
      reason: 'Dynatrace answered HTTP 400: Metric selector is invalid',
    });
    expect(await provider('wrong').measure('q')).toEqual({
      kind: 'error',
      reason:
        'Dynatrace refused the query (HTTP 401): authentication required; check the secretRef credentials',
    });
  });

  it('after a 429 waits Retry-After before asking again', async () => {
    answers.q = {
      status: 429,
      body: { error: { code: 429, message: 'Too Many Requests' } },
      headers: { 'Retry-After': '20' },
    };
    const p = provider();
    expect(await p.measure('q')).toEqual({
      kind: 'error',
      reason: "Dynatrace's rate limit was reached (HTTP 429): no query for 20s",
    });
    clock += 10_000;
    expect((await p.measure('q')) as { reason: string }).toMatchObject({
      reason: "Dynatrace's rate limit: no query until it resets in 10s",
    });
    expect(seen).toHaveLength(1);
  });

  it('gives the judge every value at its step', async () => {
    answers.q = { body: result([1, null, 2], [3]) };
    expect(await provider().samples('q', { seconds: 60, stepSeconds: 5 })).toEqual({
      kind: 'samples',
      values: [1, 2, 3],
    });
    expect(seen[0]!.params.get('resolution')).toBe('5s');
  });

  it('probes by listing one metric', async () => {
    expect(await provider().probe()).toBeUndefined();
    expect(Object.fromEntries(seen[0]!.params)).toEqual({ pageSize: '1' });
    expect(await provider('wrong').probe()).toMatch(/HTTP 401/);
  });
});
