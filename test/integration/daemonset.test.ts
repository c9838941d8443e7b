import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { parkingNodeSelector } from '../../src/workloads/daemonsets.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { canaryProbes, manualClock, startInProcess } from '../harness/in-process.js';
import { startReceiver, type Receiver } from '../harness/receiver.js';
import { clientsFor, createCanary, endedRun, installWeirCrds, stepUntil } from '../harness/weir.js';

const namespace = 'nodes';
const nodes = 2;

// Given a real control plane whose kube-controller-manager runs the DaemonSet
// controller on two KWOK nodes, Weir in-process on a manual clock, and a real
// webhook receiver as the release's check, when a DaemonSet's image changes,
// then Weir releases it as Flagger does: a primary copy serves, the target is
// parked by a node selector between releases and runs on every node during the analysis.
describe('a DaemonSet release on the real control plane', () => {
  let cluster: Cluster;
  let app: App;
  let receiver: Receiver;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  let core: k8s.CoreV1Api;
  const clock = manualClock();
  const { status, phaseIs } = canaryProbes(() => objects, namespace);
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe, { stepMs: 1_000, maxSteps: 300, settleMs: 60 });

  const daemonSet = (name: string) => apps.readNamespacedDaemonSet({ name, namespace });
  const image = async (name: string) =>
    (await daemonSet(name)).spec?.template.spec?.containers[0]?.image;
  /** Running, Ready pods selected by `app=<value>` (KWOK marks scheduled pods Ready). */
  const readyPods = async (app: string) =>
    (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items.filter(
      (p) =>
        !p.metadata?.deletionTimestamp &&
        p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
  const podCount = async (app: string) =>
    (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    ).length;
  const setImage = (name: string, to: string) =>
    apps.patchNamespacedDaemonSet(
      {
        name,
        namespace,
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: to }] } } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
  const parked = async (name: string) =>
    (await daemonSet(name)).spec?.template.spec?.nodeSelector?.[parkingNodeSelector.key] ===
    parkingNodeSelector.value;

  beforeAll(async () => {
    receiver = await startReceiver();
    cluster = await startCluster({ nodes });
    await installWeirCrds(cluster);
    const clients = clientsFor(cluster);
    ({ objects, apps } = clients);
    core = clients.kubeConfig.makeApiClient(k8s.CoreV1Api);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await apps.createNamespacedDaemonSet({
      namespace,
      body: {
        metadata: { name: 'agent', labels: { team: 'platform' } },
        spec: {
          selector: { matchLabels: { app: 'agent' } },
          template: {
            metadata: { labels: { app: 'agent' }, annotations: { 'example.test/scrape': 'true' } },
            spec: {
              nodeSelector: { 'kubernetes.io/os': 'linux' },
              containers: [{ name: 'app', image: 'example.test/agent:1' }],
            },
          },
        },
      },
    });
    app = await startInProcess(clients.kubeConfig, { clock, webhookBackoff: { backoffMs: 10 } });
  }, 240_000);

  afterAll(async () => {
    await app?.stop();
    await cluster?.stop();
    await receiver?.stop();
  });

  it('bootstraps: the primary DaemonSet runs the target template on every node, the target is parked with no pods', async () => {
    await createCanary(objects, namespace, 'agent', {
      targetRef: { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent' },
      provider: 'kubernetes',
      service: { port: 8080 },
      analysis: {
        interval: '10s',
        threshold: 2,
        iterations: 2,
        webhooks: [{ name: 'smoke', type: 'rollout', url: `${receiver.url}/smoke` }],
      },
    });
    await until('Initialized', phaseIs('agent', 'Initialized'));

    const primary = await daemonSet('agent-primary');
    expect(primary.spec?.selector.matchLabels).toEqual({ app: 'agent-primary' });
    expect(primary.metadata?.labels).toMatchObject({ team: 'platform', app: 'agent-primary' });
    expect(primary.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Canary', name: 'agent' });
    expect(primary.spec?.template.metadata?.labels).toEqual({ app: 'agent-primary' });
    expect(primary.spec?.template.metadata?.annotations).toEqual({
      'example.test/scrape': 'true',
    });
    // The target's template, never its parking key.
    expect(primary.spec?.template.spec?.containers[0]?.image).toBe('example.test/agent:1');
    expect(primary.spec?.template.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });

    // Parked: Weir's key beside the user's, and the DaemonSet controller removes the pods.
    expect(await parked('agent')).toBe(true);
    expect((await daemonSet('agent')).spec?.template.spec?.nodeSelector).toEqual({
      'kubernetes.io/os': 'linux',
      [parkingNodeSelector.key]: parkingNodeSelector.value,
    });
    await until('the canary pods gone and a primary pod on every node', async () =>
      (await podCount('agent')) === 0 && (await readyPods('agent-primary')) === nodes
        ? true
        : undefined,
    );
    // The apex Service selects the primary's pods.
    const apex = await core.readNamespacedService({ name: 'agent', namespace });
    expect(apex.spec?.selector).toEqual({ app: 'agent-primary' });
    // Parking is not a release: nothing to analyse.
    expect(receiver.on('/smoke')).toHaveLength(0);
    expect((await status('agent')).phase).toBe('Initialized');
  });

  it('releases a new image: the canary runs on every node during the analysis, then the primary takes the template and the canary is parked again', async () => {
    await setImage('agent', 'example.test/agent:2');
    let canaryPodsDuringAnalysis = 0;
    let apexDuringAnalysis: Record<string, string> | undefined;
    await until('Succeeded', async () => {
      const s = await status('agent');
      if (s.phase === 'Progressing' && (s.iterations ?? 0) >= 1) {
        canaryPodsDuringAnalysis = Math.max(canaryPodsDuringAnalysis, await readyPods('agent'));
        apexDuringAnalysis = (await core.readNamespacedService({ name: 'agent', namespace })).spec
          ?.selector;
      }
      return s.phase === 'Succeeded' ? true : undefined;
    });
    // Judged on a canary pod on every node, un-parked (the user's node selector kept).
    expect(canaryPodsDuringAnalysis).toBe(nodes);
    // The release's check ran against it.
    expect(receiver.on('/smoke').length).toBeGreaterThanOrEqual(1);
    // Blue/green with plain Services: the apex stays on the primary until promotion.
    expect(apexDuringAnalysis).toEqual({ app: 'agent-primary' });

    expect(await image('agent-primary')).toBe('example.test/agent:2');
    expect((await daemonSet('agent-primary')).spec?.template.spec?.nodeSelector).toEqual({
      'kubernetes.io/os': 'linux',
    });
    expect(await parked('agent')).toBe(true);
    // Git's image is untouched by parking.
    expect(await image('agent')).toBe('example.test/agent:2');
    await until('the canary parked with no pods, the primary at :2 on every node', async () => {
      if ((await podCount('agent')) !== 0) return undefined;
      const pods = (
        await core.listNamespacedPod({ namespace, labelSelector: 'app=agent-primary' })
      ).items.filter((p) => !p.metadata?.deletionTimestamp);
      return pods.length === nodes &&
        pods.every((p) => p.spec?.containers[0]?.image === 'example.test/agent:2')
        ? true
        : undefined;
    });
    const run = await endedRun(objects, namespace, 'agent');
    expect(run.status?.result).toBe('Promoted');
    expect(run.spec.images).toEqual({
      from: ['example.test/agent:1'],
      to: ['example.test/agent:2'],
    });
  });

  it('rolls a failing release back: the check fails `threshold` times, the primary keeps its template, the canary is parked', async () => {
    receiver.reply('/smoke', { status: 500, body: 'smoke test failed' });
    const before = receiver.on('/smoke').length;
    await setImage('agent', 'example.test/agent:3');
    let canaryPodsDuringAnalysis = 0;
    await until('Failed', async () => {
      const s = await status('agent');
      if (s.phase === 'Progressing')
        canaryPodsDuringAnalysis = Math.max(canaryPodsDuringAnalysis, await readyPods('agent'));
      return s.phase === 'Failed' ? true : undefined;
    });
    expect(canaryPodsDuringAnalysis).toBe(nodes);
    expect(receiver.on('/smoke').length - before).toBeGreaterThanOrEqual(2);
    expect(await status('agent')).toMatchObject({ phase: 'Failed', failedChecks: 2 });

    expect(await image('agent-primary')).toBe('example.test/agent:2');
    expect(await parked('agent')).toBe(true);
    await until('the canary pods gone after the rollback', async () =>
      (await podCount('agent')) === 0 && (await readyPods('agent-primary')) === nodes
        ? true
        : undefined,
    );
    const apex = await core.readNamespacedService({ name: 'agent', namespace });
    expect(apex.spec?.selector).toEqual({ app: 'agent-primary' });
    expect((await endedRun(objects, namespace, 'agent')).status?.result).toBe('RolledBack');
  });
});
