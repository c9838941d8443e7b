import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatadogProvider } from '../../../src/analysis/datadog-provider.js';
import { sharedBy } from '../../../src/analysis/provider-transport.js';
import { startVendorApi, type ApiAnswer, type VendorApi } from '../../harness/vendor-api.js';

/**
 * The Datadog provider against a local server that speaks Datadog's documented metrics API
 * (v1 query and validate: https://docs.datadoghq.com/api/latest/metrics/,
 * https://docs.datadoghq.com/api/latest/authentication/): the contract, not the service.
 */
interface Seen {
  path: string;
  params: URLSearchParams;
  apiKey?: string;
  appKey?: string;
}
const seen: Seen[] = [];
let answers: Record<string, ApiAnswer> = {};

const series = (...pointlists: (number | null)[][][]) => ({
  status: 'ok',
  series: pointlists.map((pointlist) => ({ metric: 'trace.http.request.errors', pointlist })),
});

let api: VendorApi;
let url: string;
beforeAll(async () => {
  api = await startVendorApi((path, params, headers) => {
    const entry: Seen = { path, params };
    const apiKey = headers['dd-api-key'];
    const appKey = headers['dd-application-key'];
    if (typeof apiKey === 'string') entry.apiKey = apiKey;
    if (typeof appKey === 'string') entry.appKey = appKey;
    seen.push(entry);
    // Datadog's answer to a wrong key: 403 with its errors list.
    if (apiKey !== 'api-key' || (path === '/api/v1/query' && appKey !== 'app-key'))
      return { status: 403, body: { errors: ['Forbidden'] } };
    if (path === '/api/v1/validate') return { body: { valid: true } };
    return answers[params.get('query') ?? ''] ?? { status: 400, body: { errors: ['unknown'] } };
  });
  url = api.url;
});
afterAll(() => api.stop());
beforeEach(() => {
  seen.length = 0;
  answers = {};
});

let clock = Date.parse('2026-12-04T10:00:00Z');
const provider = (keys = { api: 'api-key', app: 'app-key' }) =>
  new DatadogProvider(
    {
      type: 'datadog',
      address: url,
      headers: { 'DD-API-KEY': keys.api, 'DD-APPLICATION-KEY': keys.app },
      insecureSkipVerify: false,
      timeoutMs: 2_000,
    },
    sharedBy({}),
    () => clock,
  );

describe('DatadogProvider', () => {
  it('asks for the metric’s window ending now, with both keys, and reads the newest complete point', async () => {
    answers.q = {
      body: series([
        [1_764_842_340_000, 0.5],
        [1_764_842_360_000, 0.75],
        [1_764_842_380_000, 0.1],
      ]),
    };
    const m = await provider().measure('q', undefined, { seconds: 60 });
    expect(m).toEqual({ kind: 'value', value: 0.75 });
    const to = Math.floor(clock / 1000);
    expect(seen[0]).toMatchObject({ path: '/api/v1/query', apiKey: 'api-key', appKey: 'app-key' });
    expect(Object.fromEntries(seen[0]!.params)).toEqual({
      query: 'q',
      from: String(to - 60),
      to: String(to),
    });
  });

  it.each([
    ['a single point', series([[1, 4.2]]), { kind: 'value', value: 4.2 }],
    [
      'gaps (null points) skipped',
      series([
        [1, 3],
        [2, null],
        [3, 5],
        [4, null],
      ]),
      { kind: 'value', value: 3 },
    ],
    [
      'no series',
      { status: 'ok', series: [] },
      { kind: 'no-data', reason: 'the query returned no series' },
    ],
    [
      'only gaps',
      series([[1, null]]),
      { kind: 'no-data', reason: 'the series has no points in the window' },
    ],
    [
      'several series',
      series([[1, 1]], [[1, 2]]),
      {
        kind: 'error',
        reason:
          'the query returned 2 series; a check needs one: aggregate it (sum:, avg: …) or filter by tags',
      },
    ],
    [
      'an error status in the body',
      { status: 'error', error: 'Rate limit of 300 requests in 3600 seconds reached' },
      {
        kind: 'error',
        reason: 'Datadog answered HTTP 200: Rate limit of 300 requests in 3600 seconds reached',
      },
    ],
  ] as const)('%s', async (_what, body, expected) => {
    answers.q = { body };
    expect(await provider().measure('q', undefined, { seconds: 60 })).toEqual(expected);
  });

  it('says what Datadog said for a bad query and a refused key', async () => {
    answers.bad = { status: 400, body: { errors: ['Error parsing query: unable to parse avg(:'] } };
    expect(await provider().measure('bad')).toEqual({
      kind: 'error',
      reason: 'Datadog answered HTTP 400: Error parsing query: unable to parse avg(:',
    });
    expect(await provider({ api: 'api-key', app: 'wrong' }).measure('q')).toEqual({
      kind: 'error',
      reason: 'Datadog refused the query (HTTP 403): not authorised',
    });
  });

  it('after a 429 sends nothing until the limit resets, and says so', async () => {
    answers.q = {
      status: 429,
      body: { errors: ['Too many requests'] },
      headers: { 'X-RateLimit-Reset': '42' },
    };
    const p = provider();
    expect(await p.measure('q')).toEqual({
      kind: 'error',
      reason: "Datadog's rate limit was reached (HTTP 429): no query for 42s",
    });
    answers.q = { body: series([[1, 1]]) };
    clock += 30_000;
    expect(await p.measure('q')).toEqual({
      kind: 'error',
      reason: "Datadog's rate limit: no query until it resets in 12s",
    });
    expect(seen).toHaveLength(1);
    clock += 12_000;
    expect(await p.measure('q')).toEqual({ kind: 'value', value: 1 });
    expect(seen).toHaveLength(2);
  });

  it('bounds the wait a 429 imposes, whatever its reset says', async () => {
    answers.q = { status: 429, body: {}, headers: { 'X-RateLimit-Reset': '99999999' } };
    expect(await provider().measure('q')).toEqual({
      kind: 'error',
      reason: "Datadog's rate limit was reached (HTTP 429): no query for 600s",
    });
  });

  it('gives the judge every point of every series over the window', async () => {
    answers.q = {
      body: series(
        [
          [1, 1],
          [2, null],
          [3, 2],
        ],
        [[1, 3]],
      ),
    };
    expect(await provider().samples('q', { seconds: 120, stepSeconds: 5 })).toEqual({
      kind: 'samples',
      values: [1, 2, 3],
    });
    expect(seen[0]!.params.get('from')).toBe(String(Math.floor(clock / 1000) - 120));
  });

  it('probes with the validate endpoint: a refused API key is a problem named as such', async () => {
    expect(await provider().probe()).toBeUndefined();
    expect(seen[0]!.path).toBe('/api/v1/validate');
    expect(await provider({ api: 'nope', app: 'app-key' }).probe()).toBe(
      'Datadog refused the query (HTTP 403): not authorised',
    );
  });
});
