import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InfluxdbProvider, readTables } from '../../../src/analysis/influxdb-provider.js';
import { sharedBy } from '../../../src/analysis/provider-transport.js';
import { startVendorApi, type VendorApi } from '../../harness/vendor-api.js';

/**
 * What the InfluxDB provider makes of answers a real InfluxDB does not give on demand (a
 * 429, a Flux error table, a garbled body). Its ordinary path runs against a real InfluxDB in
 * test/integration/influxdb.test.ts.
 */
describe('readTables (Flux CSV without annotations)', () => {
  it('reads _value per table, across blocks, in order, quoted fields and empty values too', () => {
    const csv = [
      ',result,table,_time,_value,service',
      ',_result,0,2026-12-04T10:00:00Z,1.5,"a,b"',
      ',_result,0,2026-12-04T10:00:10Z,,"a,b"',
      ',_result,0,2026-12-04T10:00:20Z,2.5,"a,b"',
      '',
      ',result,table,_value',
      ',_result,1,7',
      '',
    ].join('\r\n');
    expect(readTables(csv)).toEqual([
      { id: '_result/0', values: [1.5, 2.5] },
      { id: '_result/1', values: [7] },
    ]);
    expect(readTables('')).toEqual([]);
  });

  it('turns an error block into an error, and a table without _value into advice', () => {
    expect(
      readTables(',error,reference\r\n,"type error 1:1-1:5: undefined identifier nope",\r\n'),
    ).toEqual({
      error: 'type error 1:1-1:5: undefined identifier nope',
    });
    expect(readTables(',result,table,mean\r\n,_result,0,3\r\n')).toEqual({
      error: 'a table has no _value column: keep _value (or rename the column to it)',
    });
  });
});

describe('InfluxdbProvider', () => {
  let api: VendorApi;
  let reply: { status: number; text: string; headers?: Record<string, string> };
  const seen: { auth?: string; org?: string | null; body: unknown }[] = [];
  beforeAll(async () => {
    api = await startVendorApi((_path, params, headers, body) => {
      seen.push({ auth: headers.authorization, org: params.get('org'), body });
      return {
        status: reply.status,
        body: undefined,
        text: reply.text,
        headers: reply.headers ?? {},
      };
    });
  });
  afterAll(() => api.stop());
  beforeEach(() => (seen.length = 0));
  let clock = Date.parse('2026-12-04T10:00:00Z');
  const provider = () =>
    new InfluxdbProvider(
      {
        type: 'influxdb',
        address: api.url,
        headers: { Authorization: 'Token t0ken' },
        insecureSkipVerify: false,
        timeoutMs: 2_000,
        settings: { org: 'shop' },
      },
      sharedBy({}),
      () => clock,
    );

  it('sends Flux with the token and org, and refuses several tables for one check', async () => {
    reply = { status: 200, text: ',result,table,_value\r\n,_result,0,1\r\n,_result,1,2\r\n' };
    expect(await provider().measure('from(bucket: "b")')).toEqual({
      kind: 'error',
      reason: 'the query returned 2 tables; a check needs one: group() them or filter',
    });
    expect(seen[0]).toEqual({
      auth: 'Token t0ken',
      org: 'shop',
      body: {
        query: 'from(bucket: "b")',
        type: 'flux',
        dialect: { header: true, annotations: [], delimiter: ',' },
      },
    });
  });

  it('says what InfluxDB refused, and pauses after a 429', async () => {
    reply = { status: 400, text: '{"code":"invalid","message":"compilation failed: bad"}' };
    expect(await provider().measure('x')).toEqual({
      kind: 'error',
      reason: 'InfluxDB answered HTTP 400: invalid: compilation failed: bad',
    });
    const p = provider();
    reply = { status: 429, text: '{"code":"too many requests"}', headers: { 'Retry-After': '12' } };
    expect(await p.measure('x')).toEqual({
      kind: 'error',
      reason: "InfluxDB's rate limit was reached (HTTP 429): no query for 12s",
    });
    clock += 11_000;
    expect(await p.measure('x')).toEqual({
      kind: 'error',
      reason: "InfluxDB's rate limit: no query until it resets in 1s",
    });
    expect(seen).toHaveLength(2);
  });
});
