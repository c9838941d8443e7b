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

/** Each namespace releases the same app; only the canary's behaviour differs. */
const scenarios = {
  healthy: { errorRate: 0, latencyMs: 0 },
  errors: { errorRate: 0.2, latencyMs: 0 },
  slow: { errorRate: 0, latencyMs: 300 },
} as const;
type Scenario = keyof typeof scenarios;

// Pod names as a Deployment would make them: the built-in queries tell the canary
// (`podinfo-<hash>-<hash>`) from the primary (`podinfo-primary-<hash>-<hash>`) by them.
const canaryPod = 'podinfo-7d9f8c6b5-x2k4p';
const primaryPod = 'podinfo-primary-5c8d7f9b4-q7w2e';

// Given a real Prometheus scraping real HTTP apps in the primary and canary roles
// under steady load, and the controller on a real control plane with its clock
// under test control, when each Deployment's image changes, then the built-in
// metrics promote the healthy canary and roll back the failing and the slow one.
describe('metric analysis with a real Prometheus', () => {
  let cluster: Cluster;
  let prometheus: PrometheusServer;
  let app: App;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  let load: LoadGenerator;
  const servers: MetricsApp[] = [];
  const clock = manualClock();

  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe);
  const phaseOf = async (ns: Scenario) => (await readCanary(objects, ns, 'podinfo')).status?.phase;
  const runOf = (ns: Scenario) => currentRun(objects, ns, 'podinfo');

  beforeAll(async () => {
    const jobs = [];
    for (const [ns, behaviour] of Object.entries(scenarios)) {
      const primary = await startMetricsApp({ version: 'v1' });
      const canary = await startMetricsApp({ version: 'v2', ...behaviour });
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
    [cluster, prometheus] = await Promise.all([
      startCluster({ nodes: 1 }),
      startPrometheus({ jobs }),
    ]);
    await installWeirCrds(cluster);
    ({ objects, apps } = clientsFor(cluster));
    for (const ns of Object.keys(scenarios)) {
      await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await createDeployment(apps, ns, 'podinfo', 1);
    }
    // Every app must have a 10 s window of traffic in Prometheus before a release is judged.
    await waitFor(
      async () => {
        const rates = await prometheus.query(
          'rate(http_request_duration_seconds_count{code="200"}[10s]) > 0',
        );
        return new Set(rates.map((r) => r.metric.job)).size === 6 ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'ten seconds of traffic from all six apps in Prometheus' },
    );
    app = await startInProcess(clientsFor(cluster).kubeConfig, {
      clock,
      flags: [`--metrics-server=${prometheus.url}`],
    });
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await app?.stop();
    await Promise.allSettled([
      prometheus?.stop(),
      cluster?.stop(),
      ...servers.map((s) => s.stop()),
    ]);
  });

  it('probes Prometheus before the first release and says it answers', async () => {
    for (const ns of Object.keys(scenarios) as Scenario[]) {
      await createCanary(objects, ns, 'podinfo', {
        provider: 'gatewayapi',
        service: { port: 9898, gatewayRefs: [{ name: 'public' }] },
        analysis: {
          interval: '10s',
          threshold: 2,
          maxWeight: 30,
          stepWeight: 10,
          metrics: [
            {
              name: 'request-success-rate',
              interval: '10s',
              thresholdRange: { min: 99 },
              comparePrimary: { minDelta: -1 },
            },
            { name: 'request-duration', interval: '10s', thresholdRange: { max: 200 } },
          ],
        },
      });
    }
    // A Canary whose Prometheus does not answer says so before any release.
    await createDeployment(apps, 'healthy', 'nowhere', 1);
    await createCanary(objects, 'healthy', 'nowhere', {
      metricsServer: 'http://127.0.0.1:1',
      service: { port: 9898, gatewayRefs: [{ name: 'public' }] },
      analysis: {
        interval: '10s',
        maxWeight: 30,
        stepWeight: 10,
        metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
      },
    });
    const down = await until('MetricsAvailable=False for the unreachable Prometheus', async () => {
      const c = await readCanary(objects, 'healthy', 'nowhere');
      const cond = c.status?.conditions?.find((x) => x.type === 'MetricsAvailable');
      return cond?.status === 'False' ? cond : undefined;
    });
    expect(down).toMatchObject({
      reason: 'ProviderUnavailable',
      message: 'Prometheus at http://127.0.0.1:1 is unreachable (ECONNREFUSED)',
    });
    for (const ns of Object.keys(scenarios) as Scenario[]) {
      await until(`${ns} initialized with MetricsAvailable`, async () => {
        const c = await readCanary(objects, ns, 'podinfo');
        const cond = c.status?.conditions?.find((x) => x.type === 'MetricsAvailable');
        return c.status?.phase === 'Initialized' && cond?.status === 'True' ? cond : undefined;
      });
    }
  });

  it('promotes the healthy canary, rolls back the 5xx one on success rate and the slow one on duration', async () => {
    for (const ns of Object.keys(scenarios))
      await setImage(apps, ns, 'podinfo', 'example.test/podinfo:2');
    const done = new Set(['Succeeded', 'Failed']);
    await until('all three releases to finish', async () => {
      const phases = await Promise.all((Object.keys(scenarios) as Scenario[]).map(phaseOf));
      return phases.every((p) => p && done.has(p)) ? phases : undefined;
    });
    expect(await phaseOf('healthy')).toBe('Succeeded');
    expect(await phaseOf('errors')).toBe('Failed');
    expect(await phaseOf('slow')).toBe('Failed');

    // The healthy release: every step carries the measured values, all passing.
    const healthy = await runOf('healthy');
    expect(healthy.status?.result).toBe('Promoted');
    const steps = healthy.status!.transitions!.filter((t) => t.reason === 'StepAdvanced');
    expect(steps.map((t) => t.weight)).toEqual([10, 20, 30]);
    // The first step moves the first traffic: nothing to measure yet (as in Flagger).
    expect(steps[0]!.metrics).toBeUndefined();
    for (const t of steps.slice(1)) {
      const rate = t.metrics!.find((m) => m.name === 'request-success-rate')!;
      expect(rate).toMatchObject({ passed: true, value: 100, primaryValue: 100, min: 99 });
      const duration = t.metrics!.find((m) => m.name === 'request-duration')!;
      expect(duration.passed).toBe(true);
      expect(duration.value).toBeLessThan(200);
    }

    // 5xx: two failed checks (threshold 2), then rolled back; the run shows the values that caused it.
    const errors = await runOf('errors');
    expect(errors.status?.result).toBe('RolledBack');
    const failed = errors.status!.transitions!.filter(
      (t) => t.reason === 'CheckFailed' || t.reason === 'RolledBack',
    );
    expect(failed.map((t) => t.reason)).toEqual(['CheckFailed', 'RolledBack']);
    for (const t of failed) {
      const rate = t.metrics!.find((m) => m.name === 'request-success-rate')!;
      expect(rate.passed).toBe(false);
      expect(rate.value).toBeGreaterThan(70);
      expect(rate.value).toBeLessThan(90);
      expect(rate.primaryValue).toBe(100);
      expect(t.message).toMatch(/request-success-rate \d+(\.\d+)?% < 99%/);
      expect(t.metrics!.find((m) => m.name === 'request-duration')!.passed).toBe(true);
    }
    expect((await readCanary(objects, 'errors', 'podinfo')).status?.canaryWeight).toBe(0);

    // Slow: the success rate is fine, the P99 is not.
    const slow = await runOf('slow');
    expect(slow.status?.result).toBe('RolledBack');
    const last = slow.status!.transitions!.at(-1)!;
    expect(last.reason).toBe('RolledBack');
    expect(last.message).toMatch(/request-duration \d+(\.\d+)?ms > 200ms/);
    expect(last.metrics!.find((m) => m.name === 'request-success-rate')!.passed).toBe(true);
    expect(last.metrics!.find((m) => m.name === 'request-duration')!.value).toBeGreaterThan(250);
  });

  it('shows the values in weir history and as gauges on /metrics', async () => {
    const text = await history(
      { kubeConfig: clientsFor(cluster).kubeConfig, namespace: 'errors' },
      'podinfo',
    );
    expect(text).toMatch(/RolledBack .*request-success-rate=\d+(\.\d+)? \(failed, min 99\)/);
    const address = app.metricsAddress!;
    const body = await (await fetch(`http://${address.host}:${address.port}/metrics`)).text();
    expect(body).toMatch(
      /weir_canary_metric_value\{namespace="errors",name="podinfo",metric="request-success-rate"\} [0-9.]+/,
    );
    expect(body).toMatch(
      /weir_canary_metric_failed\{namespace="slow",name="podinfo",metric="request-duration"\} 1/,
    );
    expect(body).toMatch(/weir_metric_queries_total\{provider="prometheus",outcome="value"\} \d+/);
  });
});
