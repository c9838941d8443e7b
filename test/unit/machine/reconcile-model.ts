import type { CanaryAnalysis, CanaryPhase } from '../../../src/api/canary-schema.js';
import type {
  ChecksResult,
  Effect,
  MachineEvent,
  Observation,
  Routes,
} from '../../../src/machine/canary-machine.js';
import { decide, type Decision, type MachineSnapshot } from '../../../src/machine/release.js';

/**
 * A model of the reconciler's loop around the release machine, for property tests.
 * It follows `Reconciler.reconcile` (src/controller/reconciler.ts, ADR 0013) step by
 * step: observe (with `routedAt`, when the routes in place were written or first
 * found as wanted, from memory); decide OBSERVE from the stored status; when the
 * machine asks for checks, start them in the background keyed by the step
 * (`Background.poll`), or, when the checks of that same step are done, decide
 * CHECKS on top with `now` = the time of this reconcile; write the decided status
 * (when it changed) and only then act on the effects, in order: a write that fails
 * acts on nothing, and the work queue retries; requeue at the earliest time asked
 * (at once after a write). What the model leaves out (conditions, the outbox,
 * notifications, effects the router refuses) does not reach the machine.
 *
 * The cluster is modelled only as far as the machine observes it: the declared
 * revision, the Canary's annotations and spec (and its generation), the readiness
 * of the target and the primary, and the routed weight (the last `setWeight`
 * performed).
 */

/** What the check runner answers for one step (`CheckOutcome`, without the records). */
export interface Outcome {
  passed: boolean;
  failures: string[];
  /** Checks that could not be judged: with no failure, an inconclusive step. */
  inconclusive?: string[];
  gates: { rollout?: boolean; trafficIncrease?: boolean; promotion?: boolean };
  rollbackRequested?: string;
}

/** One step's checks in the background, as `Background` keeps them (in memory only). */
export interface Job {
  /** The step key the reconciler builds: phase/revision/iterations/lastStepAt/lastGateAt. */
  step: string;
  startedAt: number;
  /** The machine's weight and phase when the checks started. */
  weight: number;
  phase: CanaryPhase;
  analysis: CanaryAnalysis;
  outcome?: Outcome;
}

/** The Canary's manual request annotations (the reconciler filters them by revision). */
export interface Annotations {
  promote?: string;
  abort?: string;
  retry?: string;
}

/** What the cluster holds: the Canary's spec and annotations, the Deployments, the routes. */
export interface Cluster {
  analysis: CanaryAnalysis;
  progressDeadlineSeconds: number;
  /** The revision the target Deployment declares (its pod template hash). */
  revision: string;
  annotations: Annotations;
  gates: { rollout: boolean; promotion: boolean };
  suspended: boolean;
  skipAnalysis: boolean;
  deleting: boolean;
  /** The target's pods of `revision` are all available (when it is scaled up). */
  targetRolledOut: boolean;
  /** The target is scaled up (Weir scales it to zero between releases). */
  targetScaledUp: boolean;
  /** The primary Deployment: the revision it runs, and whether it has rolled out. */
  primary?: { revision: string; available: boolean };
  /** The canary weight the router carries (`Routes.canaryWeight`), and since when (changes only). */
  routed: { weight: number; since: number };
  /** `metadata.generation`: a change of the spec (not of annotations) increments it. */
  generation: number;
  /** The Canary's stored `status.machine`. */
  status?: MachineSnapshot;
  /** The generation the stored status was written for (`observedGeneration`). */
  observedGeneration?: number;
  /** Since when the canary, and the primary, have been unready (as observed by the machine). */
  unreadySince: { canary?: number; primary?: number };
}

/** Which time the reconciler gives the CHECKS event. */
export type ChecksClock =
  /** What the reconciler did before ADR 0005 was amended (defect D1): the time the checks started. */
  | 'started'
  /** What it does now (ADR 0005 as amended, ADR 0013): the time of the reconcile that decides on them. */
  | 'decided';

/** One reconcile, as the properties inspect it. */
export interface Reconciled {
  at: number;
  /** The status it started from. */
  stored?: MachineSnapshot;
  observe: { event: Extract<MachineEvent, { type: 'OBSERVE' }>; decision: Decision };
  checks?: { event: Extract<MachineEvent, { type: 'CHECKS' }>; decision: Decision; job: Job };
  /** The decision that was (to be) written. */
  decision: Decision;
  /** Its effects, in order: performed, unless the status write failed (`lost`). */
  effects: Effect[];
  routedBefore: { weight: number; since: number };
  routedAfter: { weight: number; since: number };
  /** The target's scale and the primary's revision after the effects. */
  targetScaledUp: boolean;
  primaryRevision?: string;
  /** Since when the canary and the primary had been unready when this reconcile observed them. */
  unreadySince: { canary?: number; primary?: number };
  /**
   * The status write failed: nothing was acted on, and the next reconcile starts
   * from `stored` again (the work queue retries with backoff).
   */
  lost: boolean;
  /** When the controller will look again (work queue), if it asked to. */
  wakeAt?: number;
  /** Checks running in the background after this reconcile. */
  jobAfter?: Job;
}

export const checksTimeoutMs = 60_000;
/** The work queue's first retry after a failed reconcile. */
export const retryMs = 1_000;

export function initialCluster(analysis: CanaryAnalysis, now: number): Cluster {
  return {
    analysis,
    progressDeadlineSeconds: 600,
    revision: 'rev1',
    annotations: {},
    gates: { rollout: true, promotion: true },
    suspended: false,
    skipAnalysis: false,
    deleting: false,
    targetRolledOut: true,
    targetScaledUp: true,
    generation: 1,
    routed: { weight: 0, since: now },
    unreadySince: {},
  };
}

/** The Canary's spec fields the histories change. */
export type Spec = Pick<Cluster, 'analysis' | 'suspended' | 'skipAnalysis'>;

/** Changes the Canary's spec; a change increments its generation, as the API server does. */
export function changeSpec(c: Cluster, spec: Partial<Spec>): void {
  const changed = (Object.keys(spec) as (keyof Spec)[]).some(
    (k) => spec[k] !== undefined && JSON.stringify(spec[k]) !== JSON.stringify(c[k]),
  );
  Object.assign(c, Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)));
  if (changed) c.generation += 1;
}

/** A manual request applies to the revision it names: `<revision>` or `<revision>-<anything>`. */
function tokenFor(value: string | undefined, revision: string): string | undefined {
  return value && (value === revision || value.startsWith(`${revision}-`)) ? value : undefined;
}

/** The observation the reconciler builds from its caches and its memory of the routes. */
export function observe(c: Cluster, now: number, routedAt = now): Observation {
  const manual: Observation['manual'] = {};
  for (const kind of ['promote', 'abort', 'retry'] as const) {
    const token = tokenFor(c.annotations[kind], c.revision);
    if (token) manual[kind] = token;
  }
  return {
    now,
    routedAt,
    analysis: c.analysis,
    revision: c.revision,
    primaryReady: Boolean(c.primary?.available),
    primaryRevision: c.primary?.revision,
    canaryReady: c.targetScaledUp && c.targetRolledOut,
    progressDeadlineSeconds: c.progressDeadlineSeconds,
    skipAnalysis: c.skipAnalysis,
    suspended: c.suspended,
    deleting: c.deleting,
    revertOnDeletion: false,
    gates: { ...c.gates },
    manual,
  };
}

/** The controller: a cluster, a clock, and what the controller process keeps in memory. */
export class Controller {
  now: number;
  readonly log: Reconciled[] = [];
  /** Background checks (lost on restart). */
  job: Job | undefined;
  /** The work queue's timed requeue (lost on restart; the restart reconciles everything). */
  wakeAt: number | undefined;
  /**
   * The routes this process last wrote or found in place, and since when
   * (`CanaryMemory.routes`; lost on restart). The fingerprint is the routes and the
   * Canary's generation, as `EffectRunner.route` builds it.
   */
  routes: { fingerprint: string; since: number } | undefined;
  /** The next status write fails (and so nothing of that decision is acted on). */
  loseNextWrite = false;

  constructor(
    readonly cluster: Cluster,
    now: number,
    readonly checksClock: ChecksClock = 'decided',
  ) {
    this.now = now;
  }

  /** A restarted controller: nothing in memory, only what the cluster holds. */
  restart(): void {
    this.job = undefined;
    this.wakeAt = undefined;
    this.routes = undefined;
  }

  /** One `reconcile(key)`. */
  reconcile(): Reconciled {
    const c = this.cluster;
    const now = this.now;
    const stored = c.status;
    this.stamp();
    const unreadySince = { ...c.unreadySince };
    // 1. Observe: the routes' age comes from memory (after a restart: now).
    const obs = observe(c, now, this.routes?.since ?? now);
    const observeEvent = { type: 'OBSERVE' as const, obs };
    // 2. Decide.
    const first = decide(stored, observeEvent);
    let decision = first;
    const effects = [...first.effects];
    let checks: Reconciled['checks'];
    let requeueAt: number | undefined;
    const step = first.effects.find((e) => e.type === 'runChecks')?.step;
    if (step) {
      const ctx = first.context;
      if (this.job?.step !== step.id) {
        this.job = {
          step: step.id,
          startedAt: now,
          weight: ctx.weight,
          phase: first.phase,
          analysis: obs.analysis,
        };
        requeueAt = now + checksTimeoutMs + 5_000;
      } else if (!this.job.outcome) {
        requeueAt = now + checksTimeoutMs + 5_000;
      } else {
        const outcome = this.job.outcome;
        const result: ChecksResult = {
          now: this.checksClock === 'started' ? this.job.startedAt : now,
          analysis: obs.analysis,
          passed: outcome.passed,
          failures: outcome.failures,
          ...(outcome.inconclusive ? { inconclusive: outcome.inconclusive } : {}),
          promotionOpen: obs.gates.promotion || outcome.gates.promotion === true,
          ...(outcome.gates.rollout !== undefined
            ? { rolloutConfirmed: outcome.gates.rollout }
            : {}),
          ...(outcome.gates.trafficIncrease !== undefined
            ? { trafficIncreaseOpen: outcome.gates.trafficIncrease }
            : {}),
          ...(outcome.rollbackRequested ? { rollbackRequested: outcome.rollbackRequested } : {}),
        };
        const event = { type: 'CHECKS' as const, result };
        const after = decide(first.snapshot, event);
        effects.push(...after.effects);
        decision = { ...after, previousPhase: first.previousPhase };
        checks = { event, decision: after, job: this.job };
      }
    } else {
      // The release moved on: stop what was measuring it.
      this.job = undefined;
    }

    // 3. Write the decided status before acting on it (only when it changed).
    const routedBefore = { ...c.routed };
    const changed =
      JSON.stringify(stored) !== JSON.stringify(decision.snapshot) ||
      c.observedGeneration !== c.generation ||
      effects.some((e) => e.type === 'record');
    const lost = changed && this.loseNextWrite;
    let wakeAt: number | undefined;
    if (lost) {
      // The status patch threw: nothing is acted on, and the work queue retries with backoff.
      this.loseNextWrite = false;
      wakeAt = now + retryMs;
    } else {
      if (changed) {
        c.status = decision.snapshot;
        c.observedGeneration = c.generation;
        // The echo of the write is not reconciled: the reconciler looks again at once.
        requeueAt = now;
      }
      // 4. Act.
      for (const e of effects) {
        switch (e.type) {
          case 'bootstrap':
            this.applyPrimary();
            this.route({ canaryWeight: 0, matchToCanary: false });
            break;
          case 'scaleCanaryUp':
            if (!c.targetScaledUp) {
              c.targetScaledUp = true;
              c.targetRolledOut = false;
            }
            break;
          case 'scaleCanaryDown':
            c.targetScaledUp = false;
            break;
          case 'setWeight':
            this.route(e.routes ?? { canaryWeight: 0, matchToCanary: false });
            break;
          case 'promote':
            if (e.revision === c.revision) this.applyPrimary();
            break;
          case 'requeue':
            requeueAt = Math.min(requeueAt ?? Infinity, e.at);
            break;
          case 'finalize':
          case 'record':
          case 'runChecks':
            break;
        }
      }
      wakeAt = requeueAt;
    }
    this.stamp();
    // A reconcile takes the key off the timed queue; its result puts it back (earliest wins).
    this.wakeAt = wakeAt;
    const record: Reconciled = {
      at: now,
      ...(stored ? { stored } : {}),
      observe: { event: observeEvent, decision: first },
      ...(checks ? { checks } : {}),
      decision,
      effects,
      routedBefore,
      routedAfter: { ...c.routed },
      targetScaledUp: c.targetScaledUp,
      unreadySince,
      ...(c.primary ? { primaryRevision: c.primary.revision } : {}),
      lost,
      ...(wakeAt !== undefined ? { wakeAt } : {}),
      ...(this.job ? { jobAfter: this.job } : {}),
    };
    this.log.push(record);
    return record;
  }

  /**
   * Lets time run undisturbed to the controller's next event and handles it: the
   * running checks finish `took` ms after they started (answering `outcome`), a
   * rollout the controller waits for finishes `rolloutMs` after it is first seen
   * pending (a Deployment watch event), or the timed requeue fires. Returns false
   * when nothing is pending: the Canary waits for a change in the cluster.
   */
  next(outcome: Outcome, took: number, rolloutMs = 5_000): boolean {
    const c = this.cluster;
    const pending = this.rollouts;
    if (c.targetScaledUp && !c.targetRolledOut) pending.target ??= this.now + rolloutMs;
    else delete pending.target;
    if (c.primary && !c.primary.available) pending.primary ??= this.now + rolloutMs;
    else delete pending.primary;
    const events: [number, () => void][] = [];
    const job = this.job;
    if (job && !job.outcome)
      events.push([job.startedAt + took, () => (job.outcome = structuredClone(outcome))]);
    if (pending.target !== undefined)
      events.push([pending.target, () => (c.targetRolledOut = true)]);
    if (pending.primary !== undefined)
      events.push([pending.primary, () => (c.primary!.available = true)]);
    if (this.wakeAt !== undefined) events.push([this.wakeAt, () => undefined]);
    if (events.length === 0) return false;
    const [when, happen] = events.reduce((a, b) => (b[0] < a[0] ? b : a));
    this.now = Math.max(this.now, when);
    happen();
    this.reconcile();
    return true;
  }

  /** Keeps the times since which the canary and the primary have been unready. */
  private stamp(): void {
    const c = this.cluster;
    const since = (ready: boolean, at: number | undefined) =>
      ready ? undefined : (at ?? this.now);
    c.unreadySince = {
      canary: since(c.targetScaledUp && c.targetRolledOut, c.unreadySince.canary),
      primary: since(Boolean(c.primary?.available), c.unreadySince.primary),
    };
  }

  /** When the rollouts seen pending by `next` finish. */
  private readonly rollouts: { target?: number; primary?: number } = {};

  /**
   * Writes the routes unless this process already put exactly these in place
   * (`EffectRunner.route`): the router then carries `routes.canaryWeight` (0 for
   * blue/green and A/B), and the routes are in place from now.
   */
  private route(routes: Routes): void {
    const c = this.cluster;
    const fingerprint = JSON.stringify([routes, c.generation]);
    if (this.routes?.fingerprint === fingerprint) return;
    const weight = routes.canaryWeight;
    if (weight !== c.routed.weight) c.routed = { weight, since: this.now };
    this.routes = { fingerprint, since: this.now };
  }

  /** The primary gets the target's current template; a new template rolls out. */
  private applyPrimary(): void {
    const c = this.cluster;
    if (c.primary?.revision !== c.revision) c.primary = { revision: c.revision, available: false };
  }
}

/** Phases in which a release is under way (a new revision restarts it). */
export const releasePhases = new Set<CanaryPhase>([
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
]);
/** Phases that wait for a revision to release. */
export const steadyPhases = new Set<CanaryPhase>(['Initialized', 'Succeeded', 'Failed']);

/** The controller's log, one line per reconcile: for reading a counterexample. */
export function traceOf(ctl: Controller): string {
  const t0 = ctl.log[0]?.at ?? 0;
  return ctl.log
    .map((r, i) => {
      const d = r.decision;
      const w = (x: number | undefined) => (x === undefined ? '-' : String(x));
      const checks = r.checks
        ? ` CHECKS(${r.checks.event.result.passed ? 'passed' : 'failed'}, started +${(r.checks.job.startedAt - t0) / 1000}s)`
        : '';
      const effects = r.effects
        .filter((e) => e.type !== 'record' && e.type !== 'requeue')
        .map((e) => ('weight' in e ? `${e.type}(${e.weight})` : e.type))
        .join(' ');
      return `#${i} +${(r.at - t0) / 1000}s ${r.stored?.phase ?? '-'} → ${d.phase} weight ${w(r.stored?.context.weight)} → ${d.context.weight}, routed ${r.routedBefore.weight} → ${r.routedAfter.weight}${checks}${r.lost ? ' WRITE LOST' : ''} [${effects}]`;
    })
    .join('\n');
}
