import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { manualClock, startInProcess } from '../harness/in-process.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import {
  startLoad,
  startMetricsApp,
  type LoadGenerator,
  type MetricsApp,
} from '../harness/metrics-app.js';
import { startVictoriaMetrics, type VictoriaMetrics } from '../harness/victoriametrics.js';
import { waitFor } from '../harness/wait.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  currentRun,
  installWeirCrds,
  readCanary,
  setImage,
  stepUntil,
} from '../harness/weir.js';

const canaryPod = 'podinfo-7d9f8c6b5-x2k4p';
const primaryPod = 'podinfo-primary-5c8d7f9b4-q7w2e';
const pods = `namespace="{{ namespace }}", pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`;

// Given a real VictoriaMetrics (a PromQL-compatible store, not Prometheus) scraping real
// prom-client apps, when releases are judged by MetricTemplates of type prometheus whose
// address is VictoriaMetrics, then the Prometheus provider works unchanged against it: a
// bound on the success rate rolls back the canary that fails a fifth of its requests and
// promotes the healthy one, and the judge's subquery windows come back as samples.
describe('a PromQL-compatible store: VictoriaMetrics through the Prometheus provider', () => {
  let cluster: Cluster;
  let vm: VictoriaMetrics;
  let app: App;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  let load: LoadGenerator;
  const servers: MetricsApp[] = [];
  const clock = manualClock();
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe, { maxSteps: 600 });
  const scenarios = { healthy: 0, errors: 0.2 } as const;

  beforeAll(async () => {
    const jobs = [];
    for (const [ns, errorRate] of Object.entries(scenarios)) {
      const primary = await startMetricsApp({ version: 'v1', latencyMs: 5 });
      const canary = await startMetricsApp({ version: 'v2', errorRate, latencyMs: 5 });
      servers.push(primary, canary);
      jobs.push(
        {
          job: `${ns}-primary`,
          targets: [primary.target],
          labels: { namespace: ns, pod: primaryPod },
        },
        {
          job: `${ns}-canary`,
          targets: [canary.target],
          labels: { namespace: ns, pod: canaryPod },
        },
      );
    }
    load = startLoad(
      servers.map((s) => s.url),
      40,
    );
    [cluster, vm] = await Promise.all([startCluster({ nodes: 1 }), startVictoriaMetrics(jobs)]);
    await installWeirCrds(cluster);
    ({ objects, apps } = clientsFor(cluster));
    await waitFor(
      async () =>
        (await vm.jobsWithData('count_over_time(http_request_duration_seconds_count[20s]) >= 15'))
          .size === 4
          ? true
          : undefined,
      {
        timeoutMs: 90_000,
        intervalMs: 1_000,
        what: '20 s of traffic from the four apps in VictoriaMetrics',
      },
    );
    app = await startInProcess(clientsFor(cluster).kubeConfig, { clock });
    for (const ns of Object.keys(scenarios)) {
      await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await createDeployment(apps, ns, 'podinfo', 1);
      for (const [name, query] of [
        [
          'success-rate',
          `sum(rate(http_request_duration_seconds_count{${pods}, code!~"5.."}[{{ interval }}])) / sum(rate(http_request_duration_seconds_count{${pods}}[{{ interval }}])) * 100`,
        ],
        [
          'mean-latency',
          `sum(rate(http_request_duration_seconds_sum{${pods}}[{{ interval }}])) / sum(rate(http_request_duration_seconds_count{${pods}}[{{ interval }}])) * 1000`,
        ],
      ])
        await objects.create({
          apiVersion: 'weir.dev/v1alpha1',
          kind: 'MetricTemplate',
          metadata: { name, namespace: ns },
          spec: { provider: { type: 'prometheus', address: vm.url }, query },
        } as k8s.KubernetesObject);
      await createCanary(objects, ns, 'podinfo', {
        provider: 'gatewayapi',
        service: { port: 9898, gatewayRefs: [{ name: 'public' }] },
        analysis: {
          interval: '10s',
          maxWeight: 20,
          stepWeight: 10,
          metrics: [
            {
              name: 'success-rate',
              templateRef: { name: 'success-rate' },
              interval: '10s',
              thresholdRange: { min: 99 },
            },
            {
              name: 'latency-vs-primary',
              templateRef: { name: 'mean-latency' },
              interval: '20s',
              judge: { step: '2s', minSamples: 8, tolerance: 0.5 },
            },
          ],
        },
      });
    }
    for (const ns of Object.keys(scenarios))
      await until(`${ns} Initialized`, async () =>
        (await readCanary(objects, ns, 'podinfo')).status?.phase === 'Initialized'
          ? true
          : undefined,
      );
  }, 240_000);

  afterAll(async () => {
    await load?.stop();
    await app?.stop();
    await Promise.allSettled([vm?.stop(), cluster?.stop(), ...servers.map((s) => s.stop())]);
  });

  it('promotes the healthy canary and rolls back the failing one, judged on VictoriaMetrics’ answers', async () => {
    for (const ns of Object.keys(scenarios))
      await setImage(apps, ns, 'podinfo', 'example.test/podinfo:2');
    await until('both releases to finish', async () => {
      const phases = await Promise.all(
        Object.keys(scenarios).map(
          async (ns) => (await readCanary(objects, ns, 'podinfo')).status?.phase,
        ),
      );
      return phases.every((p) => p === 'Succeeded' || p === 'Failed') ? phases : undefined;
    });

    const healthy = await currentRun(objects, 'healthy', 'podinfo');
    expect(healthy.status?.result).toBe('Promoted');
    const measured = healthy.status!.transitions!.filter((t) => t.metrics?.length);
    expect(measured.length).toBeGreaterThan(0);
    for (const t of measured) {
      expect(t.metrics!.find((m) => m.name === 'success-rate')).toMatchObject({
        passed: true,
        value: 100,
      });
      const judged = t.metrics!.find((m) => m.name === 'latency-vs-primary')!;
      expect(judged.passed, judged.message).toBe(true);
      // The subquery window came back as samples: VictoriaMetrics answers it like Prometheus.
      expect(judged.judge!.canarySamples).toBeGreaterThanOrEqual(8);
      expect(judged.judge!.primarySamples).toBeGreaterThanOrEqual(8);
    }

    const errors = await currentRun(objects, 'errors', 'podinfo');
    expect(errors.status?.result).toBe('RolledBack');
    const last = errors.status!.transitions!.at(-1)!;
    expect(last.message).toMatch(/success-rate \d+(\.\d+)? < 99/);
    const rate = last.metrics!.find((m) => m.name === 'success-rate')!;
    expect(rate.value).toBeGreaterThan(70);
    expect(rate.value).toBeLessThan(90);
  });
});
