import type * as k8s from '@kubernetes/client-node';

/*
 * StatefulSet targets, released in place by `spec.updateStrategy.rollingUpdate.partition`
 * (ADR 0019): no primary copy, no router. The pods whose ordinal is at least the
 * partition are the canary; the others are the stable set, which runs the StatefulSet's
 * current revision.
 */

/** The label the StatefulSet controller puts on each pod: the revision it was created from. */
export const podRevisionLabel = 'controller-revision-hash';

/** The replicas the StatefulSet declares (Kubernetes' default is 1). */
export const replicasOf = (sts: k8s.V1StatefulSet): number => sts.spec?.replicas ?? 1;

/** The partition in place: pods with an ordinal below it keep the current revision. */
export const partitionOf = (sts: k8s.V1StatefulSet): number =>
  sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;

/**
 * The partition for a canary weight: none of the pods at 0, all of them at 100,
 * otherwise the share of pods the weight asks for, rounded up, and at least one
 * pod (a step that updates no pod would judge nothing new).
 */
export function partitionFor(replicas: number, weight: number): number {
  if (weight <= 0) return replicas;
  if (weight >= 100) return 0;
  return replicas - Math.min(replicas, Math.max(1, Math.ceil((weight * replicas) / 100)));
}

/** The weight a partition gives the canary: the share of pods at or above it (what `weir get` shows). */
export function weightOfPartition(replicas: number, partition: number): number {
  if (replicas <= 0) return 0;
  const canary = Math.max(0, replicas - Math.min(partition, replicas));
  return Math.round((canary * 100) / replicas);
}

/** The merge patch that sets the partition: the one field Weir writes on a StatefulSet. */
export function partitionPatch(partition: number): Record<string, unknown> {
  return { spec: { updateStrategy: { rollingUpdate: { partition } } } };
}

/** Why Weir cannot release this StatefulSet, or undefined when it can. */
export function statefulSetUnsupported(sts: k8s.V1StatefulSet): string | undefined {
  const strategy = sts.spec?.updateStrategy?.type;
  if (strategy !== undefined && strategy !== 'RollingUpdate')
    return `StatefulSet ${sts.metadata?.name} has updateStrategy ${strategy}: a partition only holds pods back under RollingUpdate; use RollingUpdate`;
  return undefined;
}

/**
 * What a StatefulSet runs, from its status: whether the stable set and the canary
 * are ready, and what the stable set runs (`revision` when every pod runs the
 * declared template, the controller's current revision otherwise).
 */
export function statefulSetView(
  sts: k8s.V1StatefulSet,
  revision: string,
): { stableReady: boolean; canaryReady: boolean; stableRevision: string } {
  const s = sts.status;
  const replicas = replicasOf(sts);
  const partition = Math.min(partitionOf(sts), replicas);
  const observed = (s?.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0);
  const allReady = observed && replicas > 0 && (s?.readyReplicas ?? 0) >= replicas;
  const settled =
    s?.currentRevision !== undefined &&
    s.currentRevision === s.updateRevision &&
    (s.updatedReplicas ?? 0) >= replicas;
  // Mid-release: the pods at or above the partition run the update, the others the current revision.
  const split =
    (s?.updatedReplicas ?? 0) >= replicas - partition && (s?.currentReplicas ?? 0) >= partition;
  return {
    stableReady: allReady,
    canaryReady: allReady && (settled || split),
    stableRevision: settled ? revision : `statefulset:${s?.currentRevision ?? 'unknown'}`,
  };
}

/** The ordinal of a StatefulSet's pod from its name (`web-3` → 3), or undefined. */
export function ordinalOf(sts: k8s.V1StatefulSet, pod: k8s.V1Pod): number | undefined {
  const prefix = `${sts.metadata?.name}-`;
  const name = pod.metadata?.name ?? '';
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}

/**
 * The pods a template variable names: a regular expression matching exactly the
 * pods of `ordinals` (`web-(3|4)`), for a PromQL `pod=~"…"`. With no pod it
 * matches none: `web--1` is no ordinal a StatefulSet gives.
 */
export function podPattern(name: string, ordinals: number[]): string {
  return `${name}-(${ordinals.length > 0 ? ordinals.join('|') : '-1'})`;
}

/** The canary's and the stable set's pods, by the partition in place. */
export function podGroups(sts: k8s.V1StatefulSet): { canary: string; stable: string } {
  const replicas = replicasOf(sts);
  const partition = Math.min(partitionOf(sts), replicas);
  const all = Array.from({ length: replicas }, (_, i) => i);
  const name = sts.metadata?.name ?? '';
  return {
    canary: podPattern(
      name,
      all.filter((i) => i >= partition),
    ),
    stable: podPattern(
      name,
      all.filter((i) => i < partition),
    ),
  };
}

/** Whether the StatefulSet's status says a pod below the partition may not run the current revision. */
export function mayNeedRestore(sts: k8s.V1StatefulSet): boolean {
  const s = sts.status;
  if (!s?.currentRevision) return false;
  // One revision (Git reverted the template mid-rollback): a pod on any other still needs it,
  // and the controller counts it neither as current nor as updated.
  if (s.currentRevision === s.updateRevision) return (s.currentReplicas ?? 0) < (s.replicas ?? 0);
  const replicas = replicasOf(sts);
  const partition = Math.min(partitionOf(sts), replicas);
  return (
    (s.updatedReplicas ?? 0) > replicas - partition ||
    (s.currentReplicas ?? 0) < partition ||
    (s.currentReplicas ?? 0) + (s.updatedReplicas ?? 0) < (s.replicas ?? 0)
  );
}

const isReady = (p: k8s.V1Pod) =>
  !p.metadata?.deletionTimestamp &&
  (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * The next pod to delete so that the StatefulSet controller recreates it at the
 * current revision: a pod below the partition that runs another revision, one
 * that is not Ready first (it serves nothing: a crash-looping canary), then the
 * highest ordinal. Only while every pod of the StatefulSet is there and not
 * terminating, and every pod that stays is Ready, so no more than the pods being
 * put back are down at a time. Only pods the StatefulSet controls count. Undefined
 * when there is none, or it is not yet time.
 */
export function nextPodToRestore(sts: k8s.V1StatefulSet, pods: k8s.V1Pod[]): k8s.V1Pod | undefined {
  const current = sts.status?.currentRevision;
  if (!current) return undefined;
  const replicas = replicasOf(sts);
  const partition = Math.min(partitionOf(sts), replicas);
  const controlled = (p: k8s.V1Pod) =>
    (p.metadata?.ownerReferences ?? []).some(
      (o) => o.controller && o.kind === 'StatefulSet' && o.uid === sts.metadata?.uid,
    );
  const mine = pods
    .filter(controlled)
    .map((pod) => ({ pod, ordinal: ordinalOf(sts, pod) }))
    .filter((p): p is { pod: k8s.V1Pod; ordinal: number } => p.ordinal !== undefined);
  const present = new Set(
    mine
      .filter((p) => p.ordinal < replicas && !p.pod.metadata?.deletionTimestamp)
      .map((p) => p.ordinal),
  );
  if (present.size < replicas || mine.some((p) => p.pod.metadata?.deletionTimestamp))
    return undefined;
  const stale = (p: { pod: k8s.V1Pod; ordinal: number }) =>
    p.ordinal < partition && p.pod.metadata?.labels?.[podRevisionLabel] !== current;
  if (!mine.every((p) => stale(p) || isReady(p.pod))) return undefined;
  return mine
    .filter(stale)
    .sort((a, b) => Number(isReady(a.pod)) - Number(isReady(b.pod)) || b.ordinal - a.ordinal)[0]
    ?.pod;
}
