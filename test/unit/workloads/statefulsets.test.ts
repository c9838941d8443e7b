import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  mayNeedRestore,
  nextPodToRestore,
  ordinalOf,
  partitionFor,
  partitionOf,
  partitionPatch,
  podGroups,
  podPattern,
  podRevisionLabel,
  replicasOf,
  statefulSetUnsupported,
  statefulSetView,
  weightOfPartition,
} from '../../../src/workloads/statefulsets.js';

/** The StatefulSet `web` with `replicas` and `partition` (none when undefined), generation 2. */
function web(
  replicas: number | undefined,
  partition?: number,
  status?: k8s.V1StatefulSetStatus,
): k8s.V1StatefulSet {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'uid-web', generation: 2 },
    spec: {
      ...(replicas !== undefined ? { replicas } : {}),
      serviceName: 'web',
      selector: { matchLabels: { app: 'web' } },
      updateStrategy: {
        type: 'RollingUpdate',
        ...(partition !== undefined ? { rollingUpdate: { partition } } : {}),
      },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image: 'web:2' }] },
      },
    },
    ...(status ? { status } : {}),
  };
}

/** A status observed for generation 2: `current` pods at rev-1, `updated` at rev-2. */
function status(
  replicas: number,
  counts: { current: number; updated: number; ready?: number; observed?: number },
  revisions: { current?: string; update?: string } = {},
): k8s.V1StatefulSetStatus {
  return {
    observedGeneration: counts.observed ?? 2,
    replicas,
    readyReplicas: counts.ready ?? replicas,
    currentReplicas: counts.current,
    updatedReplicas: counts.updated,
    currentRevision: revisions.current ?? 'web-rev1',
    updateRevision: revisions.update ?? 'web-rev2',
  };
}

/** A pod of `web` (or any name), Ready unless told otherwise, on `revision`. */
function pod(
  name: string,
  revision: string,
  state: { ready?: boolean; terminating?: boolean; owner?: string } = {},
): k8s.V1Pod {
  return {
    metadata: {
      name,
      uid: `uid-${name}`,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          name: 'web',
          uid: state.owner ?? 'uid-web',
          controller: true,
        },
      ],
      labels: { app: 'web', [podRevisionLabel]: revision },
      ...(state.terminating ? { deletionTimestamp: new Date('2026-12-01T10:00:00Z') } : {}),
    },
    status: {
      conditions: [{ type: 'Ready', status: state.ready === false ? 'False' : 'True' }],
    },
  };
}

const names = (pods: (k8s.V1Pod | undefined)[]) => pods.map((p) => p?.metadata?.name);

describe('the partition of a weight', () => {
  it.each([
    // replicas, weight, partition: the canary is the highest ordinals, rounded up to whole pods
    [3, 0, 3],
    [3, 100, 0],
    [3, 33, 2],
    [3, 34, 1],
    [3, 66, 1],
    [3, 67, 0],
    [5, 20, 4],
    [5, 21, 3],
    [5, 60, 2],
    [10, 1, 9],
    [10, 99, 0],
  ])('%i replicas at weight %i: partition %i', (replicas, weight, partition) => {
    expect(partitionFor(replicas, weight)).toBe(partition);
  });

  it('updates at least one pod for any weight above 0, however small the share', () => {
    expect(partitionFor(3, 1)).toBe(2);
    expect(partitionFor(100, 0.5)).toBe(99);
    expect(partitionFor(1, 1)).toBe(0);
  });

  it('holds every pod back at weight 0 or below, and updates every pod at 100 or above', () => {
    expect(partitionFor(4, -10)).toBe(4);
    expect(partitionFor(4, 150)).toBe(0);
  });

  it('with one replica, any step updates the only pod; with none, there is nothing to hold back', () => {
    expect(partitionFor(1, 0)).toBe(1);
    expect(partitionFor(1, 50)).toBe(0);
    expect(partitionFor(0, 0)).toBe(0);
    expect(partitionFor(0, 50)).toBe(0);
  });
});

describe('the weight of a partition', () => {
  it.each([
    [3, 3, 0],
    [3, 2, 33],
    [3, 1, 67],
    [3, 0, 100],
    [5, 4, 20],
    [1, 1, 0],
    [1, 0, 100],
  ])('%i replicas at partition %i: weight %i', (replicas, partition, weight) => {
    expect(weightOfPartition(replicas, partition)).toBe(weight);
  });

  it('is 0 with a partition above the replicas, and with no replicas', () => {
    expect(weightOfPartition(3, 7)).toBe(0);
    expect(weightOfPartition(0, 0)).toBe(0);
    expect(weightOfPartition(0, 3)).toBe(0);
  });

  it('reports the share of pods a step updated, which the step weight rounds up to', () => {
    expect(weightOfPartition(3, partitionFor(3, 33))).toBe(33);
    expect(weightOfPartition(3, partitionFor(3, 34))).toBe(67);
    expect(weightOfPartition(5, partitionFor(5, 10))).toBe(20);
  });
});

describe('reading a StatefulSet', () => {
  it('has one replica and partition 0 when it declares neither (the Kubernetes defaults)', () => {
    expect(replicasOf(web(undefined))).toBe(1);
    expect(partitionOf(web(3))).toBe(0);
    expect(replicasOf(web(3, 2))).toBe(3);
    expect(partitionOf(web(3, 2))).toBe(2);
  });

  it('is patched on the partition alone, 0 included', () => {
    expect(partitionPatch(3)).toEqual({
      spec: { updateStrategy: { rollingUpdate: { partition: 3 } } },
    });
    expect(partitionPatch(0)).toEqual({
      spec: { updateStrategy: { rollingUpdate: { partition: 0 } } },
    });
  });

  it('is supported under RollingUpdate or no strategy (the default), refused under OnDelete', () => {
    expect(statefulSetUnsupported(web(3))).toBeUndefined();
    const none = web(3);
    delete none.spec!.updateStrategy;
    expect(statefulSetUnsupported(none)).toBeUndefined();
    const onDelete = web(3);
    onDelete.spec!.updateStrategy = { type: 'OnDelete' };
    expect(statefulSetUnsupported(onDelete)).toBe(
      'StatefulSet web has updateStrategy OnDelete: a partition only holds pods back under RollingUpdate; use RollingUpdate',
    );
  });
});

describe('statefulSetView', () => {
  const view = (sts: k8s.V1StatefulSet) => statefulSetView(sts, 'weir-rev');

  it('settled: every pod Ready on the declared template, so the stable set runs Weir’s revision', () => {
    const sts = web(
      3,
      3,
      status(3, { current: 3, updated: 3 }, { current: 'web-rev2', update: 'web-rev2' }),
    );
    expect(view(sts)).toEqual({ stableReady: true, canaryReady: true, stableRevision: 'weir-rev' });
  });

  it('a new template held back by the partition: the canary (no pod) is ready, the stable set runs the current revision', () => {
    expect(view(web(3, 3, status(3, { current: 3, updated: 0 })))).toEqual({
      stableReady: true,
      canaryReady: true,
      stableRevision: 'statefulset:web-rev1',
    });
  });

  it('mid-release: ready once the pods at or above the partition run the update and the others the current revision', () => {
    // Partition 1 of 3: web-1 and web-2 are the canary.
    expect(view(web(3, 1, status(3, { current: 1, updated: 2 })))).toMatchObject({
      stableReady: true,
      canaryReady: true,
      stableRevision: 'statefulset:web-rev1',
    });
    // The controller has updated one of the two so far.
    expect(view(web(3, 1, status(3, { current: 2, updated: 1 })))).toMatchObject({
      stableReady: true,
      canaryReady: false,
    });
  });

  it('not ready while a pod is not Ready', () => {
    expect(view(web(3, 2, status(3, { current: 2, updated: 1, ready: 2 })))).toMatchObject({
      stableReady: false,
      canaryReady: false,
    });
  });

  it('not ready until the controller has observed the generation (a partition just written)', () => {
    expect(view(web(3, 2, status(3, { current: 2, updated: 1, observed: 1 })))).toMatchObject({
      stableReady: false,
      canaryReady: false,
    });
  });

  it('not ready, and running an unknown revision, before the controller wrote any status', () => {
    expect(view(web(3, 3))).toEqual({
      stableReady: false,
      canaryReady: false,
      stableRevision: 'statefulset:unknown',
    });
  });

  it('not ready with no replicas: there is no pod to judge', () => {
    expect(view(web(0, 0, status(0, { current: 0, updated: 0 })))).toMatchObject({
      stableReady: false,
      canaryReady: false,
    });
  });

  it('takes a partition above the replicas as all pods held back', () => {
    expect(view(web(3, 10, status(3, { current: 3, updated: 0 })))).toMatchObject({
      canaryReady: true,
      stableRevision: 'statefulset:web-rev1',
    });
  });

  it('a promotion half way (partition 0, one pod left) is not settled: the stable set still runs the current revision', () => {
    expect(view(web(3, 0, status(3, { current: 1, updated: 2 })))).toEqual({
      stableReady: true,
      canaryReady: false,
      stableRevision: 'statefulset:web-rev1',
    });
  });
});

describe('the pods of a StatefulSet', () => {
  it('has an ordinal only for `<name>-<n>`, n a plain decimal number', () => {
    const sts = web(3);
    const ordinal = (name: string) => ordinalOf(sts, pod(name, 'web-rev1'));
    expect(ordinal('web-0')).toBe(0);
    expect(ordinal('web-12')).toBe(12);
    expect(ordinal('web-01')).toBeUndefined();
    expect(ordinal('web-')).toBeUndefined();
    expect(ordinal('web-x')).toBeUndefined();
    expect(ordinal('web-1a')).toBeUndefined();
    expect(ordinal('web-primary-0')).toBeUndefined();
    expect(ordinal('webby-0')).toBeUndefined();
    expect(ordinalOf(sts, {})).toBeUndefined();
  });

  it('names pods by a pattern of exact ordinals, and matches no pod with none', () => {
    expect(podPattern('web', [3, 4])).toBe('web-(3|4)');
    expect(podPattern('web', [0])).toBe('web-(0)');
    expect(podPattern('web', [])).toBe('web-(-1)');
    const none = new RegExp(`^${podPattern('web', [])}$`);
    expect(['web-0', 'web-1', 'web-10'].some((n) => none.test(n))).toBe(false);
    const some = new RegExp(`^${podPattern('web', [1, 2])}$`);
    expect(['web-0', 'web-1', 'web-2', 'web-12'].filter((n) => some.test(n))).toEqual([
      'web-1',
      'web-2',
    ]);
  });

  it.each([
    // replicas, partition, canary, stable
    [3, 3, 'web-(-1)', 'web-(0|1|2)'],
    [3, 2, 'web-(2)', 'web-(0|1)'],
    [3, 1, 'web-(1|2)', 'web-(0)'],
    [3, 0, 'web-(0|1|2)', 'web-(-1)'],
    [3, 9, 'web-(-1)', 'web-(0|1|2)'],
    [0, 0, 'web-(-1)', 'web-(-1)'],
  ])('%i replicas at partition %i: canary %s, stable %s', (replicas, partition, canary, stable) => {
    expect(podGroups(web(replicas, partition))).toEqual({ canary, stable });
  });

  it('groups one pod when the StatefulSet declares no replicas', () => {
    expect(podGroups(web(undefined, 1))).toEqual({ canary: 'web-(-1)', stable: 'web-(0)' });
  });
});

describe('mayNeedRestore', () => {
  it('is false before the controller names a current revision, and when the StatefulSet is settled', () => {
    expect(mayNeedRestore(web(3, 3))).toBe(false);
    expect(
      mayNeedRestore(
        web(3, 3, status(3, { current: 3, updated: 3 }, { current: 'a', update: 'a' })),
      ),
    ).toBe(false);
  });

  it('is false while the pods are split exactly as the partition says (a release, or held back)', () => {
    expect(mayNeedRestore(web(3, 3, status(3, { current: 3, updated: 0 })))).toBe(false);
    expect(mayNeedRestore(web(3, 2, status(3, { current: 2, updated: 1 })))).toBe(false);
    expect(mayNeedRestore(web(3, 1, status(3, { current: 1, updated: 2 })))).toBe(false);
  });

  it('is true after a rollback: updated pods below the raised partition', () => {
    expect(mayNeedRestore(web(3, 3, status(3, { current: 1, updated: 2 })))).toBe(true);
    expect(mayNeedRestore(web(3, 3, status(3, { current: 2, updated: 1 })))).toBe(true);
  });

  it('with one revision (Git reverted the template), is true only while a pod runs another', () => {
    const one = { current: 'web-rev1', update: 'web-rev1' };
    // The controller counts a pod on another revision neither as current nor as updated.
    expect(mayNeedRestore(web(3, 3, status(3, { current: 2, updated: 2 }, one)))).toBe(true);
    expect(mayNeedRestore(web(3, 3, status(3, { current: 3, updated: 3 }, one)))).toBe(false);
    // A pod missing (not created yet) is no pod to restore.
    expect(mayNeedRestore(web(3, 3, status(2, { current: 2, updated: 2 }, one)))).toBe(false);
  });

  it('is true when a release restarted by a newer revision left pods on neither revision', () => {
    // web-2 runs the previous canary's revision: neither current nor updated.
    expect(mayNeedRestore(web(3, 3, status(3, { current: 2, updated: 0 })))).toBe(true);
    // Partition 1: web-1 on the previous canary, web-2 on the new one.
    expect(mayNeedRestore(web(3, 1, status(3, { current: 1, updated: 1 })))).toBe(true);
  });
});

describe('nextPodToRestore', () => {
  // Partition 3 of 3 after a rollback: web-1 and web-2 still run the update.
  const rolledBack = web(3, 3, status(3, { current: 1, updated: 2 }));
  const pods = (overrides: Record<string, k8s.V1Pod> = {}) =>
    Object.values({
      'web-0': pod('web-0', 'web-rev1'),
      'web-1': pod('web-1', 'web-rev2'),
      'web-2': pod('web-2', 'web-rev2'),
      ...overrides,
    });

  it('is the highest ordinal below the partition that runs another revision', () => {
    expect(names([nextPodToRestore(rolledBack, pods())])).toEqual(['web-2']);
    // In any order the pods are listed.
    expect(names([nextPodToRestore(rolledBack, pods().reverse())])).toEqual(['web-2']);
    // web-2 recreated at the current revision: web-1 is next.
    expect(
      names([nextPodToRestore(rolledBack, pods({ 'web-2': pod('web-2', 'web-rev1') }))]),
    ).toEqual(['web-1']);
  });

  it('is none while a pod is missing, not Ready, or terminating: one pod down at a time', () => {
    expect(
      nextPodToRestore(
        rolledBack,
        pods().filter((p) => p.metadata!.name !== 'web-2'),
      ),
    ).toBe(undefined);
    expect(
      nextPodToRestore(rolledBack, pods({ 'web-0': pod('web-0', 'web-rev1', { ready: false }) })),
    ).toBe(undefined);
    expect(
      nextPodToRestore(
        rolledBack,
        pods({ 'web-2': pod('web-2', 'web-rev2', { terminating: true }) }),
      ),
    ).toBe(undefined);
    // A pod that stays (the current revision) with no conditions yet is not Ready.
    const pending = pod('web-0', 'web-rev1');
    delete pending.status;
    expect(nextPodToRestore(rolledBack, pods({ 'web-0': pending }))).toBe(undefined);
  });

  it('puts back a pod of the failed revision that is not Ready first: a crash-looping canary serves nothing', () => {
    const crashing = pod('web-1', 'web-rev2', { ready: false });
    expect(nextPodToRestore(rolledBack, pods({ 'web-1': crashing }))?.metadata?.name).toBe('web-1');
    const pending = pod('web-1', 'web-rev2');
    delete pending.status;
    expect(nextPodToRestore(rolledBack, pods({ 'web-1': pending }))?.metadata?.name).toBe('web-1');
  });

  it('counts only pods the StatefulSet controls: another owner’s pod of the same name is neither put back nor waited for', () => {
    const foreign = pod('web-2', 'web-rev2', { owner: 'uid-other' });
    // web-2 is not the StatefulSet's: it is missing, so nothing happens yet.
    expect(nextPodToRestore(rolledBack, pods({ 'web-2': foreign }))).toBeUndefined();
  });

  it('is none when every pod below the partition runs the current revision', () => {
    const restored = pods({ 'web-1': pod('web-1', 'web-rev1'), 'web-2': pod('web-2', 'web-rev1') });
    expect(nextPodToRestore(rolledBack, restored)).toBeUndefined();
  });

  it('leaves the pods at or above the partition: they are the canary', () => {
    const releasing = web(3, 1, status(3, { current: 1, updated: 2 }));
    expect(nextPodToRestore(releasing, pods())).toBeUndefined();
    // web-1 on a stale revision below partition 2, web-2 the canary on the update.
    const restarted = web(3, 2, status(3, { current: 1, updated: 1 }));
    expect(
      names([nextPodToRestore(restarted, pods({ 'web-1': pod('web-1', 'web-rev-old') }))]),
    ).toEqual(['web-1']);
  });

  it('ignores pods of other names the selector also matches, Ready or not', () => {
    const others = [
      pod('web-primary-0', 'other', { ready: false }),
      pod('web-x', 'other', { ready: false }),
      pod('webby-0', 'other', { ready: false }),
    ];
    expect(names([nextPodToRestore(rolledBack, [...pods(), ...others])])).toEqual(['web-2']);
    // Those names do not stand in for a missing pod either.
    const without2 = pods().filter((p) => p.metadata!.name !== 'web-2');
    expect(nextPodToRestore(rolledBack, [...without2, pod('web-primary-2', 'web-rev1')])).toBe(
      undefined,
    );
  });

  it('is none before the controller names a current revision', () => {
    const unobserved = web(3, 3);
    expect(nextPodToRestore(unobserved, pods())).toBeUndefined();
  });

  it('treats a pod without the revision label as another revision', () => {
    const unlabelled = pod('web-2', 'web-rev1');
    delete unlabelled.metadata!.labels![podRevisionLabel];
    expect(
      names([
        nextPodToRestore(
          rolledBack,
          pods({ 'web-2': unlabelled, 'web-1': pod('web-1', 'web-rev1') }),
        ),
      ]),
    ).toEqual(['web-2']);
  });
});
