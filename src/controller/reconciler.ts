import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { CanaryPhase } from '../api/canary-schema.js';
import { manualAnnotations } from '../api/annotations.js';
import type { Canary, CanaryStatus } from '../api/types.js';
import { RoutingBlocked } from '../errors.js';
import type { KubeAccess } from '../kube/access.js';
import { validateDocument } from '../lint/validate.js';
import type { Effect } from '../machine/canary-machine.js';
import { decide, type Decision, type PersistedMachine } from '../machine/release.js';
import {
  defaults,
  mirrorStep,
  routeWeight,
  stepHasTraffic,
  stepHooks,
  strategyOf,
} from '../machine/steps.js';
import type { RouterRegistry } from '../routers/registry.js';
import type { Router, Routes } from '../routers/router.js';
import type { Clock } from '../util/clock.js';
import {
  namesOf,
  primaryDeployment,
  revisionAnnotation,
  revisionOf,
  rolledOut,
  selectorLabel,
  services,
  stable,
} from '../workloads/workloads.js';
import { configContent, primaryConfigs, trackedConfigs } from '../workloads/configs.js';
import { Background } from './background.js';
import type { CheckOutcome, CheckRunner } from './checks.js';
import { evaluateGates } from './gates.js';
import type { HandlerResult } from './work-queue.js';
import type { Recorder } from './recorder.js';
import type { RecordEntry } from './records.js';

/** Reads from the informer caches: the reconciler never GETs from the API server. */
export interface Caches {
  canary(namespace: string, name: string): Canary | undefined;
  deployment(namespace: string, name: string): k8s.V1Deployment | undefined;
  configMap(namespace: string, name: string): k8s.V1ConfigMap | undefined;
  secret(namespace: string, name: string): k8s.V1Secret | undefined;
}

/** Everything the reconciler needs, injected. */
export interface ReconcilerDeps {
  kube: KubeAccess;
  caches: Caches;
  routers: RouterRegistry;
  checks: CheckRunner;
  recorder: Recorder;
  clock: Clock;
  logger: Logger;
  /** Provider used when a Canary does not name one. */
  defaultProvider: string;
  /** Puts a key back on the work queue (when background checks finish). */
  enqueue: (key: string) => void;
}

/** Holds a Canary with revertOnDeletion until its target is restored. */
export const finalizer = 'weir.dev/finalizer';

/** What is persisted in `status.machine`: the release machine plus the recording outbox. */
interface StoredMachine extends PersistedMachine {
  /** Incremented on every status write: tells a stale cache from what was just written. */
  writes?: number;
  seq?: number;
  outbox?: RecordEntry[];
  run?: string;
}

type ConditionStatus = 'True' | 'False' | 'Unknown';
type Condition = NonNullable<CanaryStatus['conditions']>[number];

/**
 * reconcile(key): observe from the caches, let the machine decide, perform the
 * effects, write the status once, then record. Safe to run any number of times:
 * a missed or repeated event changes nothing.
 */
export class Reconciler {
  /** The routes last applied per Canary, so an unchanged split is not written again. */
  private readonly applied = new Map<string, string>();
  /**
   * The primary last applied per Canary (a hash of what was applied, and the
   * generation the API server gave it), so Promoting's polls do not write it again.
   */
  private readonly primaries = new Map<string, string>();
  /** The status last written per Canary: the cache may not have seen it yet. */
  private readonly written = new Map<string, CanaryStatus>();
  /** What the last reconcile of each Canary read besides its status (see `isOwnEcho`). */
  private readonly reconciledInput = new Map<string, string>();
  /** Validation result per Canary, for the spec and metadata it was computed from. */
  private readonly validated = new Map<string, { input: string; problem: string | undefined }>();

  /** Analysis checks in flight or done, per Canary and step. */
  private readonly checks: Background<CheckOutcome>;
  /** Pre-release probes of the metric providers, per Canary. */
  private readonly preflights: Background<string | undefined>;

  constructor(private readonly deps: ReconcilerDeps) {
    const now = () => deps.clock.now();
    this.checks = new Background(deps.enqueue, now);
    this.preflights = new Background(deps.enqueue, now);
  }

  /**
   * True when a watched change of a Canary is only the echo of this controller's
   * own status write: same spec and metadata as last reconciled, and the status it
   * wrote. Such an update needs no reconcile (its next step is already queued).
   */
  isOwnEcho(canary: Canary): boolean {
    const key = `${canary.metadata.namespace}/${canary.metadata.name}`;
    const mine = this.written.get(key);
    if (!mine || this.reconciledInput.get(key) !== inputOf(canary)) return false;
    const writes = (s: CanaryStatus | undefined) =>
      (s?.machine as StoredMachine | undefined)?.writes;
    return writes(canary.status) === writes(mine);
  }

  /** Cancels background checks (shutdown). */
  stop(): void {
    this.checks.cancelAll();
    this.preflights.cancelAll();
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const cached = this.deps.caches.canary(namespace, name);
    if (!cached) {
      this.checks.cancel(key);
      this.preflights.cancel(key);
      this.written.delete(key);
      this.reconciledInput.delete(key);
      this.validated.delete(key);
      this.applied.delete(key);
      this.primaries.delete(key);
      this.deps.recorder.forget(namespace, name);
      this.deps.routers.forget(namespace, name);
      return;
    }
    const canary = this.freshest(key, cached);
    this.reconciledInput.set(key, inputOf(canary));
    const log = this.deps.logger.child({ canary: key });
    const now = this.deps.clock.now();

    const invalid = this.invalidity(key, canary);
    if (invalid) return this.block(canary, 'InvalidSpec', invalid, log);
    const target = this.deps.caches.deployment(namespace, canary.spec.targetRef.name);
    if (!target) {
      return this.block(
        canary,
        'TargetNotFound',
        `Deployment ${namespace}/${canary.spec.targetRef.name} not found`,
        log,
      );
    }
    const label = selectorLabel(target);
    if (!label) {
      return this.block(
        canary,
        'TargetWithoutSelectorLabel',
        `Deployment ${canary.spec.targetRef.name} has none of the selector labels app, name or app.kubernetes.io/name`,
        log,
      );
    }
    const names = namesOf(canary);
    const primary = this.deps.caches.deployment(namespace, names.primary);
    if (primary && !ownedBy(primary, canary)) {
      return this.block(
        canary,
        'NameConflict',
        `Deployment ${names.primary} exists and is not owned by this Canary`,
        log,
      );
    }
    const provider = canary.spec.provider ?? this.deps.defaultProvider;
    const resolved = this.deps.routers.resolve(provider);
    if ('error' in resolved) return this.block(canary, 'UnknownProvider', resolved.error, log);
    const router = resolved;
    const analysis = canary.spec.analysis;
    const strategy = strategyOf(analysis);
    const unsupported = router.unsupported(canary, strategy);
    if (unsupported) return this.block(canary, 'UnsupportedStrategy', unsupported, log);

    if (canary.spec.revertOnDeletion && !canary.metadata.deletionTimestamp)
      await this.setFinalizer(canary, true);

    const configs = trackedConfigs(target.spec?.template, {
      configMap: (n) => this.deps.caches.configMap(namespace, n),
      secret: (n) => this.deps.caches.secret(namespace, n),
    });
    const hasConfigs = configs.configMaps.length + configs.secrets.length > 0;
    const revision = revisionOf(
      target.spec?.template,
      hasConfigs ? configContent(configs) : undefined,
    );
    const annotations = canary.metadata.annotations ?? {};
    const stored = canary.status?.machine as StoredMachine | undefined;
    const obs = {
      now,
      analysis,
      revision,
      primaryReady: rolledOut(primary),
      primaryRevision: primary?.metadata?.annotations?.[revisionAnnotation],
      canaryReady: rolledOut(target),
      progressDeadlineSeconds:
        canary.spec.progressDeadlineSeconds ?? defaults.progressDeadlineSeconds,
      skipAnalysis: Boolean(canary.spec.skipAnalysis),
      suspended: Boolean(canary.spec.suspend),
      deleting: Boolean(canary.metadata.deletionTimestamp),
      revertOnDeletion: Boolean(canary.spec.revertOnDeletion),
      gates: evaluateGates(canary, revision),
      manual: {
        ...token(annotations[manualAnnotations.promote], revision, 'promote'),
        ...token(annotations[manualAnnotations.abort], revision, 'abort'),
        ...token(annotations[manualAnnotations.retry], revision, 'retry'),
      },
    };

    let decision = decide(stored, { type: 'OBSERVE', obs });
    const effects: Effect[] = [...decision.effects];
    const phaseBefore = decision.previousPhase;
    const recorded: {
      effect: Extract<Effect, { type: 'record' }>;
      from: CanaryPhase;
      to: CanaryPhase;
      metrics?: RecordEntry['metrics'];
      webhooks?: RecordEntry['webhooks'];
    }[] = [];
    for (const e of decision.effects)
      if (e.type === 'record') recorded.push({ effect: e, from: phaseBefore, to: decision.phase });

    // Checks run in the background; the step is decided when their result is in.
    let requeueAt: number | undefined;
    if (effects.some((e) => e.type === 'runChecks')) {
      const c = decision.context;
      const step = `${decision.phase}/${c.revision}/${c.iterations}/${c.lastStepAt ?? ''}/${c.lastGateAt ?? ''}`;
      const polled = this.checks.poll(key, step, (signal) =>
        this.deps.checks
          .run(canary, {
            revision,
            phase: decision.phase,
            weight: c.weight,
            iterations: c.iterations,
            hooks: stepHooks(decision.phase, analysis, c.weight, c.iterations, c.stepPassed),
            measure: stepHasTraffic(
              decision.phase,
              c.weight,
              c.iterations,
              mirrorStep(analysis, decision.phase, c.weight),
            ),
            signal: AbortSignal.any([signal, AbortSignal.timeout(checksTimeoutMs)]),
          })
          .catch((err: Error) => ({
            passed: false,
            failures: [`checks could not run: ${err.message}`],
          })),
      );
      if (!polled.done) {
        log.debug({ step }, 'Checks running');
        // Their completion re-queues the Canary; this is only a safety net.
        requeueAt = now + checksTimeoutMs + 5_000;
      } else {
        const outcome = polled.result;
        log.debug({ step, passed: outcome.passed, failures: outcome.failures }, 'Checks done');
        const afterChecks = decide(decision.persisted, {
          type: 'CHECKS',
          result: {
            now: polled.startedAt,
            analysis,
            passed: outcome.passed,
            failures: outcome.failures,
            promotionOpen: obs.gates.promotion || outcome.gates?.promotion === true,
            ...(outcome.gates?.rollout !== undefined
              ? { rolloutConfirmed: outcome.gates.rollout }
              : {}),
            ...(outcome.gates?.trafficIncrease !== undefined
              ? { trafficIncreaseOpen: outcome.gates.trafficIncrease }
              : {}),
            ...(outcome.rollbackRequested ? { rollbackRequested: outcome.rollbackRequested } : {}),
          },
        });
        for (const e of afterChecks.effects) {
          effects.push(e);
          if (e.type === 'record')
            recorded.push({
              effect: e,
              from: decision.phase,
              to: afterChecks.phase,
              ...(outcome.metrics ? { metrics: outcome.metrics } : {}),
              ...(outcome.webhooks ? { webhooks: outcome.webhooks } : {}),
            });
        }
        if (outcome.metrics) this.deps.recorder.metricValues(canary, outcome.metrics);
        decision = { ...afterChecks, previousPhase: phaseBefore };
      }
    } else {
      // The release moved on (new revision, rollback, promotion): stop what was measuring it.
      this.checks.cancel(key);
    }
    const metricsReady = this.metricsReadiness(key, canary, decision.phase);

    // Primary (with its config copies) from the target's current template; idempotent.
    const applyPrimary = async () => {
      const copies = primaryConfigs(canary, configs);
      const deployment = primaryDeployment(canary, target, primary, label, configs);
      const content = createHash('sha256')
        .update(JSON.stringify([copies, deployment]))
        .digest('hex');
      // Unchanged content on an unchanged primary (same generation): nothing to write.
      if (this.primaries.get(key) === `${content}/${primary?.metadata?.generation}`) return;
      for (const c of copies) await this.deps.kube.apply(c);
      const applied = await this.deps.kube.apply(deployment);
      this.primaries.set(key, `${content}/${applied?.metadata?.generation}`);
    };
    // The target gets the primary's replica count back when Weir had scaled it to zero.
    const scaleTargetUp = async () => {
      if ((target.spec?.replicas ?? 1) !== 0) return;
      await this.deps.kube.scaleDeployment(
        { namespace, name: target.metadata!.name! },
        primary?.spec?.replicas || 1,
      );
    };

    // Effects, in the order the machine gave them.
    try {
      for (const e of effects) {
        switch (e.type) {
          case 'bootstrap':
            await applyPrimary();
            for (const svc of services(canary, label)) await this.deps.kube.apply(svc);
            await this.route(key, router, canary, { canaryWeight: 0, matchToCanary: false });
            break;
          case 'scaleCanaryUp':
            await scaleTargetUp();
            break;
          case 'scaleCanaryDown':
            if ((target.spec?.replicas ?? 1) !== 0)
              await this.deps.kube.scaleDeployment({ namespace, name: target.metadata!.name! }, 0);
            break;
          case 'setWeight':
            await this.route(key, router, canary, {
              canaryWeight: routeWeight(analysis, e.weight),
              matchToCanary: strategy === 'abTesting' && decision.phase === 'Progressing',
              mirror: mirrorStep(analysis, decision.phase, e.weight),
            });
            break;
          case 'promote':
            if (e.revision === revision) await applyPrimary();
            break;
          case 'finalize':
            if (e.revert) {
              // Give the target back its replicas and its traffic before the generated objects go.
              await scaleTargetUp();
              await router.finalize(canary);
            }
            await this.setFinalizer(canary, false);
            return;
          case 'requeue':
            requeueAt = Math.min(requeueAt ?? Infinity, e.at);
            break;
          case 'record':
          case 'runChecks':
            break;
        }
      }
    } catch (err) {
      // The machine's step is not persisted: the same step is taken once the user fixes it.
      // Weir does not watch other projects' objects: look again later.
      if (err instanceof RoutingBlocked) {
        await this.block(canary, err.reason, err.message, log);
        return { requeueAt: now + 60_000 };
      }
      throw err;
    }
    // The outbox: new entries get seq numbers; entries already in their run are dropped.
    const flushed = this.deps.recorder.flushedSeq(canary);
    let seq = stored?.seq ?? 0;
    let run = stored?.run;
    const entries: RecordEntry[] = (stored?.outbox ?? []).filter((e) => e.seq > flushed);
    for (const r of recorded) {
      seq += 1;
      if (r.effect.event === 'new-revision') run = `${name}-${seq}`.slice(0, 253);
      entries.push({
        seq,
        time: new Date(now).toISOString(),
        from: r.from,
        to: r.to,
        event: r.effect.event,
        reason: r.effect.reason,
        message: r.effect.message,
        weight: decision.context.weight,
        failedChecks: decision.context.failedChecks,
        revision: decision.context.revision ?? revision,
        ...(run && r.to !== 'Initialized' ? { run } : {}),
        ...(r.metrics ? { metrics: r.metrics } : {}),
        ...(r.webhooks ? { webhooks: r.webhooks } : {}),
      });
    }
    const writes = stored?.writes ?? 0;
    const machine: StoredMachine = {
      ...decision.persisted,
      writes,
      seq,
      // Recorded entries leave the outbox with the next write that is needed anyway:
      // pruning alone is not worth a write.
      outbox: recorded.length > 0 ? entries : (stored?.outbox ?? []),
      ...(run ? { run } : {}),
    };

    const status = this.status(canary, decision, machine, run, metricsReady);
    if (hasConfigs) {
      status.trackedConfigs = Object.fromEntries([
        ...configs.configMaps.map((c) => [
          `configmap/${c.metadata!.name}`,
          revisionOf(undefined, [c.data, c.binaryData]),
        ]),
        ...configs.secrets.map((x) => [
          `secret/${x.metadata!.name}`,
          revisionOf(undefined, [x.data]),
        ]),
      ]);
    }
    if (!sameStatus(canary.status, status)) {
      machine.writes = writes + 1;
      await this.deps.kube.patchStatus(
        'canaries',
        { namespace, name },
        status as Record<string, unknown>,
      );
      this.written.set(key, status);
      // The echo of this write is not reconciled (isOwnEcho): a decision that set no
      // time to look again gets the immediate second look the echo used to give it.
      requeueAt ??= now;
    }
    this.deps.recorder.observe(canary, decision.phase, decision.context.weight);
    await this.deps.recorder.flush(canary, entries, imagesOf(primary, target));
    if (decision.phase !== phaseBefore) {
      log.debug({ from: phaseBefore, to: decision.phase, revision }, 'Phase changed');
    }
    return requeueAt !== undefined ? { requeueAt } : undefined;
  }

  /**
   * Why the Canary is invalid, or undefined. Validation (schema and CEL) runs again
   * only when what it reads changes, not on every tick and status write.
   */
  private invalidity(key: string, canary: Canary): string | undefined {
    const { labels, annotations, name, namespace } = canary.metadata;
    const input = `${canary.metadata.uid}/${canary.metadata.generation}/${JSON.stringify([labels, annotations, name, namespace])}`;
    const hit = this.validated.get(key);
    if (hit?.input === input) return hit.problem;
    const errors = validateDocument(canary).filter(
      (v) => v.severity === 'error' && !v.path.startsWith('status'),
    );
    const problem =
      errors.length > 0 ? errors.map((v) => `${v.path}: ${v.message}`).join('; ') : undefined;
    this.validated.set(key, { input, problem });
    return problem;
  }

  /**
   * The MetricsAvailable condition. Outside a release (and before the first one)
   * every metric provider is probed in the background; during a release the
   * condition stays as it was and failed checks speak instead.
   */
  private metricsReadiness(key: string, canary: Canary, phase: CanaryPhase): Condition | undefined {
    const previous = canary.status?.conditions?.find((c) => c.type === metricsCondition);
    if (!canary.spec.analysis.metrics?.length || !this.deps.checks.preflight) {
      this.preflights.cancel(key);
      return undefined;
    }
    if (!idlePhases.has(phase)) return previous;
    const now = this.deps.clock.now();
    const id = `${canary.metadata.generation}/${Math.floor(now / preflightEveryMs)}`;
    const polled = this.preflights.poll(key, id, (signal) =>
      this.deps.checks.preflight!(canary, signal).catch((err: Error) => err.message),
    );
    if (!polled.done) return previous;
    const nowIso = new Date(now).toISOString();
    const generation = canary.metadata.generation ?? 0;
    return polled.result === undefined
      ? condition(
          canary.status?.conditions,
          metricsCondition,
          'True',
          'ProvidersAnswer',
          'Every metric provider answers',
          generation,
          nowIso,
        )
      : condition(
          canary.status?.conditions,
          metricsCondition,
          'False',
          'ProviderUnavailable',
          polled.result,
          generation,
          nowIso,
        );
  }

  /** Adds or removes Weir's finalizer (only with revertOnDeletion: deletion then waits for the revert). */
  private async setFinalizer(canary: Canary, present: boolean): Promise<void> {
    const current = canary.metadata.finalizers ?? [];
    if (current.includes(finalizer) === present) return;
    const finalizers = present ? [...current, finalizer] : current.filter((f) => f !== finalizer);
    await this.deps.kube.patchMetadata(
      'canaries',
      { namespace: canary.metadata.namespace!, name: canary.metadata.name! },
      {
        finalizers,
        resourceVersion: canary.metadata.resourceVersion,
      },
    );
  }

  /** The cached Canary, with the status this controller last wrote if the cache has not caught up. */
  private freshest(key: string, cached: Canary): Canary {
    const mine = this.written.get(key);
    const writes = (s: CanaryStatus | undefined) =>
      (s?.machine as StoredMachine | undefined)?.writes ?? 0;
    if (!mine || writes(cached.status) >= writes(mine)) return cached;
    return { ...cached, status: mine };
  }

  private async route(key: string, router: Router, canary: Canary, routes: Routes): Promise<void> {
    const fingerprint = JSON.stringify([router.name, routes, canary.metadata.generation]);
    if (this.applied.get(key) === fingerprint) return;
    await router.setRoutes(canary, routes);
    this.applied.set(key, fingerprint);
  }

  private status(
    canary: Canary,
    d: Decision,
    machine: StoredMachine,
    run: string | undefined,
    metricsReady: Condition | undefined,
  ): CanaryStatus {
    const previous = canary.status ?? {};
    const phaseChanged = previous.phase !== d.phase;
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    const ready: [ConditionStatus, string, string] =
      d.phase === 'Failed'
        ? ['False', 'RolledBack', d.context.message ?? 'Release rolled back']
        : ['True', d.phase, phaseMessage(d)];
    const promoted: [ConditionStatus, string, string] =
      d.phase === 'Succeeded' || d.phase === 'Initialized'
        ? ['True', d.phase, `Revision ${d.context.promotedRevision} is promoted`]
        : d.phase === 'Failed'
          ? ['False', 'RolledBack', d.context.message ?? 'Release rolled back']
          : ['Unknown', d.phase, phaseMessage(d)];
    return {
      phase: d.phase,
      canaryWeight: d.context.weight,
      failedChecks: d.context.failedChecks,
      iterations: d.context.iterations,
      ...(d.context.revision ? { lastAppliedSpec: d.context.revision } : {}),
      ...(d.context.promotedRevision ? { lastPromotedSpec: d.context.promotedRevision } : {}),
      lastTransitionTime:
        phaseChanged || !previous.lastTransitionTime ? nowIso : previous.lastTransitionTime,
      observedGeneration: canary.metadata.generation ?? 0,
      conditions: [
        condition(previous.conditions, 'Ready', ...ready, canary.metadata.generation ?? 0, nowIso),
        condition(
          previous.conditions,
          'Promoted',
          ...promoted,
          canary.metadata.generation ?? 0,
          nowIso,
        ),
        // kstatus (Flux, Argo CD health): a release in flight is Reconciling, a rolled-back one Stalled.
        ...kstatus(previous.conditions, d, canary.metadata.generation ?? 0, nowIso),
        ...(metricsReady ? [metricsReady] : []),
      ],
      ...(run ? { currentRun: run } : {}),
      machine: machine as unknown as Record<string, unknown>,
    };
  }

  /** A Canary that cannot be acted on: say why in a condition (and an Event when it changes). */
  private async block(
    canary: Canary,
    reason: string,
    message: string,
    log: Logger,
  ): Promise<HandlerResult> {
    const previous = canary.status ?? {};
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    const generation = canary.metadata.generation ?? 0;
    const ready = condition(
      previous.conditions,
      'Ready',
      'False',
      reason,
      message,
      generation,
      nowIso,
    );
    const stalled = condition(
      previous.conditions,
      'Stalled',
      'True',
      reason,
      message,
      generation,
      nowIso,
    );
    const others = (previous.conditions ?? []).filter(
      (c) => !['Ready', 'Stalled', 'Reconciling'].includes(c.type),
    );
    const status: CanaryStatus = {
      ...previous,
      observedGeneration: generation,
      conditions: [ready, ...others, stalled],
    };
    if (!sameStatus(previous, status)) {
      log.warn({ reason }, message);
      await this.deps.kube.patchStatus(
        'canaries',
        { namespace: canary.metadata.namespace!, name: canary.metadata.name! },
        status as Record<string, unknown>,
      );
      await this.deps.recorder.event(canary, {
        id: this.deps.clock.now().toString(16),
        reason,
        message,
        time: nowIso,
        warning: true,
      });
    }
    // A missing target appears through the Deployment watch; look again later anyway.
    return reason === 'TargetNotFound' ? { requeueAt: this.deps.clock.now() + 60_000 } : undefined;
  }
}

/** A manual request applies to the revision it names: `<revision>` or `<revision>-<anything>`. */
function token(value: string | undefined, revision: string, kind: string): Record<string, string> {
  return value && (value === revision || value.startsWith(`${revision}-`)) ? { [kind]: value } : {};
}

/** Condition saying whether the metric providers answer. */
export const metricsCondition = 'MetricsAvailable';
/** How often (at most) an idle Canary's metric providers are probed again. */
const preflightEveryMs = 5 * 60_000;
/** Upper bound of one step's checks; each query has its own, shorter timeout. */
const checksTimeoutMs = 60_000;
/** Phases outside a release, when the providers are probed. */
const idlePhases = new Set<CanaryPhase>([
  'Initializing',
  'Initialized',
  'Waiting',
  'Succeeded',
  'Failed',
]);

const inFlight = new Set<CanaryPhase>([
  'Initializing',
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
]);

/** kstatus conditions: present only while true, as kstatus expects of abnormal-true conditions. */
function kstatus(
  previous: Condition[] | undefined,
  d: Decision,
  generation: number,
  nowIso: string,
): Condition[] {
  if (inFlight.has(d.phase))
    return [
      condition(previous, 'Reconciling', 'True', d.phase, phaseMessage(d), generation, nowIso),
    ];
  if (d.phase === 'Failed') {
    return [
      condition(
        previous,
        'Stalled',
        'True',
        'RolledBack',
        d.context.message ?? 'Release rolled back',
        generation,
        nowIso,
      ),
    ];
  }
  return [];
}

function phaseMessage(d: Decision): string {
  switch (d.phase) {
    case 'Progressing':
      return `Analysing revision ${d.context.revision}: weight ${d.context.weight}, failed checks ${d.context.failedChecks}`;
    case 'Promoting':
      return `Promoting revision ${d.context.revision}`;
    case 'Finalising':
      return 'Routing all traffic to the primary';
    case 'Initializing':
      return 'Creating the primary and routing';
    default:
      return `Revision ${d.context.promotedRevision} runs on the primary`;
  }
}

function condition(
  previous: Condition[] | undefined,
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
  observedGeneration: number,
  nowIso: string,
): Condition {
  const old = previous?.find((c) => c.type === type);
  const changed = !old || old.status !== status;
  return {
    type,
    status,
    reason,
    message: message.slice(0, 32768),
    lastTransitionTime: changed ? nowIso : (old.lastTransitionTime ?? nowIso),
    observedGeneration,
  };
}

function ownedBy(obj: k8s.V1Deployment, canary: Canary): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((o) => o.uid === canary.metadata.uid);
}

/** Everything of a Canary but its status: a change here always needs a reconcile. */
function inputOf(canary: Canary): string {
  const { generation, annotations, labels, finalizers, deletionTimestamp, uid } = canary.metadata;
  return JSON.stringify([uid, generation, annotations, labels, finalizers, deletionTimestamp]);
}

function sameStatus(a: CanaryStatus | undefined, b: CanaryStatus): boolean {
  // Key order differs between what the API server returns and what is built here.
  return JSON.stringify(stable(a ?? {})) === JSON.stringify(stable(b));
}

function imagesOf(
  primary: k8s.V1Deployment | undefined,
  target: k8s.V1Deployment,
): { from: string[]; to: string[] } {
  const images = (d: k8s.V1Deployment | undefined) =>
    (d?.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '');
  return { from: images(primary), to: images(target) };
}
