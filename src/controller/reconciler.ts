import type { Logger } from 'pino';
import type { Canary, CanaryStatus } from '../api/types.js';
import { RoutingBlocked } from '../errors.js';
import type { KubeAccess } from '../kube/access.js';
import { mergePatchOf } from '../kube/merge-patch.js';
import { validateDocument } from '../lint/validate.js';
import type { Observation } from '../machine/canary-machine.js';
import type { RouterRegistry } from '../routers/registry.js';
import type { Clock } from '../util/clock.js';
import { referencedConfigs } from '../workloads/configs.js';
import { CanaryMemories, type CanaryMemory } from './canary-memory.js';
import type { CheckRunner } from '../contracts/checks.js';
import { checksTimeoutMs, decideStep } from './decide.js';
import { EffectRunner } from './effects.js';
import { fillOutbox } from './outbox.js';
import {
  imagesOf,
  isBlocked,
  observe,
  replicasInGit,
  targetOf,
  trackedConfigRevisions,
  type Blocked,
  type Caches,
} from './observe.js';
import { metricsReadiness } from './preflight.js';
import type { Recorder } from './recorder.js';
import type { Telemetry } from './telemetry.js';
import {
  blockedStatus,
  releaseStatus,
  sameStatus,
  statusMachine,
  type StatusMachine,
} from './status.js';
import type { HandlerResult } from './work-queue.js';

export type { Caches } from './observe.js';
export { finalizer } from './effects.js';
export { metricsCondition } from './status.js';

/** Everything the reconciler needs, injected. */
export interface ReconcilerDeps {
  kube: KubeAccess;
  caches: Caches;
  routers: RouterRegistry;
  checks: CheckRunner;
  recorder: Recorder;
  telemetry: Telemetry;
  clock: Clock;
  logger: Logger;
  /** Provider used when a Canary does not name one. */
  defaultProvider: string;
  /** Puts a key back on the work queue (when background checks finish). */
  enqueue: (key: string) => void;
  /**
   * Makes `caches.secret` current for these Secrets of a namespace: Secrets are
   * watched by metadata only and read by name when a target uses them.
   */
  loadSecrets?: (namespace: string, names: string[]) => Promise<void>;
}

/** How long a Canary its effects blocked waits before they are tried again. */
const blockedRetryMs = 60_000;

/**
 * reconcile(key), in the order controller-runtime reconcilers read:
 *   1. observe the Canary's world from the caches (or say why it cannot be acted on);
 *   2. decide with the machine (an observation, then the step's check results once in);
 *   3. write the decided status, in one write, before acting on it;
 *   4. perform the effects; the next reconcile performs them again if this one is cut short;
 *   5. record the transitions (Events, logs, metrics, the CanaryRun, notifications).
 * Safe to run any number of times: a missed or repeated event changes nothing.
 */
export class Reconciler {
  private readonly memories: CanaryMemories;
  private readonly effects: EffectRunner;

  constructor(private readonly deps: ReconcilerDeps) {
    this.memories = new CanaryMemories(deps.enqueue, () => deps.clock.now());
    this.effects = new EffectRunner({ kube: deps.kube, clock: deps.clock });
  }

  /**
   * True when a watched change of a Canary is only the echo of this controller's
   * own status write: same spec and metadata as last reconciled, and the status it
   * wrote. Such an update needs no reconcile (its next step is already queued).
   */
  isOwnEcho(canary: Canary): boolean {
    const memory = this.memories.peek(keyOf(canary));
    if (!memory?.written || memory.input !== inputOf(canary)) return false;
    return writesOf(canary.status) === writesOf(memory.written);
  }

  /** Canaries remembered (for self-telemetry and tests). */
  get remembered(): number {
    return this.memories.size;
  }

  /** Cancels background checks (shutdown, or leadership lost). */
  stop(): void {
    this.memories.cancelAll();
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const cached = this.deps.caches.canary(namespace, name);
    if (!cached) {
      this.memories.forget(key);
      this.deps.recorder.forget(namespace, name);
      this.deps.routers.forget(namespace, name);
      return;
    }
    const memory = this.memories.of(key);
    const canary = freshest(cached, memory);
    memory.input = inputOf(canary);
    const log = this.deps.logger.child({ canary: key });
    const target = targetOf(canary, this.deps.caches);
    if (target && this.deps.loadSecrets)
      await this.deps.loadSecrets(namespace, referencedConfigs(target.spec?.template).secrets);
    const now = this.deps.clock.now();

    // 1. Observe.
    const world = observe(canary, {
      caches: this.deps.caches,
      routers: this.deps.routers,
      defaultProvider: this.deps.defaultProvider,
      invalidity: (c) => this.invalidity(c, memory),
    });
    if (isBlocked(world)) return this.block(canary, memory, world, log);
    // Blocked by its effects: unchanged since, it waits for the next attempt; a new
    // generation (the user's fix) is tried at once.
    if (memory.blocked?.generation !== canary.metadata.generation) memory.blocked = undefined;
    if (memory.blocked && now < memory.blocked.retryAt) {
      await this.block(canary, memory, memory.blocked, log);
      return { requeueAt: memory.blocked.retryAt };
    }
    if (canary.spec.revertOnDeletion && !canary.metadata.deletionTimestamp)
      await this.effects.setFinalizer(canary, true);

    // 2. Decide.
    const stored = statusMachine(canary.status);
    if (world.kind === 'StatefulSet' && world.observation.canaryReady)
      memory.canaryReadySince ??= now;
    else memory.canaryReadySince = undefined;
    const observation: Observation = {
      ...world.observation,
      now,
      routedAt: Math.max(memory.routes?.since ?? now, memory.canaryReadySince ?? -Infinity),
    };
    const { decision, recorded, checksPending } = decideStep(
      {
        checks: this.deps.checks,
        memories: this.memories,
        logger: this.deps.logger,
        telemetry: this.deps.telemetry,
      },
      { key, world, stored, obs: observation },
    );
    const metrics = metricsReadiness({
      key,
      canary,
      phase: decision.phase,
      checks: this.deps.checks,
      probes: this.memories.preflights,
      now,
    });

    // 3. Write the decided status before acting on it: a decision is never acted on
    // and then forgotten (a write that fails after the routes moved would let the
    // next reconcile decide again from the older state).
    const outbox = fillOutbox({
      stored,
      recorded,
      flushed: this.deps.recorder.flushedSeq(canary),
      canary: name,
      revision: world.revision,
      context: decision.context,
      nowIso: new Date(now).toISOString(),
    });
    const writes = stored?.writes ?? 0;
    const machine: StatusMachine = {
      ...decision.snapshot,
      writes,
      seq: outbox.seq,
      // Recorded entries leave the outbox with the next write that is needed anyway:
      // pruning alone is not worth a write.
      outbox: recorded.length > 0 ? outbox.entries : (stored?.outbox ?? []),
      ...(outbox.run ? { run: outbox.run } : {}),
    };
    const status = releaseStatus({
      canary,
      decision,
      machine,
      run: outbox.run,
      metrics,
      trackedConfigs: trackedConfigRevisions(world),
      replicasInGit: replicasInGit(world),
      nowIso: new Date(now).toISOString(),
    });
    let requeueAt = checksPending ? now + checksTimeoutMs + 5_000 : undefined;
    const persist = async () => {
      if (sameStatus(canary.status, status)) return;
      machine.writes = writes + 1;
      // Conditional on the version decided from: a write that a stalled API server
      // delays can never land over a newer one (it fails, and the next reconcile decides again).
      const written = await this.deps.kube.patchStatus(
        'canaries',
        { namespace, name },
        mergePatchOf(canary.status, status) as Record<string, unknown>,
        canary.metadata.resourceVersion,
      );
      memory.written = status;
      memory.resourceVersion = written;
      // The echo of this write is not reconciled (isOwnEcho): a decision that set no
      // time to look again gets the immediate second look the echo used to give it.
      requeueAt = now;
    };
    // A Canary its effects blocked (an object it must not take over, a route the
    // router refused) is tried again with the effects first: its decision is written
    // only once they went through, so the blocked condition does not flap.
    const retrying = memory.blocked !== undefined;
    if (!retrying) await persist();

    // 4. Act.
    try {
      const performed = await this.effects.perform(decision.effects, world, memory);
      if (performed.finalized) return;
      if (performed.requeueAt !== undefined)
        requeueAt = Math.min(requeueAt ?? Infinity, performed.requeueAt);
    } catch (err) {
      // Weir does not watch other projects' objects: look again later.
      if (err instanceof RoutingBlocked) {
        memory.blocked = {
          reason: err.reason,
          message: err.message,
          generation: canary.metadata.generation,
          retryAt: now + blockedRetryMs,
        };
        await this.block(freshest(canary, memory), memory, memory.blocked, log);
        return { requeueAt: memory.blocked.retryAt };
      }
      throw err;
    }
    if (retrying) {
      memory.blocked = undefined;
      await persist();
    }

    // 5. Record.
    this.deps.telemetry.canaryAt(canary, decision.phase, decision.context.weight);
    await this.deps.recorder.flush(canary, outbox.entries, imagesOf(world));
    if (decision.phase !== decision.previousPhase)
      log.debug(
        {
          from: decision.previousPhase,
          to: decision.phase,
          revision: world.revision,
        },
        'Phase changed',
      );
    return requeueAt !== undefined ? { requeueAt } : undefined;
  }

  /**
   * Why the Canary is invalid, or undefined. Validation (schema and CEL) runs again
   * only when what it reads changes, not on every tick and status write.
   */
  private invalidity(canary: Canary, memory: CanaryMemory): string | undefined {
    const { labels, annotations, name, namespace } = canary.metadata;
    const input = `${canary.metadata.uid}/${canary.metadata.generation}/${JSON.stringify([labels, annotations, name, namespace])}`;
    if (memory.validation?.input === input) return memory.validation.problem;
    const errors = validateDocument(canary).filter(
      (v) => v.severity === 'error' && !v.path.startsWith('status'),
    );
    const problem =
      errors.length > 0 ? errors.map((v) => `${v.path}: ${v.message}`).join('; ') : undefined;
    memory.validation = { input, problem };
    return problem;
  }

  /** A Canary that cannot be acted on: say why in a condition (and an Event when it changes). */
  private async block(
    canary: Canary,
    memory: CanaryMemory,
    blocked: Blocked,
    log: Logger,
  ): Promise<HandlerResult> {
    const now = this.deps.clock.now();
    const nowIso = new Date(now).toISOString();
    const status = blockedStatus(canary, blocked.reason, blocked.message, nowIso);
    if (!sameStatus(canary.status, status)) {
      log.warn({ reason: blocked.reason }, blocked.message);
      await this.deps.kube.patchStatus(
        'canaries',
        { namespace: canary.metadata.namespace!, name: canary.metadata.name! },
        status as never,
        canary.metadata.resourceVersion,
      );
      memory.written = undefined;
      memory.resourceVersion = undefined;
      await this.deps.recorder.event(canary, {
        id: now.toString(16),
        reason: blocked.reason,
        message: blocked.message,
        time: nowIso,
        warning: true,
      });
    }
    // A missing target appears through the workload watches; look again later anyway.
    return blocked.reason === 'TargetNotFound' ? { requeueAt: now + 60_000 } : undefined;
  }
}

function keyOf(canary: Canary): string {
  return `${canary.metadata.namespace}/${canary.metadata.name}`;
}

function writesOf(status: CanaryStatus | undefined): number {
  return statusMachine(status)?.writes ?? 0;
}

/** The cached Canary, with the status this controller last wrote if the cache has not caught up. */
function freshest(cached: Canary, memory: CanaryMemory): Canary {
  const mine = memory.written;
  if (!mine || writesOf(cached.status) >= writesOf(mine)) return cached;
  return {
    ...cached,
    metadata: { ...cached.metadata, resourceVersion: memory.resourceVersion },
    status: mine,
  };
}

/** Everything of a Canary but its status: a change here always needs a reconcile. */
function inputOf(canary: Canary): string {
  const { generation, annotations, labels, finalizers, deletionTimestamp, uid } = canary.metadata;
  return JSON.stringify([uid, generation, annotations, labels, finalizers, deletionTimestamp]);
}
