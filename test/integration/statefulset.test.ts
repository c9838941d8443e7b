import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { podRevisionLabel } from '../../src/workloads/statefulsets.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { canaryProbes, manualClock, startInProcess } from '../harness/in-process.js';
import { startReceiver, type Receiver } from '../harness/receiver.js';
import { clientsFor, createCanary, endedRun, installWeirCrds, stepUntil } from '../harness/weir.js';

const namespace = 'stateful';
const name = 'ledger';
const replicas = 3;
const ordinals = [0, 1, 2];

/** A pod of the StatefulSet as the test follows it. */
interface PodView {
  name: string;
  uid: string;
  revision: string;
  image: string;
  claim: string | undefined;
  ready: boolean;
}

// Given a real control plane whose kube-controller-manager runs the StatefulSet and
// PersistentVolume controllers on KWOK nodes, Weir in-process on a manual clock and
// a real webhook receiver as the release's check, when a StatefulSet's image
// changes, then Weir releases it in place by its update partition (ADR 0019): a
// share of the pods at a time, highest ordinals first, each pod keeping its name
// and its claim; a failed release is rolled back by recreating the updated pods at
// the current revision, one at a time, while Git's template is left as it is.
describe('a StatefulSet release on the real control plane', () => {
  let cluster: Cluster;
  let app: App;
  let receiver: Receiver;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  let core: k8s.CoreV1Api;
  const clock = manualClock();
  const { status, phaseIs } = canaryProbes(() => objects, namespace);
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe, { stepMs: 1_000, maxSteps: 400, settleMs: 60 });

  const statefulSet = () => apps.readNamespacedStatefulSet({ name, namespace });
  const partition = async () =>
    (await statefulSet()).spec?.updateStrategy?.rollingUpdate?.partition;
  const pods = async (): Promise<PodView[]> =>
    (await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` })).items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => ({
        name: p.metadata!.name!,
        uid: p.metadata!.uid!,
        revision: p.metadata?.labels?.[podRevisionLabel] ?? '',
        image: p.spec?.containers[0]?.image ?? '',
        claim: p.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName,
        ready: Boolean(
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  /** The pods' images, by name, once all are there and Ready. */
  const imagesWhenReady = async () => {
    const list = await pods();
    return list.length === replicas && list.every((p) => p.ready)
      ? Object.fromEntries(list.map((p) => [p.name, p.image]))
      : undefined;
  };
  const claimUids = async () =>
    Object.fromEntries(
      (await core.listNamespacedPersistentVolumeClaim({ namespace })).items.map((c) => [
        c.metadata!.name!,
        c.metadata!.uid!,
      ]),
    );
  const setImage = (to: string) =>
    apps.patchNamespacedStatefulSet(
      {
        name,
        namespace,
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: to }] } } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
  const images = (tag: number, updated: number[]) =>
    Object.fromEntries(
      ordinals.map((i) => [
        `${name}-${i}`,
        `example.test/${name}:${updated.includes(i) ? tag : tag - 1}`,
      ]),
    );

  beforeAll(async () => {
    receiver = await startReceiver();
    cluster = await startCluster({ nodes: 2 });
    await installWeirCrds(cluster);
    const clients = clientsFor(cluster);
    ({ objects, apps } = clients);
    core = clients.kubeConfig.makeApiClient(k8s.CoreV1Api);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    // One volume a pod, bound to its claim by name: KWOK runs no provisioner.
    for (const i of ordinals)
      await core.createPersistentVolume({
        body: {
          metadata: { name: `${namespace}-data-${i}` },
          spec: {
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            storageClassName: '',
            hostPath: { path: `/var/lib/weir-test/${namespace}-${i}` },
            claimRef: { namespace, name: `data-${name}-${i}` },
          },
        },
      });
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name, labels: { team: 'payments' } },
        spec: {
          replicas,
          serviceName: name,
          podManagementPolicy: 'Parallel',
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'app', image: `example.test/${name}:1` }] },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: {
                accessModes: ['ReadWriteOnce'],
                storageClassName: '',
                resources: { requests: { storage: '1Gi' } },
              },
            },
          ],
        },
      },
    });
    app = await startInProcess(clients.kubeConfig, {
      clock,
      webhookBackoff: { backoffMs: 10 },
      flags: ['--statefulsets'],
    });
  }, 240_000);

  afterAll(async () => {
    await app?.stop();
    await cluster?.stop();
    await receiver?.stop();
  });

  it('bootstraps in place: no primary, no Service; the partition holds every pod at the current revision', async () => {
    await until('the pods Ready with their claims bound', async () =>
      (await imagesWhenReady()) ? true : undefined,
    );
    await createCanary(objects, namespace, name, {
      targetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name },
      service: { port: 8080 },
      analysis: {
        interval: '10s',
        threshold: 2,
        stepWeights: [33, 66],
        webhooks: [{ name: 'smoke', type: 'rollout', url: `${receiver.url}/smoke` }],
      },
    });
    await until('Initialized', phaseIs(name, 'Initialized'));
    expect(await partition()).toBe(replicas);
    // Released in place: Weir generates neither a primary nor Services.
    await expect(
      apps.readNamespacedStatefulSet({ name: `${name}-primary`, namespace }),
    ).rejects.toMatchObject({ code: 404 });
    expect((await core.listNamespacedService({ namespace })).items).toEqual([]);
    expect(await imagesWhenReady()).toEqual(images(2, []));
    expect(receiver.on('/smoke')).toHaveLength(0);
  });

  it('releases a new image a share of the pods at a time, highest ordinals first, each pod keeping its claim; promotion updates the rest and holds the partition again', async () => {
    const claimsBefore = await claimUids();
    expect(Object.keys(claimsBefore).sort()).toEqual(ordinals.map((i) => `data-${name}-${i}`));
    await setImage(`example.test/${name}:2`);
    // What the pods ran at each weight the analysis judged.
    const seen = new Map<number, Record<string, string>>();
    await until('Succeeded', async () => {
      const s = await status(name);
      const ready = await imagesWhenReady();
      if (s.phase === 'Progressing' && ready && (s.canaryWeight ?? 0) > 0)
        seen.set(s.canaryWeight!, ready);
      return s.phase === 'Succeeded' ? true : undefined;
    });
    // 33 % of three pods is one pod, the highest ordinal; 66 % two; the rest stays at :1.
    expect(seen.get(33)).toEqual(images(2, [2]));
    expect(seen.get(66)).toEqual(images(2, [1, 2]));
    expect(receiver.on('/smoke').length).toBeGreaterThanOrEqual(2);

    await until('every pod at :2, the partition held again', async () => {
      const now = await imagesWhenReady();
      const sts = await statefulSet();
      return JSON.stringify(now) === JSON.stringify(images(2, ordinals)) &&
        sts.spec?.updateStrategy?.rollingUpdate?.partition === replicas &&
        sts.status?.currentRevision === sts.status?.updateRevision
        ? true
        : undefined;
    });
    // Same names, same claims: no pod got a new volume.
    expect(await claimUids()).toEqual(claimsBefore);
    for (const p of await pods()) expect(p.claim).toBe(`data-${p.name}`);
    const run = await endedRun(objects, namespace, name);
    expect(run.status?.result).toBe('Promoted');
  });

  it('rolls a failing release back: the updated pod is recreated at the current revision with its name and claim, and Git’s template is left as it is', async () => {
    receiver.reply('/smoke', { status: 500, body: 'smoke test failed' });
    const claimsBefore = await claimUids();
    const stable = (await statefulSet()).status?.currentRevision;
    await setImage(`example.test/${name}:3`);
    let updatedDuringAnalysis: string[] = [];
    await until('Failed', async () => {
      const s = await status(name);
      if (s.phase === 'Progressing') {
        const onUpdate = (await pods()).filter((p) => p.image.endsWith(':3')).map((p) => p.name);
        if (onUpdate.length > updatedDuringAnalysis.length) updatedDuringAnalysis = onUpdate;
      }
      return s.phase === 'Failed' ? true : undefined;
    });
    // The first step's pod ran the new image before the checks failed.
    expect(updatedDuringAnalysis).toEqual([`${name}-2`]);
    expect(await status(name)).toMatchObject({ phase: 'Failed', failedChecks: 2 });

    await until('every pod back at :2 and Ready', async () =>
      JSON.stringify(await imagesWhenReady()) === JSON.stringify(images(2, ordinals))
        ? true
        : undefined,
    );
    const after = await pods();
    expect(after.map((p) => p.revision)).toEqual(ordinals.map(() => stable));
    for (const p of after) expect(p.claim).toBe(`data-${p.name}`);
    expect(await claimUids()).toEqual(claimsBefore);
    // Git's template stays; only the partition holds it back.
    const sts = await statefulSet();
    expect(sts.spec?.template.spec?.containers[0]?.image).toBe(`example.test/${name}:3`);
    expect(sts.spec?.updateStrategy?.rollingUpdate?.partition).toBe(replicas);
    expect(sts.status?.currentRevision).toBe(stable);
    expect((await endedRun(objects, namespace, name)).status?.result).toBe('RolledBack');
  });
});
