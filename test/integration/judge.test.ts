import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { history } from '../../src/cli/kube-commands.js';
import { manualClock, startInProcess } from '../harness/in-process.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import {
  startLoad,
  startMetricsApp,
  type LoadGenerator,
  type MetricsApp,
} from '../harness/metrics-app.js';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus.js';
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

/**
 * Each namespace releases the same app behind the same primary (20 ms a request); only the
 * canary differs. `idle` is scraped but receives no request.
 */
const scenarios = {
  slower: { latencyMs: 35, load: true },
  same: { latencyMs: 20, load: true },
  idle: { latencyMs: 20, load: false },
} as const;
type Scenario = keyof typeof scenarios;

const canaryPod = 'podinfo-7d9f8c6b5-x2k4p';
const primaryPod = 'podinfo-primary-5c8d7f9b4-q7w2e';
const podOf = `namespace="{{ namespace }}", pod=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"`;
/** Mean latency in ms over {{ interval }} (the judge's step): one value a step. */
const meanLatency = `sum(rate(http_request_duration_seconds_sum{${podOf}}[{{ interval }}])) / sum(rate(http_request_duration_seconds_count{${podOf}}[{{ interval }}])) * 1000`;

/** The judge as the test sets it: a 30 s window at 3 s steps, 10 or 11 values a side. */
const latencyVsPrimary = {
  name: 'latency-vs-primary',
  templateRef: { name: 'mean-latency' },
  interval: '30s',
  judge: { step: '3s', minSamples: 8 },
};

// Given a real Prometheus scraping real prom-client apps (a primary and a canary per
// namespace) and the controller on a real control plane with its clock under test control,
// when each Deployment's image changes, then the judge rolls back the canary that is 15 ms
// slower than its primary although a fixed bound set as users set it (p99 under 500 ms)
// passes, promotes the identical canary, and never promotes the canary without traffic: its
// steps are inconclusive, the weight holds, and it is rolled back as not judged.
describe('the statistical judge with a real Prometheus', () => {
  let cluster: Cluster;
  let prometheus: PrometheusServer;
  let app: App;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  let load: LoadGenerator;
  const servers: MetricsApp[] = [];
  const clock = manualClock();

  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe, { maxSteps: 600 });
  const runOf = (ns: Scenario) => currentRun(objects, ns, 'podinfo');

  beforeAll(async () => {
    const primary = await startMetricsApp({ version: 'v1', latencyMs: 20 });
    servers.push(primary);
    const jobs = [];
    const loaded = [primary.url];
    for (const [ns, s] of Object.entries(scenarios)) {
      const canary = await startMetricsApp({ version: 'v2', latencyMs: s.latencyMs });
      servers.push(canary);
      if (s.load) loaded.push(canary.url);
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
    load = startLoad(loaded, 40);
    [cluster, prometheus] = await Promise.all([
      startCluster({ nodes: 1 }),
      startPrometheus({ jobs }),
    ]);
    await installWeirCrds(cluster);
    ({ objects, apps } = clientsFor(cluster));
    // The judge reads the last 30 s: wait until Prometheus holds them for every loaded app.
    await waitFor(
      async () => {
        const held = await prometheus.query(
          'count_over_time(http_request_duration_seconds_count{code="200"}[35s]) >= 30',
        );
        return new Set(held.map((r) => r.metric.job)).size === 5 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, what: '30 s of traffic from the five loaded apps' },
    );
    app = await startInProcess(clientsFor(cluster).kubeConfig, {
      clock,
      flags: [`--metrics-server=${prometheus.url}`],
    });
    for (const [ns, s] of Object.entries(scenarios)) {
      await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await createDeployment(apps, ns, 'podinfo', 1);
      await objects.create({
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'MetricTemplate',
        metadata: { name: 'mean-latency', namespace: ns },
        spec: { provider: { type: 'prometheus', address: prometheus.url }, query: meanLatency },
      } as k8s.KubernetesObject);
      await createCanary(objects, ns, 'podinfo', {
        provider: 'gatewayapi',
        service: { port: 9898, gatewayRefs: [{ name: 'public' }] },
        analysis: {
          interval: '10s',
          maxWeight: 30,
          stepWeight: 10,
          inconclusiveLimit: 3,
          // The canary without traffic has the judge alone: a bound on its NaN would fail it.
          metrics: s.load
            ? [
                { name: 'request-duration', interval: '10s', thresholdRange: { max: 500 } },
                latencyVsPrimary,
              ]
            : [latencyVsPrimary],
        },
      });
    }
    for (const ns of Object.keys(scenarios) as Scenario[])
      await until(`${ns} Initialized`, async () =>
        (await readCanary(objects, ns, 'podinfo')).status?.phase === 'Initialized'
          ? true
          : undefined,
      );
  }, 240_000);

  afterAll(async () => {
    await load?.stop();
    await app?.stop();
    await Promise.allSettled([
      prometheus?.stop(),
      cluster?.stop(),
      ...servers.map((s) => s.stop()),
    ]);
  });

  it('rolls back the slower canary, promotes the identical one, and never promotes the one without traffic', async () => {
    for (const ns of Object.keys(scenarios))
      await setImage(apps, ns, 'podinfo', 'example.test/podinfo:2');
    const done = new Set(['Succeeded', 'Failed']);
    await until('all three releases to finish', async () => {
      const phases = await Promise.all(
        (Object.keys(scenarios) as Scenario[]).map(
          async (ns) => (await readCanary(objects, ns, 'podinfo')).status?.phase,
        ),
      );
      return phases.every((p) => p && done.has(p)) ? phases : undefined;
    });

    // 15 ms slower: the judge fails it at its first measured step; the fixed bound passes.
    const slower = await runOf('slower');
    expect(slower.status?.result).toBe('RolledBack');
    const last = slower.status!.transitions!.at(-1)!;
    expect(last.reason).toBe('RolledBack');
    expect(last.message).toMatch(
      /latency-vs-primary \d+(\.\d+)? % higher than the primary \(98 % CI \d+(\.\d+)? % to \d+(\.\d+)? %, \d+ vs \d+ samples\), beyond the 5 % allowed/,
    );
    const bound = last.metrics!.find((m) => m.name === 'request-duration')!;
    expect(bound).toMatchObject({ passed: true, max: 500 });
    expect(bound.value).toBeLessThan(500);
    const judged = last.metrics!.find((m) => m.name === 'latency-vs-primary')!;
    expect(judged.passed).toBe(false);
    expect(judged.inconclusive).toBeUndefined();
    // 35 ms against 20 ms: about 70 % higher, the whole interval far beyond 5 %.
    expect(judged.judge!.lower).toBeGreaterThan(0.3);
    expect(judged.judge!.canarySamples).toBeGreaterThanOrEqual(8);
    expect(judged.judge!.primarySamples).toBeGreaterThanOrEqual(8);
    expect(slower.status!.transitions!.some((t) => t.to === 'Promoting')).toBe(false);

    // Identical: promoted, every measured step judged and passed.
    const same = await runOf('same');
    expect(same.status?.result).toBe('Promoted');
    const steps = same.status!.transitions!.filter((t) => t.reason === 'StepAdvanced');
    expect(steps.map((t) => t.weight)).toEqual([10, 20, 30]);
    for (const t of steps.slice(1)) {
      const m = t.metrics!.find((x) => x.name === 'latency-vs-primary')!;
      expect(m, t.message).toMatchObject({ passed: true });
      expect(m.message).toMatch(/than the primary|no different from the primary/);
      expect(Math.abs(m.judge!.estimate!)).toBeLessThan(0.05);
    }

    // No traffic: every measured step inconclusive, the weight held at 10 %, rolled back as
    // not judged after three in a row, and no check counted as failed.
    const idle = await runOf('idle');
    expect(idle.status?.result).toBe('RolledBack');
    const transitions = idle.status!.transitions!;
    expect(transitions.some((t) => t.to === 'Promoting')).toBe(false);
    expect(transitions.filter((t) => t.reason === 'StepAdvanced').map((t) => t.weight)).toEqual([
      10,
    ]);
    expect(transitions.filter((t) => t.reason === 'CheckFailed')).toEqual([]);
    const held = transitions.filter((t) => t.reason === 'CheckInconclusive');
    expect(held.map((t) => [t.weight, t.inconclusiveChecks])).toEqual([
      [10, 1],
      [10, 2],
    ]);
    for (const t of held)
      expect(t.metrics![0]).toMatchObject({ passed: false, inconclusive: true });
    expect(held[0]!.message).toMatch(/latency-vs-primary: no data for the canary/);
    expect(transitions.at(-1)!.message).toMatch(
      /^The analysis was inconclusive for 3 steps in a row \(inconclusiveLimit 3\), so the canary could not be judged: latency-vs-primary: no data for the canary/,
    );
  });

  it('says it in words in weir history, and as gauges', async () => {
    const text = await history(
      { kubeConfig: clientsFor(cluster).kubeConfig, namespace: 'slower' },
      'podinfo',
    );
    expect(text).toMatch(
      /RolledBack .*latency-vs-primary \d+(\.\d+)? % higher than the primary \(98 % CI [^)]*\), beyond the 5 % allowed \(failed\)/,
    );
    const idle = await history(
      { kubeConfig: clientsFor(cluster).kubeConfig, namespace: 'idle' },
      'podinfo',
    );
    expect(idle).toMatch(/CheckInconclusive .*latency-vs-primary: no data for the canary/);
    // An outage or a silent canary is its own gauge, not a failure.
    const address = app.metricsAddress!;
    const body = await (await fetch(`http://${address.host}:${address.port}/metrics`)).text();
    expect(body).toMatch(
      /weir_canary_metric_inconclusive\{namespace="idle",name="podinfo",metric="latency-vs-primary"\} 1/,
    );
    expect(body).toMatch(
      /weir_canary_metric_failed\{namespace="idle",name="podinfo",metric="latency-vs-primary"\} 0/,
    );
    expect(body).toMatch(
      /weir_canary_metric_failed\{namespace="slower",name="podinfo",metric="latency-vs-primary"\} 1/,
    );
  });
});
