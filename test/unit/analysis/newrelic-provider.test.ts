import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NewRelicProvider } from '../../../src/analysis/newrelic-provider.js';
import { sharedBy } from '../../../src/analysis/provider-transport.js';
import { startVendorApi, type VendorApi } from '../../harness/vendor-api.js';

/**
 * The New Relic provider against a local server that speaks NerdGraph's documented NRQL
 * query (https://docs.newrelic.com/docs/apis/nerdgraph/examples/nerdgraph-nrql-tutorial/):
 * the contract, not the service.
 */
interface Seen {
  path: string;
  key?: string;
  body: { query: string; variables?: { account: number; nrql: string } };
}
const seen: Seen[] = [];
let results: Record<string, unknown> = {};
let status = 200;
let extra: Record<string, string> = {};

let api: VendorApi;
beforeAll(async () => {
  api = await startVendorApi((path, _params, headers, body) => {
    const entry = body as Seen['body'];
    const key = headers['api-key'] as string | undefined;
    seen.push({ path, body: entry, ...(key ? { key } : {}) });
    if (key !== 'NRAK-good') return { body: { errors: [{ message: 'Invalid API key' }] } };
    if (status !== 200)
      return { status, body: { errors: [{ message: 'Too many' }] }, headers: extra };
    if (!entry.variables) return { body: { data: { actor: { user: { name: 'weir' } } } } };
    const nrql = entry.variables.nrql;
    const found = Object.entries(results).find(([q]) => nrql.startsWith(q));
    if (!found)
      return { body: { errors: [{ message: `NRQL Syntax Error: Error at line 1 position 1` }] } };
    return { body: { data: { actor: { account: { nrql: { results: found[1] } } } } } };
  });
});
afterAll(() => api.stop());
beforeEach(() => {
  seen.length = 0;
  results = {};
  status = 200;
  extra = {};
});

const clock = Date.parse('2026-12-04T10:00:00Z');
const provider = (key = 'NRAK-good', accountId = '1234567') =>
  new NewRelicProvider(
    {
      type: 'newrelic',
      address: `${api.url}/graphql`,
      headers: { 'Api-Key': key },
      insecureSkipVerify: false,
      timeoutMs: 2_000,
      settings: { accountId },
    },
    sharedBy({}),
    () => clock,
  );

describe('NewRelicProvider', () => {
  it('sends NRQL with the window added, the account and NRQL as variables, to the address itself', async () => {
    results['SELECT percentage'] = [{ 'percentage.result': 99.5 }];
    const q =
      "SELECT percentage(count(*), WHERE httpResponseCode < 500) FROM Transaction WHERE appName = 'podinfo'";
    expect(await provider().measure(q, undefined, { seconds: 120 })).toEqual({
      kind: 'value',
      value: 99.5,
    });
    expect(seen[0]!.path).toBe('/graphql');
    expect(seen[0]!.key).toBe('NRAK-good');
    expect(seen[0]!.body.variables).toEqual({
      account: 1234567,
      nrql: `${q} SINCE 120 SECONDS AGO`,
    });
    // The NRQL never becomes part of the GraphQL text.
    expect(seen[0]!.body.query).not.toContain('podinfo');
  });

  it.each([
    ['no rows', [], { kind: 'no-data', reason: 'the query returned no rows' }],
    ['a null', [{ average: null }], { kind: 'no-data', reason: 'the row has no number' }],
    [
      'a FACET',
      [
        { average: 1, facet: 'a' },
        { average: 2, facet: 'b' },
      ],
      {
        kind: 'error',
        reason: 'the query returned 2 rows; a check needs one: remove FACET or TIMESERIES',
      },
    ],
    [
      'two numbers',
      [{ a: 1, b: 2 }],
      {
        kind: 'error',
        reason: 'the query returned 2 numbers in its row; a check needs one: select one value',
      },
    ],
  ] as const)('%s', async (_what, rows, expected) => {
    results.SELECT = rows;
    expect(await provider().measure('SELECT x FROM y')).toEqual(expected);
  });

  it('names GraphQL errors (which come with HTTP 200) and a refused key', async () => {
    expect(await provider().measure('FROM nowhere')).toEqual({
      kind: 'error',
      reason: 'New Relic refused the query: NRQL Syntax Error: Error at line 1 position 1',
    });
    expect(await provider('NRAK-bad').measure('SELECT 1')).toEqual({
      kind: 'error',
      reason: 'New Relic refused the query: Invalid API key',
    });
    expect(await provider('NRAK-bad').probe()).toBe('New Relic refused the query: Invalid API key');
    expect(await provider().probe()).toBeUndefined();
  });

  it('after a 429 waits Retry-After', async () => {
    status = 429;
    extra = { 'Retry-After': '5' };
    const p = provider();
    expect(await p.measure('SELECT 1')).toEqual({
      kind: 'error',
      reason: "New Relic's rate limit was reached (HTTP 429): no query for 5s",
    });
    expect(((await p.measure('SELECT 1')) as { reason: string }).reason).toMatch(
      /no query until it resets/,
    );
    expect(seen).toHaveLength(1);
  });

  it('gives the judge one value per TIMESERIES bucket', async () => {
    results.SELECT = [
      { beginTimeSeconds: 1, endTimeSeconds: 6, average: 10 },
      { beginTimeSeconds: 6, endTimeSeconds: 11, average: null },
      { beginTimeSeconds: 11, endTimeSeconds: 16, average: 12 },
    ];
    expect(
      await provider().samples('SELECT average(duration) FROM Transaction', {
        seconds: 60,
        stepSeconds: 5,
      }),
    ).toEqual({
      kind: 'samples',
      values: [10, 12],
    });
    expect(seen[0]!.body.variables!.nrql).toBe(
      'SELECT average(duration) FROM Transaction SINCE 60 SECONDS AGO TIMESERIES 5 SECONDS',
    );
  });
});
