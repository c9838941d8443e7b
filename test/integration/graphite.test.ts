import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphiteProvider } from '../../src/analysis/graphite-provider.js';
import { sharedBy } from '../../src/analysis/provider-transport.js';
import type { App } from '../../src/app.js';
import { startGraphite, type Graphite } from '../harness/graphite.js';
import { canaryProbes, manualClock, startInProcess } from '../harness/in-process.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import {
  clientsFor,
  currentRun,
  installWeirCrds,
  startTemplateRelease,
  stepUntil,
} from '../harness/weir.js';
import { waitFor } from '../harness/wait.js';

const namespace = 'graphite';

// Given a real Graphite (Debian's carbon-cache and graphite-web) fed points every second, when
// releases are judged by a MetricTemplate of type graphite, then Weir reads graphite-web's
// render API as Flagger does: a canary under its bound is promoted, one above it rolled back on
// its value, a target without points is no data, and several targets are refused.
describe('Graphite metrics against a real graphite-web', () => {
  let graphite: Graphite;
  let cluster: Cluster;
  let app: App;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  let feeding: NodeJS.Timeout | undefined;
  const clock = manualClock();
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe);
  const { phaseIs } = canaryProbes(() => objects, namespace);
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
    [graphite, cluster] = await Promise.all([startGraphite(), startCluster({ nodes: 1 })]);
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
    await installWeirCrds(cluster);
    const clients = clientsFor(cluster);
    ({ objects, apps } = clients);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await objects.create({
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'MetricTemplate',
      metadata: { name: 'errors', namespace },
      spec: {
        provider: { type: 'graphite', address: graphite.url },
        query: 'target=weir.{{ namespace }}.{{ target }}.errors',
      },
    } as k8s.KubernetesObject);
    app = await startInProcess(clients.kubeConfig, { clock });
  }, 120_000);

  afterAll(async () => {
    if (feeding) clearInterval(feeding);
    await app?.stop();
    await Promise.allSettled([cluster?.stop(), graphite?.stop()]);
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
    for (const name of Object.keys(errors)) {
      await startTemplateRelease({ objects, apps }, until, phaseIs, namespace, name, {
        template: 'errors',
        interval: '30s',
        max: 1,
      });
    }
    await until('good Succeeded', phaseIs('good', 'Succeeded'));
    await until('bad Failed', phaseIs('bad', 'Failed'));
    const good = await currentRun(objects, namespace, 'good');
    const measured = good.status!.transitions!.flatMap((t) => t.metrics ?? []);
    expect(measured.length).toBeGreaterThan(0);
    for (const m of measured) expect(m).toMatchObject({ name: 'errors', value: 0.2, passed: true });
    const bad = await currentRun(objects, namespace, 'bad');
    expect(bad.status?.result).toBe('RolledBack');
    expect(bad.status!.transitions!.at(-1)!.message).toMatch(/errors 6 > 1/);
  });
});
