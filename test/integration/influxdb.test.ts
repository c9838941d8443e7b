import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxdbProvider } from '../../src/analysis/influxdb-provider.js';
import { sharedBy } from '../../src/analysis/provider-transport.js';
import { startInfluxDB, type InfluxDB } from '../harness/influxdb.js';
import { startMetricsBed, type MetricsBed } from '../harness/metrics-bed.js';

const namespace = 'influxdb';

// Given a real InfluxDB (1.8, built from its Go module, Flux on, authentication on) fed a point
// a second, when releases are judged by a MetricTemplate of type influxdb with Flagger's Flux
// query and Secret keys, then a canary under its bound is promoted, one above it rolled back on
// its value, a wrong token is refused, no values is no data, and several tables are refused.
describe('InfluxDB metrics against a real InfluxDB', () => {
  let influx: InfluxDB;
  let bed: MetricsBed;
  let feeding: NodeJS.Timeout | undefined;
  const errors = { good: 0.2, bad: 6 } as const;
  const flux = (filter: string) =>
    `from(bucket: "${influx.database}/autogen") |> range(start: -30s) |> filter(fn: (r) => r._measurement == "errors"${filter}) |> last()`;
  const provider = (token = influx.token) =>
    new InfluxdbProvider(
      {
        type: 'influxdb',
        address: influx.url,
        headers: { Authorization: `Token ${token}` },
        insecureSkipVerify: false,
        timeoutMs: 5_000,
        settings: { org: 'weir' },
      },
      sharedBy({}),
      () => Date.now(),
    );

  beforeAll(async () => {
    [influx, bed] = await Promise.all([startInfluxDB(), startMetricsBed(namespace)]);
    const feed = () =>
      influx
        .write(
          Object.entries(errors).map(
            ([service, value]) =>
              `errors,namespace=${namespace},service=${service} value=${value} ${Date.now()}000000`,
          ),
        )
        .catch(() => undefined);
    await feed();
    feeding = setInterval(() => void feed(), 1_000);
    await bed.secret('influxdb', { token: influx.token, org: 'weir' });
    await bed.template(
      'errors',
      { type: 'influxdb', address: influx.url, secretRef: { name: 'influxdb' } },
      [
        `from(bucket: "${influx.database}/autogen")`,
        '  |> range(start: -{{ interval }})',
        '  |> filter(fn: (r) => r._measurement == "errors" and r.namespace == "{{ namespace }}" and r.service == "{{ target }}")',
        '  |> last()',
      ].join('\n'),
    );
    await bed.startController();
  }, 120_000);

  afterAll(async () => {
    if (feeding) clearInterval(feeding);
    await Promise.allSettled([bed?.stop(), influx?.stop()]);
  });

  it('reads the last value of one table; no values is no data; several tables and a wrong token are refused', async () => {
    const p = provider();
    expect(await p.measure(flux(' and r.service == "bad"'))).toEqual({ kind: 'value', value: 6 });
    expect(await p.measure(flux(' and r.service == "nobody"'))).toEqual({
      kind: 'no-data',
      reason: 'the query returned no values',
    });
    expect(await p.measure(flux(''))).toEqual({
      kind: 'error',
      reason: 'the query returned 2 tables; a check needs one: group() them or filter',
    });
    expect(await p.measure(`${flux('')} |> group() |> sum()`)).toEqual({
      kind: 'value',
      value: 6.2,
    });
    const unknown = await p.measure('nope()');
    expect(unknown).toMatchObject({ kind: 'error' });
    expect((unknown as { reason: string }).reason).toMatch(
      /^InfluxDB answered HTTP 500: .*undefined identifier/,
    );
    const samples = await p.samples(flux('').replace(' |> last()', ''), {
      seconds: 30,
      stepSeconds: 1,
    });
    expect(samples.kind).toBe('samples');
    expect(await p.probe()).toBeUndefined();
    expect(await provider('admin:wrong').probe()).toBe(
      'InfluxDB refused the query (HTTP 401): authentication required; check the secretRef credentials',
    );
  });

  it('promotes the canary under its bound and rolls back the one above it', async () => {
    for (const name of Object.keys(errors))
      await bed.release(name, { template: 'errors', interval: '30s', max: 1 });
    await bed.expectJudged('good', 'bad', { metric: 'errors', value: 0.2, badValue: 6, bound: 1 });
  });
});
