import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryRun } from '../../src/api/types.js';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import {
  startHostileServer,
  type HostileServer,
  type Hostility,
} from '../harness/hostile-server.js';
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

// Pod names as a Deployment makes them: the built-in queries tell canary from primary by them.
const canaryPod = 'podinfo-7d9f8c6b5-x2k4p';
const primaryPod = 'podinfo-primary-5c8d7f9b4-q7w2e';
const ns = 'prom-faults';
const hostileNs = 'prom-garbage';

type Transition = NonNullable<NonNullable<CanaryRun['status']>['transitions']>[number];

/** Every weight step of a run was taken on a check that measured and passed (or on none, at 0). */
function expectNoStepOnBadData(run: CanaryRun): void {
  const transitions = run.status?.transitions ?? [];
  for (const t of transitions.filter((x) => x.reason === 'StepAdvanced').slice(1))
    expect(
      t.metrics?.every((m) => m.passed && Number.isFinite(m.value)),
      said(t),
    ).toBe(true);
}
const said = (t: Transition) => `${t.reason} at ${t.weight}: ${t.message}`;

// Given a real Prometheus scraping a healthy primary and canary under load, and Weir on a
// real control plane with its clock under test control, when Prometheus stops answering,
// restarts, or a metrics server answers garbage mid-release, then no step is taken and
// nothing is promoted on missing or bad data: a short outage holds the weight for an
// inconclusive step, a long one rolls the release back as not judged (inconclusiveLimit), a
// lying answer fails the check, and every message says what was wrong with the answer.
describe('Prometheus fails or lies mid-release', () => {
  let cluster: Cluster;
  let prometheus: PrometheusServer;
  let hostile: HostileServer;
  let app: App;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  let load: LoadGenerator;
  const servers: MetricsApp[] = [];
  const clock = new ManualClock(Date.parse('2026-12-03T10:00:00Z'));
  let image = 1;

  const until = <T>(what: string, probe: () => Promise<T | undefined>, maxSteps?: number) =>
    stepUntil(app, clock, what, probe, maxSteps ? { maxSteps } : {});
  const status = async (namespace = ns) => (await readCanary(objects, namespace, 'podinfo')).status;
  const release = async (namespace = ns) => {
    image += 1;
    await setImage(apps, namespace, 'podinfo', `example.test/podinfo:${image}`);
  };
  const atWeight = (weight: number, namespace = ns) =>
    until(`${namespace} at ${weight}%`, async () => {
      const s = await status(namespace);
      return s?.phase === 'Progressing' && s.canaryWeight === weight ? s : undefined;
    });
  const ended = (namespace = ns, maxSteps?: number) =>
    until(
      `${namespace} to end`,
      async () => {
        const s = await status(namespace);
        return s?.phase === 'Succeeded' || s?.phase === 'Failed' ? s : undefined;
      },
      maxSteps,
    );

  beforeAll(async () => {
    const primary = await startMetricsApp({ version: 'v1' });
    const canary = await startMetricsApp({ version: 'v2', errorRate: 0, latencyMs: 0 });
    servers.push(primary, canary);
    load = startLoad(
      servers.map((s) => s.url),
      40,
    );
    hostile = await startHostileServer({ kind: 'prometheus', series: 1, value: '100' });
    [cluster, prometheus] = await Promise.all([
      startCluster({ nodes: 1 }),
      startPrometheus({
        jobs: [
          { job: 'primary', targets: [primary.target], labels: { namespace: ns, pod: primaryPod } },
          { job: 'canary', targets: [canary.target], labels: { namespace: ns, pod: canaryPod } },
        ],
      }),
    ]);
    await installWeirCrds(cluster);
    ({ objects, apps } = clientsFor(cluster));
    await waitFor(
      async () => {
        const rates = await prometheus.query(
          'rate(http_request_duration_seconds_count{code="200"}[10s]) > 0',
        );
        return new Set(rates.map((r) => r.metric.job)).size === 2 ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'ten seconds of traffic from both apps in Prometheus' },
    );
    const config = parseConfig(
      [
        '--metrics-bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
        `--metrics-server=${prometheus.url}`,
      ],
      {},
    )!;
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    app = createApp({
      config,
      kubeConfig: clientsFor(cluster).kubeConfig,
      logger: createLogger('info', quiet),
      clock,
    });
    await app.start();

    for (const namespace of [ns, hostileNs]) {
      await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      await createDeployment(apps, namespace, 'podinfo', 1);
    }
    const analysis = { interval: '10s', threshold: 2, maxWeight: 30, stepWeight: 10 };
    await createCanary(objects, ns, 'podinfo', {
      provider: 'gatewayapi',
      service: { port: 9898, gatewayRefs: [{ name: 'public' }] },
      analysis: {
        ...analysis,
        metrics: [{ name: 'request-success-rate', interval: '10s', thresholdRange: { min: 99 } }],
      },
    });
    // The garbage comes from a metrics server a MetricTemplate names.
    await objects.create({
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'MetricTemplate',
      metadata: { name: 'success', namespace: hostileNs },
      spec: { provider: { type: 'prometheus', address: hostile.url }, query: 'sum(up)' },
    } as k8s.KubernetesObject);
    await createCanary(objects, hostileNs, 'podinfo', {
      provider: 'gatewayapi',
      service: { port: 9898, gatewayRefs: [{ name: 'public' }] },
      analysis: {
        ...analysis,
        metrics: [
          { name: 'success', templateRef: { name: 'success' }, thresholdRange: { min: 99 } },
        ],
      },
    });
    for (const namespace of [ns, hostileNs])
      await until(`${namespace} Initialized`, async () =>
        (await status(namespace))?.phase === 'Initialized' ? true : undefined,
      );
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await app?.stop();
    await Promise.allSettled([
      prometheus?.stop(),
      cluster?.stop(),
      hostile?.stop(),
      ...servers.map((s) => s.stop()),
    ]);
  });

  it('paused for one check: that check is inconclusive, no step is taken on it, nothing counts as failed, and the release goes on to its promotion', async () => {
    await release();
    await atWeight(10);
    await prometheus.pause();
    try {
      await until('the check without an answer to be inconclusive', async () => {
        const s = await status();
        return (s?.inconclusiveChecks ?? 0) >= 1 ? s : undefined;
      });
      expect((await status())?.canaryWeight).toBe(10);
    } finally {
      await prometheus.resume();
    }
    expect((await ended()).phase).toBe('Succeeded');
    const run = await currentRun(objects, ns, 'podinfo');
    expect(run.status?.result).toBe('Promoted');
    expect(run.status!.transitions!.filter((t) => t.reason === 'CheckFailed')).toEqual([]);
    const held = run.status!.transitions!.filter((t) => t.reason === 'CheckInconclusive');
    expect(held).toHaveLength(1);
    expect(held[0]!.weight).toBe(10);
    expect(held[0]!.message).toMatch(
      /^Inconclusive checks 1\/5, holding the weight at 10: request-success-rate: Prometheus at .* did not answer within 5s/,
    );
    expect(held[0]!.metrics).toEqual([
      expect.objectContaining({ name: 'request-success-rate', passed: false, inconclusive: true }),
    ]);
    expect(
      run.status!.transitions!.filter((t) => t.reason === 'StepAdvanced').map((t) => t.weight),
    ).toEqual([10, 20, 30]);
    expectNoStepOnBadData(run);
  });

  it('paused past the inconclusive limit: the release is rolled back as not judged, not promoted', async () => {
    await release();
    await atWeight(10);
    await prometheus.pause();
    try {
      // Five steps, each waiting out a 5 s query timeout in real time while the clock moves on.
      const s = await ended(ns, 1_000);
      expect(s.phase).toBe('Failed');
      expect(s.canaryWeight).toBe(0);
    } finally {
      await prometheus.resume();
    }
    const run = await currentRun(objects, ns, 'podinfo');
    expect(run.status?.result).toBe('RolledBack');
    const transitions = run.status!.transitions!;
    expect(transitions.some((t) => t.to === 'Promoting')).toBe(false);
    expect(transitions.at(-1)!.message).toMatch(
      /^The analysis was inconclusive for 5 steps in a row \(inconclusiveLimit 5\), so the canary could not be judged: request-success-rate: Prometheus at .* did not answer within 5s/,
    );
    // The outage is not blamed on the canary: no check failed.
    expect(transitions.filter((t) => t.reason === 'CheckFailed')).toEqual([]);
    expectNoStepOnBadData(run);
  });

  it('restarted mid-release on the same data: the release is judged on answers only, and promoted', async () => {
    await release();
    await atWeight(20);
    await prometheus.restart(2_000);
    expect((await ended()).phase).toBe('Succeeded');
    const run = await currentRun(objects, ns, 'podinfo');
    expect(run.status?.result).toBe('Promoted');
    expectNoStepOnBadData(run);
  });

  // A value that lies (NaN, no series) fails the check; an answer that is no answer (not
  // JSON, too big, an error status, several series) leaves the canary unjudged.
  const garbage: [string, Hostility, RegExp, 'CheckFailed' | 'CheckInconclusive'][] = [
    ['NaN', { kind: 'prometheus', series: 1, value: 'NaN' }, /returned NaN/, 'CheckFailed'],
    [
      'invalid JSON',
      { kind: 'answer', body: '{"status":"success","data":' },
      /answered HTTP 200 with a body that is not JSON/,
      'CheckInconclusive',
    ],
    [
      '10,000 series',
      { kind: 'prometheus', series: 10_000, value: '100' },
      /series; a check needs one/,
      'CheckInconclusive',
    ],
    [
      'no series',
      { kind: 'prometheus', series: 0, value: '100' },
      /no data|returned no/i,
      'CheckFailed',
    ],
    ['1 GB body', { kind: 'huge', bytes: 1024 ** 3 }, /bytes|larger than/i, 'CheckInconclusive'],
    [
      'an error status',
      { kind: 'answer', status: 500, body: 'upstream exploded' },
      /500/,
      'CheckInconclusive',
    ],
  ];
  it.each(garbage)(
    'a metrics server that answers %s: rolled back with a message that says so, never promoted',
    async (_what, hostility, message, stepReason) => {
      hostile.set({ kind: 'prometheus', series: 1, value: '100' });
      await release(hostileNs);
      await atWeight(10, hostileNs);
      hostile.set(hostility);
      const s = await ended(hostileNs);
      expect(s.phase).toBe('Failed');
      const run = await currentRun(objects, hostileNs, 'podinfo');
      expect(run.status?.result).toBe('RolledBack');
      const transitions = run.status!.transitions!;
      expect(transitions.some((t) => t.to === 'Promoting')).toBe(false);
      expect(transitions.at(-1)!.message).toMatch(message);
      const other = stepReason === 'CheckFailed' ? 'CheckInconclusive' : 'CheckFailed';
      expect(transitions.some((t) => t.reason === stepReason)).toBe(true);
      expect(transitions.filter((t) => t.reason === other)).toEqual([]);
      expectNoStepOnBadData(run);
    },
  );
});
