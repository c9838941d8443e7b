import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphiteProvider } from '../../src/analysis/graphite-provider.js';
import { sharedBy } from '../../src/analysis/provider-transport.js';
import { startGraphite, type Graphite } from '../harness/graphite.js';
import { startMetricsBed, type MetricsBed } from '../harness/metrics-bed.js';
import { waitFor } from '../harness/wait.js';

const namespace = 'graphite';

// Given a real Graphite (Debian's carbon-cache and graphite-web) fed points every second, when
// releases are judged by a MetricTemplate of type graphite, then Weir reads graphite-web's
// render API as Flagger does: a canary under its bound is promoted, one above it rolled back on
// its value, a target without points is no data, and several targets are refused.
describe('Graphite metrics against a real graphite-web', () => {
  let graphite: Graphite;
  let bed: MetricsBed;
  let feeding: NodeJS.Timeout | undefined;
  const errors = { good: 0.2, bad: 6 } as const;
  const provider = () =>
    new GraphiteProvider(
      {
        type: 'graphite',
        address: graphite.url,
        headers: {},
        insecureSkipVerify: false,
        timeoutMs: 5_000,
      },
      sharedBy({}),
      () => Date.now(),
    );

  beforeAll(async () => {
    [graphite, bed] = await Promise.all([startGraphite(), startMetricsBed(namespace)]);
    // One point a second for each canary's error rate, as an app's statsd would send.
    const feed = () =>
      graphite
        .send(
          Object.entries(errors).map(([name, value]) => ({
            name: `weir.${namespace}.${name}.errors`,
            value,
          })),
        )
        .catch(() => undefined);
    await feed();
    feeding = setInterval(() => void feed(), 1_000);
    await waitFor(
      async () => {
        const m = await provider().measure(`target=weir.${namespace}.good.errors`, undefined, {
          seconds: 30,
        });
        return m.kind === 'value' ? m : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the first points in Graphite' },
    );
    await bed.template(
      'errors',
      { type: 'graphite', address: graphite.url },
      'target=weir.{{ namespace }}.{{ target }}.errors',
    );
    await bed.startController();
  }, 120_000);

  afterAll(async () => {
    if (feeding) clearInterval(feeding);
    await Promise.allSettled([bed?.stop(), graphite?.stop()]);
  });

  it('reads the newest point of one target; no points is no data; several targets are refused', async () => {
    const p = provider();
    expect(
      await p.measure(`target=weir.${namespace}.bad.errors`, undefined, { seconds: 30 }),
    ).toEqual({ kind: 'value', value: 6 });
    expect(await p.measure('target=weir.nothing.here', undefined, { seconds: 30 })).toEqual({
      kind: 'no-data',
      reason: 'the query returned no points',
    });
    expect(await p.measure(`target=weir.${namespace}.*.errors`)).toEqual({
      kind: 'error',
      reason:
        'the query returned 2 targets with data; a check needs one: aggregate them (sumSeries, averageSeries …)',
    });
    const aggregated = await p.measure(`target=sumSeries(weir.${namespace}.*.errors)`);
    expect(aggregated).toEqual({ kind: 'value', value: 6.2 });
    const samples = await p.samples(`target=weir.${namespace}.good.errors`, {
      seconds: 20,
      stepSeconds: 1,
    });
    expect(samples.kind).toBe('samples');
    expect(await p.probe()).toBeUndefined();
  });

  it('promotes the canary under its bound and rolls back the one above it', async () => {
    for (const name of Object.keys(errors))
      await bed.release(name, { template: 'errors', interval: '30s', max: 1 });
    await bed.expectJudged('good', 'bad', { metric: 'errors', value: 0.2, badValue: 6, bound: 1 });
  });
});
