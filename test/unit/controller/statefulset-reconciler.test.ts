import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Canary, CanaryStatus } from '../../../src/api/types.js';
import type { CheckRunner, StepPods } from '../../../src/contracts/checks.js';
import { KubernetesRouter } from '../../../src/routers/kubernetes-router.js';
import { partitionOf, podRevisionLabel, replicasOf } from '../../../src/workloads/statefulsets.js';
import { canaryWith } from '../routers/fixtures.js';
import { FakeCluster, reconcilerOn, type Call } from './fake-cluster.js';

const key = 'shop/podinfo';
const replicas = 3;
const intervalMs = 10_000;

/** The StatefulSet `podinfo` in `shop` (image podinfo:1), with no partition and no status yet. */
function statefulSet(): k8s.V1StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'podinfo', namespace: 'shop', uid: 'uid-podinfo', generation: 1 },
    spec: {
      replicas,
      serviceName: 'podinfo',
      selector: { matchLabels: { app: 'podinfo' } },
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: { labels: { app: 'podinfo' } },
        spec: { containers: [{ name: 'app', image: 'podinfo:1' }] },
      },
    },
  };
}

/** The revision the StatefulSet controller would name a template: one per image here. */
const revisionOfImage = (sts: k8s.V1StatefulSet) =>
  `podinfo-${sts.spec!.template.spec!.containers[0]!.image!.split(':')[1]}`;

/** Pods recreated so far, for their uids (a recreated pod is another pod under the same name). */
let podUids = 0;

/**
 * What the StatefulSet controller does, all at once (none runs in memory): the pods at
 * or above the partition run the update revision, a missing pod below it comes back at
 * the current revision, the others keep theirs; once every pod runs the update revision
 * it is the current one. The status says so for the StatefulSet's generation.
 * `unready` pods are there but not Ready.
 */
function runStatefulSetController(cluster: FakeCluster, unready: string[] = []): void {
  const sts = cluster.statefulSets.get('podinfo')!;
  const count = replicasOf(sts);
  const partition = Math.min(partitionOf(sts), count);
  const update = revisionOfImage(sts);
  const current = sts.status?.currentRevision ?? update;
  const revisionOf = (p: k8s.V1Pod | undefined) => p?.metadata?.labels?.[podRevisionLabel];
  for (let i = 0; i < count; i++) {
    const name = `podinfo-${i}`;
    const existing = cluster.pods.get(name);
    const revision = i >= partition ? update : (revisionOf(existing) ?? current);
    const ready = !unready.includes(name);
    if (existing && revisionOf(existing) === revision) {
      existing.status = readyStatus(ready);
      continue;
    }
    podUids += 1;
    cluster.pods.set(name, {
      metadata: {
        name,
        namespace: 'shop',
        uid: `uid-${name}-${podUids}`,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            name: 'podinfo',
            uid: 'uid-podinfo',
            controller: true,
          },
        ],
        labels: { app: 'podinfo', [podRevisionLabel]: revision },
      },
      status: readyStatus(ready),
    });
  }
  const pods = [...cluster.pods.values()];
  const on = (revision: string) => pods.filter((p) => revisionOf(p) === revision).length;
  const settled = on(update) === count;
  cluster.statefulSets.set('podinfo', {
    ...sts,
    status: {
      observedGeneration: sts.metadata!.generation!,
      replicas: pods.length,
      readyReplicas: pods.length - unready.length,
      currentRevision: settled ? update : current,
      updateRevision: update,
      currentReplicas: on(settled ? update : current),
      updatedReplicas: on(update),
    },
  });
}

const readyStatus = (ready: boolean): k8s.V1PodStatus => ({
  conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
});

/** The revisions the pods run, by ordinal. */
const podRevisions = (cluster: FakeCluster) =>
  [0, 1, 2].map((i) => cluster.pods.get(`podinfo-${i}`)?.metadata?.labels?.[podRevisionLabel]);

/** A new image in Git: the template changes, the controller has not acted yet. */
function newImage(cluster: FakeCluster, image: string): void {
  const sts = cluster.statefulSets.get('podinfo')!;
  sts.spec!.template.spec!.containers[0]!.image = image;
  sts.metadata!.generation = sts.metadata!.generation! + 1;
}

/**
 * A cluster with the StatefulSet `podinfo` (three pods on podinfo:1, Ready) and a Canary
 * for it naming no provider, stepWeights 33 and 66, released through the real
 * kubernetes router.
 */
function world(canary: Partial<Canary['spec']> = {}, ready = true) {
  const cluster = new FakeCluster();
  cluster.statefulSets.set('podinfo', statefulSet());
  runStatefulSetController(cluster, ready ? [] : ['podinfo-0']);
  const c = canaryWith({ analysis: { stepWeights: [33, 66], threshold: 1 } });
  delete c.spec.analysis.stepWeight;
  delete c.spec.analysis.maxWeight;
  c.spec.targetRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'podinfo' };
  c.spec = { ...c.spec, ...canary };
  cluster.addCanary(c);
  return withReconciler(cluster);
}

/** A reconciler (with memory of its own) on the cluster, its kubernetes router reading the StatefulSets. */
function withReconciler(cluster: FakeCluster) {
  const router = new KubernetesRouter(cluster.kube, (c) =>
    cluster.statefulSets.get(c.spec.targetRef.name),
  );
  const reconciler = reconcilerOn(cluster, { router });
  // What each step's checks were told about the pods.
  const stepPods: (StepPods | undefined)[] = [];
  const checks: CheckRunner = reconciler.checks;
  const run = checks.run.bind(checks);
  checks.run = async (canary, context) => {
    stepPods.push(context.pods);
    return run(canary, context);
  };
  return { cluster, ...reconciler, stepPods };
}

type World = ReturnType<typeof world>;

/** The partition a merge patch of a StatefulSet sets. */
const partitionIn = (body: unknown) =>
  (body as { spec: { updateStrategy: { rollingUpdate: { partition: number } } } }).spec
    .updateStrategy.rollingUpdate.partition;

/** A write, in one line: a partition, a pod deleted, or what else was written. */
const summary = (c: Call) =>
  c.verb === 'patchWorkload'
    ? `${c.kind}/${c.name} partition ${partitionIn(c.body)}`
    : c.verb === 'evictPod'
      ? `delete pod ${c.name}`
      : c.verb === 'apply' || c.verb === 'delete'
        ? `${c.verb} ${c.kind}/${c.name}`
        : c.verb === 'patchStatus'
          ? `status ${c.kind}/${c.name}`
          : c.verb === 'event'
            ? `event ${c.reason}`
            : c.verb;

/** The writes that act on the StatefulSet and its pods (not the Canary's status, Events or records). */
const actions = (writes: string[]) =>
  writes.filter((w) => w.startsWith('StatefulSet/') || w.startsWith('delete pod'));

/** One reconcile: its writes; then background checks finish and the clock moves `thenMs`. */
async function reconcile(w: World, thenMs = 0): Promise<string[]> {
  await w.reconciler.reconcile(key);
  const writes = w.cluster.take().map(summary);
  await new Promise((r) => setTimeout(r, 1));
  w.clock.advance(thenMs);
  return writes;
}

const status = (w: World): CanaryStatus => w.cluster.canaries.get('podinfo')!.status ?? {};

/**
 * Reconciles, running the StatefulSet controller after each reconcile and moving the
 * clock an interval, until `done`; the writes of each reconcile.
 */
async function until(w: World, done: (w: World) => boolean, max = 20): Promise<string[][]> {
  const writes: string[][] = [];
  for (let i = 0; i < max && !done(w); i++) {
    writes.push(await reconcile(w, intervalMs));
    runStatefulSetController(w.cluster);
  }
  if (!done(w)) throw new Error(`not done after ${max} reconciles: phase ${status(w).phase}`);
  return writes;
}

const phaseIs = (phase: string) => (w: World) => status(w).phase === phase;
const partition = (n: number) => `StatefulSet/podinfo partition ${n}`;
const partitionNow = (w: World) => partitionOf(w.cluster.statefulSets.get('podinfo')!);

/** An initialized world, with a release of podinfo:2 started (the controller has seen the new template). */
async function releasing(canary: Partial<Canary['spec']> = {}): Promise<World> {
  const w = world(canary);
  await until(w, phaseIs('Initialized'));
  newImage(w.cluster, 'podinfo:2');
  runStatefulSetController(w.cluster);
  return w;
}

describe('Reconciler, a StatefulSet target released in place (ADR 0019)', () => {
  it('bootstraps by writing the partition alone (= replicas): no primary, no Service', async () => {
    // One pod not Ready yet: the stable set is not ready, so the machine bootstraps.
    const w = world({}, false);
    const first = await reconcile(w);
    expect(first).toEqual(['status canaries/podinfo', partition(replicas)]);
    expect(partitionNow(w)).toBe(replicas);
    // Until the StatefulSet is ready, nothing more is written on it.
    expect(actions(await reconcile(w))).toEqual([]);
    runStatefulSetController(w.cluster);
    const writes = (await until(w, phaseIs('Initialized'))).flat();
    expect(actions(writes)).toEqual([]);
    expect(writes).toContain('event Initialized');
    expect(w.cluster.statefulSets.has('podinfo-primary')).toBe(false);
    expect(w.cluster.deployments.size).toBe(0);
    expect(podRevisions(w.cluster)).toEqual(['podinfo-1', 'podinfo-1', 'podinfo-1']);
  });

  it('holds the partition at replicas when the StatefulSet is ready at first sight, with nothing applied', async () => {
    const w = world();
    const writes = await until(w, phaseIs('Initialized'));
    expect(writes.flat().filter((x) => x.startsWith('apply'))).toEqual([]);
    expect(actions(writes.flat())).toEqual([partition(replicas)]);
    expect(status(w).canaryWeight ?? 0).toBe(0);
  });

  it('follows the replicas at rest (an autoscaler, a scale) and puts back a partition someone else changed, without a new step', async () => {
    const w = world();
    await until(w, phaseIs('Initialized'));
    w.cluster.take();
    const sts = () => w.cluster.statefulSets.get('podinfo')!;
    // Scaled to 5: a partition of 3 would let podinfo-3 and -4 take the next template unjudged.
    sts().spec!.replicas = 5;
    expect(actions(await reconcile(w))).toEqual([partition(5)]);
    // Someone lowers it by hand: Weir holds it at the replicas again.
    sts().spec!.updateStrategy!.rollingUpdate!.partition = 1;
    expect(actions(await reconcile(w))).toEqual([partition(5)]);
    // Held as wanted: nothing more to write.
    expect(actions(await reconcile(w))).toEqual([]);
    expect(status(w).phase).toBe('Initialized');
  });

  it('releases a share of the pods per step weight, highest ordinals first, and judges the pods the partition names', async () => {
    const w = await releasing();
    const seen: Record<number, (string | undefined)[]> = {};
    const writes = await until(w, (x) => {
      const s = status(x);
      if (s.phase === 'Progressing') seen[s.canaryWeight ?? 0] = podRevisions(x.cluster);
      return s.phase === 'Promoting';
    });
    // 33 % of three pods is one pod, 66 % two.
    expect(actions(writes.flat())).toEqual([partition(2), partition(1), partition(0)]);
    expect(seen[33]).toEqual(['podinfo-1', 'podinfo-1', 'podinfo-2']);
    expect(seen[66]).toEqual(['podinfo-1', 'podinfo-2', 'podinfo-2']);
    // Each step judged the pods in place when it ran: none updated, then podinfo-2, then both.
    expect(w.stepPods).toEqual([
      { canary: 'podinfo-(-1)', stable: 'podinfo-(0|1|2)' },
      { canary: 'podinfo-(2)', stable: 'podinfo-(0|1)' },
      { canary: 'podinfo-(1|2)', stable: 'podinfo-(0)' },
    ]);
    // No pod is deleted during a release that goes as the partition says.
    expect(writes.flat().filter((x) => x.startsWith('delete'))).toEqual([]);
  });

  it('promotes with partition 0, never lowers it in that reconcile nor until every pod is updated, then holds it at replicas', async () => {
    const w = await releasing();
    await until(w, (x) => status(x).canaryWeight === 66);
    // The step that promotes: the weight the machine holds (66) must not lower the partition again.
    let promoting: string[] = [];
    for (let i = 0; i < 5 && status(w).phase !== 'Promoting'; i++)
      promoting = await reconcile(w, intervalMs);
    expect(status(w).phase).toBe('Promoting');
    expect(actions(promoting)).toEqual([partition(0)]);
    // The controller has not updated the last pod yet: Promoting holds partition 0.
    expect(actions(await reconcile(w, intervalMs))).toEqual([]);
    expect(actions(await reconcile(w, intervalMs))).toEqual([]);
    expect(partitionNow(w)).toBe(0);
    expect(status(w).phase).toBe('Promoting');
    runStatefulSetController(w.cluster);
    const after = await until(w, phaseIs('Succeeded'));
    expect(actions(after.flat())).toEqual([partition(replicas)]);
    expect(podRevisions(w.cluster)).toEqual(['podinfo-2', 'podinfo-2', 'podinfo-2']);
    const sts = w.cluster.statefulSets.get('podinfo')!;
    expect(sts.status).toMatchObject({ currentRevision: 'podinfo-2', updateRevision: 'podinfo-2' });
    expect(status(w).lastPromotedSpec).toBe(status(w).lastAppliedSpec);
    // At rest: nothing more is written.
    expect(actions(await reconcile(w, intervalMs))).toEqual([]);
    expect(partitionNow(w)).toBe(replicas);
  });

  it('a rollback raises the partition, then deletes one updated pod a reconcile, highest ordinal first, only while all pods are Ready', async () => {
    const w = await releasing();
    await until(w, (x) => status(x).canaryWeight === 66);
    expect(podRevisions(w.cluster)).toEqual(['podinfo-1', 'podinfo-2', 'podinfo-2']);
    w.checks.outcome = { passed: false, failures: ['error-rate 7 > 1'] };
    const rollback = await until(w, phaseIs('Failed'));
    expect(actions(rollback.flat())).toEqual([partition(replicas)]);
    runStatefulSetController(w.cluster);

    const uid2 = w.cluster.pods.get('podinfo-2')!.metadata!.uid!;
    const first = await reconcile(w);
    expect(actions(first)).toEqual(['delete pod podinfo-2']);
    // podinfo-2 is gone and not back yet: nothing more is deleted.
    expect(actions(await reconcile(w))).toEqual([]);
    // Back at the current revision, but not Ready yet: still nothing.
    runStatefulSetController(w.cluster, ['podinfo-2']);
    expect(w.cluster.pods.get('podinfo-2')!.metadata!.labels![podRevisionLabel]).toBe('podinfo-1');
    expect(w.cluster.pods.get('podinfo-2')!.metadata!.uid).not.toBe(uid2);
    expect(actions(await reconcile(w))).toEqual([]);
    // Ready: the next updated pod goes.
    runStatefulSetController(w.cluster);
    expect(actions(await reconcile(w))).toEqual(['delete pod podinfo-1']);
    runStatefulSetController(w.cluster);
    expect(actions(await reconcile(w))).toEqual([]);
    expect(podRevisions(w.cluster)).toEqual(['podinfo-1', 'podinfo-1', 'podinfo-1']);

    // Git's template stays: the partition holds it back, and the release stays Failed.
    const sts = w.cluster.statefulSets.get('podinfo')!;
    expect(sts.spec!.template.spec!.containers[0]!.image).toBe('podinfo:2');
    expect(sts.status).toMatchObject({
      currentRevision: 'podinfo-1',
      currentReplicas: 3,
      updatedReplicas: 0,
    });
    expect(partitionNow(w)).toBe(replicas);
    expect(status(w).phase).toBe('Failed');
  });

  it('restores the last updated pod when Git reverts the template mid-rollback (one revision, a pod on another)', async () => {
    const w = await releasing();
    await until(w, (x) => status(x).canaryWeight === 66);
    w.checks.outcome = { passed: false, failures: ['error-rate 7 > 1'] };
    await until(w, phaseIs('Failed'));
    runStatefulSetController(w.cluster);
    expect(actions(await reconcile(w))).toEqual(['delete pod podinfo-2']);
    runStatefulSetController(w.cluster);
    // The answer to a failed release: a revert in Git. The update revision is the
    // current one again, and the controller leaves podinfo-1, below the partition, on
    // the failed revision.
    newImage(w.cluster, 'podinfo:1');
    runStatefulSetController(w.cluster);
    expect(podRevisions(w.cluster)).toEqual(['podinfo-1', 'podinfo-2', 'podinfo-1']);
    expect(w.cluster.statefulSets.get('podinfo')!.status).toMatchObject({
      currentRevision: 'podinfo-1',
      updateRevision: 'podinfo-1',
      currentReplicas: 2,
      updatedReplicas: 2,
    });
    w.checks.outcome = { passed: true, failures: [] };
    expect(actions(await reconcile(w))).toEqual(['delete pod podinfo-1']);
    runStatefulSetController(w.cluster);
    expect(podRevisions(w.cluster)).toEqual(['podinfo-1', 'podinfo-1', 'podinfo-1']);
    await until(w, phaseIs('Succeeded'));
    expect(podRevisions(w.cluster)).toEqual(['podinfo-1', 'podinfo-1', 'podinfo-1']);
    expect(partitionNow(w)).toBe(replicas);
  });

  it('deletes with the uid of the pod it listed', async () => {
    const w = await releasing();
    await until(w, (x) => status(x).canaryWeight === 33);
    w.checks.outcome = { passed: false, failures: ['error-rate 7 > 1'] };
    await until(w, phaseIs('Failed'));
    const listed = w.cluster.pods.get('podinfo-2')!.metadata!.uid!;
    await w.reconciler.reconcile(key);
    expect(w.cluster.take().filter((c) => c.verb === 'evictPod')).toEqual([
      { verb: 'evictPod', name: 'podinfo-2', uid: listed },
    ]);
  });

  it('a controller restarted mid-rollback (no memory) resumes from the pods’ revisions', async () => {
    const w = await releasing();
    await until(w, (x) => status(x).canaryWeight === 66);
    w.checks.outcome = { passed: false, failures: ['error-rate 7 > 1'] };
    await until(w, phaseIs('Failed'));
    runStatefulSetController(w.cluster);
    expect(actions(await reconcile(w))).toEqual(['delete pod podinfo-2']);
    runStatefulSetController(w.cluster);
    // The controller dies here: a new one, with a new memory, reads the same cluster.
    w.reconciler.stop();
    const restarted = withReconciler(w.cluster);
    restarted.clock.advance(w.clock.now() - restarted.clock.now());
    // Its memory is empty: it writes the partition it wants once more (the same 3), and goes on.
    expect(actions(await reconcile(restarted))).toEqual([
      `StatefulSet/podinfo partition ${replicas}`,
      'delete pod podinfo-1',
    ]);
    runStatefulSetController(w.cluster);
    expect(actions(await reconcile(restarted))).toEqual([]);
    expect(podRevisions(w.cluster)).toEqual(['podinfo-1', 'podinfo-1', 'podinfo-1']);
    expect(partitionNow(w)).toBe(replicas);
    expect(status(restarted).phase).toBe('Failed');
    // It ran no checks: a Failed release is not judged again.
    expect(restarted.checks.calls).toBe(0);
  });

  it('with revertOnDeletion, deleting the Canary lifts the partition (0) before the finalizer goes', async () => {
    const w = await releasing({ revertOnDeletion: true });
    await until(w, (x) => status(x).canaryWeight === 33);
    const canary = w.cluster.canaries.get('podinfo')!;
    w.cluster.canaries.set('podinfo', {
      ...canary,
      metadata: {
        ...canary.metadata,
        finalizers: ['weir.dev/finalizer'],
        deletionTimestamp: new Date(w.clock.now()),
      },
    });
    const writes: string[][] = [];
    for (let i = 0; i < 3 && !writes.flat().includes('patchMetadata'); i++)
      writes.push(await reconcile(w));
    expect(actions(writes.flat())).toEqual([partition(0)]);
    // In the reconcile that finalizes: the partition first, then the finalizer goes.
    expect(writes.at(-1)!.filter((x) => x === partition(0) || x === 'patchMetadata')).toEqual([
      partition(0),
      'patchMetadata',
    ]);
    expect(partitionNow(w)).toBe(0);
  });

  it('without revertOnDeletion, a deleted Canary leaves the partition where it was', async () => {
    const w = await releasing();
    await until(w, (x) => status(x).canaryWeight === 33);
    // No finalizer: the Canary is gone at once.
    w.cluster.canaries.delete('podinfo');
    expect(await reconcile(w)).toEqual([]);
    expect(partitionNow(w)).toBe(2);
  });

  it('refuses a StatefulSet with updateStrategy OnDelete, and writes nothing on it', async () => {
    const w = world();
    w.cluster.statefulSets.get('podinfo')!.spec!.updateStrategy = { type: 'OnDelete' };
    expect(actions(await reconcile(w))).toEqual([]);
    const ready = status(w).conditions!.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ status: 'False', reason: 'TargetNotSupported' });
    expect(ready.message).toContain('use RollingUpdate');
  });

  it('refuses another provider than kubernetes, saying to set it or leave it out', async () => {
    const w = world({ provider: 'istio' });
    expect(actions(await reconcile(w))).toEqual([]);
    const ready = status(w).conditions!.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ status: 'False', reason: 'UnsupportedStrategy' });
    expect(ready.message).toContain('set spec.provider to kubernetes, or leave it out');
  });
});
