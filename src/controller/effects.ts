import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Canary } from '../api/types.js';
import type { KubeAccess } from '../kube/access.js';
import { replicasAppliedBy } from '../kube/managed-fields.js';
import type { Effect, Routes } from '../machine/canary-machine.js';
import type { Clock } from '../util/clock.js';
import { primaryConfigs } from '../workloads/configs.js';
import { isParked, parkingPatch, primaryDaemonSet } from '../workloads/daemonsets.js';
import {
  knativeSplit,
  primaryRevisionOf,
  type KnativeTrafficTarget,
} from '../workloads/knative.js';
import {
  mayNeedRestore,
  nextPodToRestore,
  partitionFor,
  partitionOf,
  replicasOf,
} from '../workloads/statefulsets.js';
import { primaryDeployment, services } from '../workloads/workloads.js';
import type { CanaryMemory } from './canary-memory.js';
import type { World } from './observe.js';

/** Holds a Canary with revertOnDeletion until its target is restored. */
export const finalizer = 'weir.dev/finalizer';

/**
 * For a target routed in place, what its routes should be (from the target's
 * replicas or Revisions) and whether the cached target holds something else (a
 * scale, a lagging cache when the routes were last written, someone else's write).
 */
function inPlaceRoute(
  world: World,
  routes: Routes,
): { want: unknown; drifted: boolean } | undefined {
  if (world.kind === 'StatefulSet') {
    const want = partitionFor(replicasOf(world.target), routes.canaryWeight);
    const held = world.target.spec?.updateStrategy?.rollingUpdate
      ? partitionOf(world.target)
      : undefined;
    return { want, drifted: held !== want };
  }
  if (world.kind === 'KnativeService') {
    const svc = world.target;
    const { primary, traffic } = knativeSplit(svc, routes.canaryWeight);
    const split = (t: KnativeTrafficTarget[] | undefined) =>
      (t ?? []).map((e) => `${e.latestRevision ? 'latest' : e.revisionName}=${e.percent ?? 0}`);
    const want = split(traffic);
    const drifted =
      primaryRevisionOf(svc) !== primary ||
      JSON.stringify(split(svc.spec?.traffic)) !== JSON.stringify(want);
    return { want: [primary, want], drifted };
  }
  return undefined;
}

/** The world of a target released through a `<name>-primary` copy. */
type CopiedWorld = World & { kind: 'Deployment' | 'DaemonSet' };

/** What performing a decision's effects came to. */
export interface Performed {
  /** The earliest time a `requeue` effect asked to look again (epoch ms). */
  requeueAt?: number;
  /** The Canary was finalized: it is being deleted and nothing more is to be done. */
  finalized: boolean;
}

/**
 * Step 4 of a reconcile: performs the machine's effects, in order, through the
 * access layer and the router. Every effect is idempotent; the memory keeps
 * unchanged routes and primaries from being written again.
 */
export class EffectRunner {
  constructor(private readonly deps: { kube: KubeAccess; clock: Clock }) {}

  /**
   * A target with a `<name>-primary` copy gets it applied, its Services and its
   * replicas. A target released without one (a StatefulSet by its partition, ADR
   * 0019; a Knative Service by its traffic split, ADR 0020) has none of these: a
   * promotion moves its routes to the new revision, and while promoting the weight
   * the machine holds is not written over it (a partition lowered again, a split to
   * the previous primary from a stale cache). After the effects, unless promoting,
   * one StatefulSet pod below the partition that does not run the current revision
   * (after a rollback, or a release restarted by a newer revision) is evicted for
   * the StatefulSet controller to recreate at the current revision.
   */
  async perform(effects: Effect[], world: World, memory: CanaryMemory): Promise<Performed> {
    const copied: CopiedWorld | undefined =
      world.kind === 'Deployment' || world.kind === 'DaemonSet' ? world : undefined;
    const promoting =
      !copied && effects.some((e) => e.type === 'promote' && e.revision === world.revision);
    let requeueAt: number | undefined;
    for (const e of effects) {
      switch (e.type) {
        case 'bootstrap':
          if (copied) {
            await this.applyPrimary(copied, memory);
            for (const svc of services(world.canary, world.label)) await this.deps.kube.apply(svc);
          }
          if (!promoting) await this.route(world, memory, e.routes);
          break;
        case 'scaleCanaryUp':
          if (copied) await this.scaleTargetUp(copied);
          break;
        case 'scaleCanaryDown':
          if (copied) await this.scaleTargetDown(copied);
          break;
        case 'setWeight':
          if (!promoting) await this.route(world, memory, e.routes);
          break;
        case 'promote':
          if (e.revision !== world.revision) break;
          if (copied) await this.applyPrimary(copied, memory);
          else await this.promoteInPlace(world, memory, e.revision);
          break;
        case 'finalize':
          if (e.revert) {
            // Give the target back its replicas and its traffic before the generated objects go.
            if (copied) await this.scaleTargetUp(copied);
            await world.router.finalize(world.canary);
          }
          await this.setFinalizer(world.canary, false);
          return { finalized: true };
        case 'requeue':
          requeueAt = Math.min(requeueAt ?? Infinity, e.at);
          break;
        case 'record':
        case 'runChecks':
          break;
      }
    }
    // Every reconcile but a promotion's (and a deletion's, which returned above): a rollback
    // goes on whatever the machine waits for (a gate, a new revision).
    if (!promoting && world.kind === 'StatefulSet')
      await this.restoreOnePod(world.target, world.canary);
    return { ...(requeueAt !== undefined ? { requeueAt } : {}), finalized: false };
  }

  /** All of it on the new revision: partition 0, or the new Revision as the primary. */
  private async promoteInPlace(world: World, memory: CanaryMemory, revision: string) {
    const all = { canaryWeight: 100, matchToCanary: false };
    // Promoted already, as far as the cache knows.
    if (!inPlaceRoute(world, all)?.drifted) return;
    memory.routes = undefined;
    if (world.router.promote) await world.router.promote(world.canary, revision);
    else await world.router.setRoutes(world.canary, all);
  }

  /** Deletes the next pod below the partition that runs another revision than the current one. */
  private async restoreOnePod(sts: k8s.V1StatefulSet, canary: Canary): Promise<void> {
    if (!mayNeedRestore(sts)) return;
    const namespace = canary.metadata.namespace!;
    const selector = Object.entries(sts.spec?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    if (!selector) return;
    const pod = nextPodToRestore(sts, await this.deps.kube.listPods(namespace, selector));
    if (pod)
      await this.deps.kube.evictPod({ namespace, name: pod.metadata!.name! }, pod.metadata!.uid!);
  }

  /** Adds or removes Weir's finalizer (only with revertOnDeletion: deletion then waits for the revert). */
  async setFinalizer(canary: Canary, present: boolean): Promise<void> {
    const current = canary.metadata.finalizers ?? [];
    if (current.includes(finalizer) === present) return;
    const finalizers = present ? [...current, finalizer] : current.filter((f) => f !== finalizer);
    await this.deps.kube.patchMetadata(
      'canaries',
      { namespace: canary.metadata.namespace!, name: canary.metadata.name! },
      { finalizers, resourceVersion: canary.metadata.resourceVersion },
    );
  }

  /** Writes the routes unless this process already put exactly these in place. */
  private async route(world: World, memory: CanaryMemory, routes: Routes): Promise<void> {
    // A target routed in place: what it should hold depends on the target too (its
    // replicas, its Revisions), and what it holds can be changed under Weir.
    const inPlace = inPlaceRoute(world, routes);
    const fingerprint = JSON.stringify([
      world.router.name,
      routes,
      world.canary.metadata.generation,
      ...(inPlace ? [inPlace.want] : []),
    ]);
    const same = memory.routes?.fingerprint === fingerprint;
    if (same && !inPlace?.drifted) return;
    // Putting back what someone else changed is no new step: the step's time stands.
    const since = same ? memory.routes!.since : undefined;
    // Unknown until the write is answered: a write that failed or timed out may still
    // land, so the next reconcile writes the routes again whatever they were.
    memory.routes = undefined;
    await world.router.setRoutes(world.canary, routes);
    // In place from when the write was answered: the next step waits a full interval from here.
    memory.routes = { fingerprint, since: since ?? this.deps.clock.now() };
  }

  /** The primary (with its config copies) from the target's current template. */
  private async applyPrimary(world: CopiedWorld, memory: CanaryMemory): Promise<void> {
    const copies = primaryConfigs(world.canary, world.configs);
    const from = { label: world.label, configs: world.configs };
    const workload =
      world.kind === 'DaemonSet'
        ? primaryDaemonSet(world.canary, { ...from, target: world.target })
        : primaryDeployment(world.canary, {
            ...from,
            target: world.target,
            existing: world.primary,
          });
    const content = createHash('sha256')
      .update(JSON.stringify([copies, workload]))
      .digest('hex');
    // Unchanged content on an unchanged primary (same generation): nothing to write.
    if (memory.primary === `${content}/${world.primary?.metadata?.generation}`) return;
    memory.primary = undefined;
    for (const c of copies) await this.deps.kube.apply(c);
    const applied = await this.deps.kube.apply(workload);
    memory.primary = `${content}/${applied?.metadata?.generation}`;
  }

  /**
   * The target gets its pods back: a Deployment the primary's replica count when
   * Weir had scaled it to zero, a DaemonSet its nodes when Weir had parked it.
   */
  private async scaleTargetUp(world: CopiedWorld): Promise<void> {
    const ref = this.targetRef(world);
    if (world.kind === 'DaemonSet') {
      if (isParked(world.target))
        await this.deps.kube.patchWorkload('DaemonSet', ref, parkingPatch(false));
      return;
    }
    if ((world.target.spec?.replicas ?? 1) !== 0) return;
    await this.deps.kube.scaleDeployment(ref, world.primary?.spec?.replicas || 1);
  }

  /** The idle target runs no pod: a Deployment at zero replicas, a DaemonSet parked. */
  private async scaleTargetDown(world: CopiedWorld): Promise<void> {
    const ref = this.targetRef(world);
    if (world.kind === 'DaemonSet') {
      if (!isParked(world.target))
        await this.deps.kube.patchWorkload('DaemonSet', ref, parkingPatch(true));
      return;
    }
    // Replicas declared in Git are Git's: scaling them to zero would only be undone
    // by the next sync (the status says so with its ReplicasInGit condition).
    if ((world.target.spec?.replicas ?? 1) !== 0 && !replicasAppliedBy(world.target))
      await this.deps.kube.scaleDeployment(ref, 0);
  }

  private targetRef(world: World): { namespace: string; name: string } {
    return { namespace: world.canary.metadata.namespace!, name: world.target.metadata!.name! };
  }
}
