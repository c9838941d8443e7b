import { and, assign, not, setup, type SnapshotFrom } from 'xstate';
import type { CanaryAnalysis, CanaryPhase, WebhookType } from '../api/canary-schema.js';
import { durationBounds } from '../api/limits.js';
import { bounded } from '../util/text.js';
import type { TransitionCause, TransitionReason } from './reasons.js';
import { analysisComplete, nextStepWeight } from './steps.js';
import { strategyOf } from '../api/strategy.js';
import { boundedDurationMs, defaults } from '../api/durations.js';

/**
 * The release machine: the only place where Weir decides. Given the persisted
 * context and an observation it returns the next phase, the new context and the
 * effects to run. It performs no I/O and reads no clock: time comes in events.
 * States are Flagger's phases (Waiting and WaitingPromotion arrive with gates).
 */

/** What the reconciler observed, from the informer caches, at `now`. */
export interface Observation {
  now: number;
  analysis: CanaryAnalysis;
  /** Revision (hash of pod template and tracked configs) the target declares now. */
  revision: string;
  /** The primary Deployment exists and all its replicas are available. */
  primaryReady: boolean;
  /** The revision the primary runs. */
  primaryRevision?: string;
  /** The target (canary) Deployment runs `revision` with all replicas available. */
  canaryReady: boolean;
  /**
   * Since when the routes of the current weight are in place, as far as this
   * controller knows: the time it wrote them, or first found them as wanted (epoch
   * ms). A step is judged only after a full interval of traffic at its weight, so a
   * route write that lands late (a stalled API server) delays the next step.
   */
  routedAt?: number;
  progressDeadlineSeconds: number;
  skipAnalysis: boolean;
  suspended: boolean;
  deleting: boolean;
  /** Restore the original objects on deletion. */
  revertOnDeletion: boolean;
  /** Confirm gates for the current revision: true when open (nothing to confirm, or confirmed). */
  gates: { rollout: boolean; promotion: boolean };
  /**
   * Manual requests for the current revision: the annotation values (tokens). A
   * token acts once; the machine remembers it, so a request left in Git or on the
   * object does not act again (a new value, e.g. `<revision>-2`, does).
   */
  manual: { promote?: string; abort?: string; retry?: string };
}

/** The outcome of the checks of one analysis step (metrics and webhooks). */
export interface ChecksResult {
  now: number;
  analysis: CanaryAnalysis;
  passed: boolean;
  /** Why the step failed, one line per failed check. */
  failures: string[];
  /**
   * Checks that could not be judged, one line each. A step that did not pass, with no
   * failure but these, is inconclusive: it holds the weight and counts toward
   * `inconclusiveLimit` instead of `threshold`.
   */
  inconclusive?: string[];
  /** Whether the confirm-promotion gate is open now (approved, or its webhooks answered 2xx). */
  promotionOpen: boolean;
  /** In Waiting: whether the confirm-rollout webhooks answered 2xx. */
  rolloutConfirmed?: boolean;
  /** False when a confirm-traffic-increase webhook holds the weight where it is. */
  trafficIncreaseOpen?: boolean;
  /** A rollback webhook answered 2xx: what asked for the rollback. */
  rollbackRequested?: string;
}

export type MachineEvent =
  { type: 'OBSERVE'; obs: Observation } | { type: 'CHECKS'; result: ChecksResult };

/** Persisted in the Canary status, so a restarted controller resumes the same step. */
export interface ReleaseContext {
  /** Revision of the current (or last) release. */
  revision?: string;
  /** Revision last promoted to the primary. */
  promotedRevision?: string;
  weight: number;
  iterations: number;
  failedChecks: number;
  /** Inconclusive steps in a row of the current release; a conclusive step resets it. */
  inconclusiveChecks?: number;
  /** When the current release started (epoch ms), for the progress deadline. */
  startedAt?: number;
  /** When the last analysis step was taken (epoch ms). */
  lastStepAt?: number;
  /** In Waiting: when the confirm-rollout webhooks were last asked (epoch ms). */
  lastGateAt?: number;
  /** A step of this release has passed its checks (so pre-rollout webhooks are done). */
  stepPassed?: boolean;
  /** Why the last release failed. */
  message?: string;
  /** Manual request tokens already acted on: the latest of each kind. */
  consumed?: { promote?: string; abort?: string; retry?: string };
  /**
   * The tokens acted on before the latest, at most {@link spentKept} a kind: a token that
   * comes back (a Git revert of the commit that replaced it) does not act again.
   */
  spent?: { promote?: string[]; abort?: string[]; retry?: string[] };
  /** Since when the canary has been seen unready during the analysis (epoch ms), for the deadline. */
  unreadySince?: number;
}

/** How traffic should be split: what a `setWeight` effect asks the router for. */
export interface Routes {
  /** Percentage of traffic to the canary (the rest goes to the primary). */
  canaryWeight: number;
  /** A/B testing: requests matching `analysis.match` go to the canary. */
  matchToCanary: boolean;
  /**
   * Traffic mirroring (`analysis.mirror`): a copy of `analysis.mirrorWeight` percent
   * (default 100) of the primary's requests also goes to the canary; users only see
   * the primary's responses. Absent means false.
   */
  mirror?: boolean;
}

/** One analysis step, as a `runChecks` effect names it: everything the checks need to know. */
export interface CheckStep {
  /** Identifies the step: its result applies to this step only. */
  id: string;
  revision: string;
  phase: CanaryPhase;
  weight: number;
  iterations: number;
  /** The webhook types this step calls (see `stepHooks`). */
  hooks: WebhookType[];
  /** Whether the canary has traffic to measure in this step (see `stepHasTraffic`). */
  measure: boolean;
}

/**
 * An effect as the machine's actions name it. `decide()` completes each into an
 * {@link Effect}: a weight change with the routes it wants, a check with its step.
 */
export type MachineEffect =
  | { type: 'bootstrap' }
  | { type: 'scaleCanaryUp' }
  | { type: 'scaleCanaryDown' }
  | { type: 'setWeight'; weight: number }
  | { type: 'runChecks' }
  | { type: 'promote'; revision: string }
  | { type: 'finalize'; revert: boolean }
  | { type: 'requeue'; at: number }
  | { type: 'record'; event: TransitionCause; reason: TransitionReason; message: string };

/**
 * An effect the reconciler performs, complete: it names everything the actor
 * needs, so the reconciler performs it as given and derives nothing itself. Each
 * one is idempotent.
 */
export type Effect =
  | Exclude<MachineEffect, { type: 'bootstrap' | 'setWeight' | 'runChecks' }>
  | { type: 'bootstrap'; routes: Routes }
  | { type: 'setWeight'; weight: number; routes: Routes }
  | { type: 'runChecks'; step: CheckStep };

type Args = { context: ReleaseContext; event: MachineEvent };

/** How long to wait before looking again at something that is rolling out. */
export const pollMs = 2_000;

const intervalMs = (analysis: CanaryAnalysis) =>
  boundedDurationMs(analysis.interval, defaults.intervalMs, durationBounds.analysisInterval);
const thresholdOf = (analysis: CanaryAnalysis) => analysis.threshold ?? defaults.threshold;
const inconclusiveLimitOf = (analysis: CanaryAnalysis) =>
  analysis.inconclusiveLimit ?? defaults.inconclusiveLimit;
const obsOf = (e: MachineEvent): Observation | undefined =>
  e.type === 'OBSERVE' ? e.obs : undefined;
const resultOf = (e: MachineEvent): ChecksResult | undefined =>
  e.type === 'CHECKS' ? e.result : undefined;
const nowOf = (e: MachineEvent) => (e.type === 'OBSERVE' ? e.obs.now : e.result.now);
const analysisOf = (e: MachineEvent) => (e.type === 'OBSERVE' ? e.obs.analysis : e.result.analysis);
const failures = (e: MachineEvent) => resultOf(e)?.failures.join('; ') || 'checks failed';
/** A step that did not pass, failed nothing, and could not judge something. */
const inconclusiveStep = (r: ChecksResult | undefined) =>
  Boolean(r && !r.passed && r.failures.length === 0 && (r.inconclusive?.length ?? 0) > 0);
const unjudged = (e: MachineEvent) => resultOf(e)?.inconclusive?.join('; ') ?? '';

/** A revision to release: neither the promoted one nor (unless retried) the one that just failed. */
function isNewRevision(ctx: ReleaseContext, obs: Observation, afterFailure: boolean): boolean {
  // The promoted revision is nothing new while the primary runs it. After a promotion that
  // failed once the primary had the new spec, going back to it is a release like any other.
  const primaryLeft =
    afterFailure &&
    obs.primaryRevision !== undefined &&
    obs.primaryRevision !== ctx.promotedRevision;
  if (obs.revision === ctx.promotedRevision && !primaryLeft) return false;
  if (afterFailure && obs.revision === ctx.revision) return fresh(ctx, obs, 'retry');
  return true;
}

/** A manual request token that has not been acted on yet. */
function fresh(
  ctx: ReleaseContext,
  obs: Observation,
  kind: 'promote' | 'abort' | 'retry',
): boolean {
  const token = obs.manual[kind];
  return Boolean(token) && token !== ctx.consumed?.[kind] && !ctx.spent?.[kind]?.includes(token!);
}

/** Tokens of each kind remembered besides the latest. */
export const spentKept = 8;

type TokenKind = 'promote' | 'abort' | 'retry';

/** The context's token memory with `token` as the latest of its kind. */
function spend(
  ctx: ReleaseContext,
  kind: TokenKind,
  token: string | undefined,
): Pick<ReleaseContext, 'consumed' | 'spent'> {
  const latest = ctx.consumed?.[kind];
  if (!token || token === latest) return { consumed: { ...ctx.consumed, [kind]: token } };
  const earlier = latest
    ? [...(ctx.spent?.[kind] ?? []).filter((t) => t !== latest), latest].slice(-spentKept)
    : ctx.spent?.[kind];
  return {
    consumed: { ...ctx.consumed, [kind]: token },
    ...(earlier ? { spent: { ...ctx.spent, [kind]: earlier } } : {}),
  };
}

/** Remembers the manual tokens present now, so each acts once. */
const consume = (kind: 'promote' | 'abort' | 'retry') => ({
  type: 'consume' as const,
  params: { kind },
});

const effect = (e: MachineEffect) => ({ type: 'effect' as const, params: e });
/** An effect whose parameters depend on the context (after earlier assigns) or the event. */
const effectFrom = (f: (args: Args) => MachineEffect) => ({ type: 'effect' as const, params: f });
const requeueIn = (ms: number) =>
  effectFrom(({ event }) => ({ type: 'requeue', at: nowOf(event) + ms }));
// When the next step is due: an interval after the last step, and after the routes landed
// (the same rule as the stepDue guard, or the reconciler would be asked back too early).
const requeueNextStep = effectFrom(({ context, event }) => ({
  type: 'requeue',
  at:
    Math.max(context.lastStepAt ?? nowOf(event), obsOf(event)?.routedAt ?? -Infinity) +
    intervalMs(analysisOf(event)),
}));
/**
 * Keeps the routes and the canary's replicas as the current step wants them. Every
 * observation of a release in flight asserts them again (idempotent; unchanged
 * routes cost no write), so a decision whose status was written but whose effects
 * were cut short is completed by the next reconcile.
 */
const holdStep = [
  effectFrom(({ context }) => ({ type: 'setWeight', weight: context.weight })),
  effect({ type: 'scaleCanaryUp' }),
];
const promoteCurrent = effectFrom(({ context }) => ({
  type: 'promote',
  revision: context.revision!,
}));
const recordNewRevision = (note: (obs: Observation) => string) =>
  effectFrom(({ event }) => ({
    type: 'record',
    event: 'new-revision',
    reason: 'NewRevision',
    message: note(obsOf(event)!),
  }));

/** A new revision arrived mid-release: start over with it, from weight 0. */
function restartRelease(during: string) {
  return [
    'startRelease' as const,
    effect({ type: 'setWeight', weight: 0 }),
    effect({ type: 'scaleCanaryUp' }),
    recordNewRevision(
      (o) => `Revision changed during ${during}: restarting the analysis for ${o.revision}`,
    ),
    requeueIn(pollMs),
  ];
}

/** Failed checks: roll back at the threshold, otherwise count the failure and wait for the next step. */
function failedChecks() {
  return [
    {
      guard: 'thresholdReached' as const,
      target: 'Failed',
      actions: [
        'countFailure' as const,
        ...rollback(
          'RolledBack',
          'checks',
          ({ context, event }) =>
            `Failed checks reached the threshold (${context.failedChecks}/${thresholdOf(analysisOf(event))}): ${failures(event)}`,
        ),
      ],
    },
    {
      guard: 'checksFailed' as const,
      actions: [
        'countFailure' as const,
        'stepTaken' as const,
        effectFrom(({ context, event }) => ({
          type: 'record',
          event: 'checks',
          reason: 'CheckFailed',
          message: `Failed checks ${context.failedChecks}/${thresholdOf(analysisOf(event))}: ${failures(event)}`,
        })),
        requeueNextStep,
      ],
    },
    ...inconclusiveChecks(),
  ];
}

/**
 * Inconclusive checks (nothing failed, something could not be judged): hold the weight
 * and look again at the next step; roll back when `inconclusiveLimit` steps in a row were
 * inconclusive, saying that the canary was not judged, and why.
 */
function inconclusiveChecks() {
  return [
    {
      guard: 'inconclusiveLimitReached' as const,
      target: 'Failed',
      actions: [
        'countInconclusive' as const,
        ...rollback(
          'RolledBack',
          'checks',
          ({ context, event }) =>
            `The analysis was inconclusive for ${context.inconclusiveChecks} steps in a row (inconclusiveLimit ${inconclusiveLimitOf(analysisOf(event))}), so the canary could not be judged: ${unjudged(event)}`,
        ),
      ],
    },
    {
      guard: 'checksInconclusive' as const,
      actions: [
        'countInconclusive' as const,
        'stepTaken' as const,
        effectFrom(({ context, event }) => ({
          type: 'record',
          event: 'checks',
          reason: 'CheckInconclusive',
          message: `Inconclusive checks ${context.inconclusiveChecks}/${inconclusiveLimitOf(analysisOf(event))}, holding the weight at ${context.weight}: ${unjudged(event)}`,
        })),
        requeueNextStep,
      ],
    },
  ];
}

/** Enters the analysis at weight 0 with the canary scaled up. */
function beginAnalysis(message: string) {
  return [
    effect({ type: 'setWeight', weight: 0 }),
    effect({ type: 'scaleCanaryUp' }),
    effect({ type: 'record', event: 'gate', reason: 'RolloutConfirmed', message }),
    requeueIn(pollMs),
  ];
}

/** A rollback webhook answered 2xx: roll back now, whatever the other checks said. */
function rollbackRequested() {
  return {
    guard: 'rollbackRequested' as const,
    target: 'Failed',
    actions: rollback(
      'RolledBack',
      'webhook',
      ({ event }) => `Rollback requested by webhook ${resultOf(event)!.rollbackRequested}`,
    ),
  };
}

function rollback(
  reason: TransitionReason,
  event: TransitionCause,
  message: (args: Args) => string,
) {
  return [
    { type: 'rolledBack' as const, params: (args: Args) => ({ message: message(args) }) },
    effect({ type: 'setWeight', weight: 0 }),
    effect({ type: 'scaleCanaryDown' }),
    effectFrom(({ context }) => ({
      type: 'record',
      event,
      reason,
      message: `${context.message}; rolled back`,
    })),
  ];
}

export const canaryMachine = setup({
  types: {
    context: {} as ReleaseContext,
    events: {} as MachineEvent,
    input: {} as Partial<ReleaseContext> | undefined,
  },
  actions: {
    // Effects are data: the reconciler reads them from the transition result and performs them.
    effect: (_args, _params: MachineEffect) => undefined,
    consume: assign(({ context, event }, params: { kind: TokenKind }) =>
      spend(context, params.kind, obsOf(event)?.manual[params.kind]),
    ),
    // A conclusive step (passed or failed) ends a run of inconclusive ones.
    countFailure: assign(({ context }) => ({
      failedChecks: context.failedChecks + 1,
      inconclusiveChecks: 0,
    })),
    conclusive: assign(({ context }) =>
      context.inconclusiveChecks ? { inconclusiveChecks: 0 } : {},
    ),
    countInconclusive: assign(({ context }) => ({
      inconclusiveChecks: (context.inconclusiveChecks ?? 0) + 1,
    })),
    // The first unready observation starts the progress deadline; a ready one ends it.
    markUnready: assign(({ context, event }) => ({
      unreadySince: context.unreadySince ?? nowOf(event),
    })),
    markReady: assign(({ context }) =>
      context.unreadySince === undefined ? {} : { unreadySince: undefined },
    ),
    revertToPromoted: assign(({ context }) => ({
      revision: context.promotedRevision,
      weight: 0,
      message: undefined,
    })),
    stepTaken: assign(({ event }) => ({ lastStepAt: nowOf(event) })),
    // The reason lives in the status (and on): failures joined from many checks are cut.
    rolledBack: assign((_args, params: { message: string }) => ({
      weight: 0,
      message: bounded(params.message, 2048),
    })),
    startRelease: assign(({ context, event }) => {
      const obs = obsOf(event)!;
      return {
        // A retry token is consumed by the release it starts.
        ...(obs.manual.retry ? spend(context, 'retry', obs.manual.retry) : {}),
        revision: obs.revision,
        weight: 0,
        iterations: 0,
        failedChecks: 0,
        inconclusiveChecks: 0,
        startedAt: obs.now,
        lastStepAt: obs.now,
        lastGateAt: undefined,
        stepPassed: undefined,
        message: undefined,
        unreadySince: undefined,
      };
    }),
  },
  guards: {
    deleting: ({ event }) => Boolean(obsOf(event)?.deleting),
    primaryReady: ({ event }) => Boolean(obsOf(event)?.primaryReady),
    rolloutGateOpen: ({ event }) => Boolean(obsOf(event)?.gates.rollout),
    promotionGateOpen: ({ event }) =>
      event.type === 'OBSERVE' ? event.obs.gates.promotion : event.result.promotionOpen,
    newRevision: ({ context, event }) =>
      Boolean(obsOf(event) && isNewRevision(context, obsOf(event)!, false)),
    newRevisionAfterFailure: ({ context, event }) =>
      Boolean(obsOf(event) && isNewRevision(context, obsOf(event)!, true)),
    skipAnalysis: ({ event }) => Boolean(obsOf(event)?.skipAnalysis),
    revisionChanged: ({ context, event }) =>
      Boolean(obsOf(event) && obsOf(event)!.revision !== context.revision),
    suspended: ({ event }) => Boolean(obsOf(event)?.suspended),
    manualAbort: ({ context, event }) =>
      Boolean(obsOf(event) && fresh(context, obsOf(event)!, 'abort')),
    manualPromote: ({ context, event }) =>
      Boolean(obsOf(event) && fresh(context, obsOf(event)!, 'promote')),
    canaryReady: ({ event }) => Boolean(obsOf(event)?.canaryReady),
    // Measured from the first observation of the canary unready (not from the last
    // step), so a moment of unreadiness after a long suspension or outage does not fail
    // the release: the canary must stay unready for the whole deadline.
    canaryDeadlineExceeded: ({ context, event }) => {
      const obs = obsOf(event);
      const since = context.unreadySince ?? obs?.now ?? 0;
      return Boolean(obs && obs.now - since > obs.progressDeadlineSeconds * 1000);
    },
    // Promoting's deadline counts from entering Promoting (every way in sets lastStepAt).
    promotionDeadlineExceeded: ({ context, event }) => {
      const obs = obsOf(event);
      const since = context.lastStepAt ?? context.startedAt ?? obs?.now ?? 0;
      return Boolean(obs && obs.now - since > obs.progressDeadlineSeconds * 1000);
    },
    // A full interval since the last step, and a full interval of traffic at the weight
    // it routed (the route write may have landed long after the decision).
    stepDue: ({ context, event }) => {
      const obs = obsOf(event);
      if (!obs) return false;
      const interval = intervalMs(obs.analysis);
      return (
        obs.now >= (context.lastStepAt ?? 0) + interval &&
        obs.now >= (obs.routedAt ?? -Infinity) + interval
      );
    },
    revertedToPromoted: ({ context, event }) => {
      const obs = obsOf(event);
      // Only while the primary still runs the promoted revision (see isNewRevision).
      return Boolean(
        obs &&
        obs.revision === context.promotedRevision &&
        context.revision !== obs.revision &&
        (obs.primaryRevision === undefined || obs.primaryRevision === context.promotedRevision),
      );
    },
    checksFailed: ({ event }) =>
      resultOf(event)?.passed === false && !inconclusiveStep(resultOf(event)),
    checksInconclusive: ({ event }) => inconclusiveStep(resultOf(event)),
    inconclusiveLimitReached: ({ context, event }) => {
      const r = resultOf(event);
      return Boolean(
        inconclusiveStep(r) &&
        (context.inconclusiveChecks ?? 0) + 1 >= inconclusiveLimitOf(r!.analysis),
      );
    },
    gateCheckDue: ({ context, event }) => {
      const obs = obsOf(event);
      return Boolean(
        obs &&
        (context.lastGateAt === undefined ||
          obs.now >= context.lastGateAt + intervalMs(obs.analysis)),
      );
    },
    rolloutConfirmed: ({ event }) => resultOf(event)?.rolloutConfirmed === true,
    trafficIncreaseHeld: ({ event }) => resultOf(event)?.trafficIncreaseOpen === false,
    rollbackRequested: ({ event }) => Boolean(resultOf(event)?.rollbackRequested),
    thresholdReached: ({ context, event }) => {
      const r = resultOf(event);
      return Boolean(
        r &&
        !r.passed &&
        !inconclusiveStep(r) &&
        context.failedChecks + 1 >= thresholdOf(r.analysis),
      );
    },
    analysisDone: ({ context, event }) => {
      const r = resultOf(event);
      return Boolean(
        r?.passed && analysisComplete(r.analysis, context.weight, context.iterations + 1),
      );
    },
    promotionStepping: ({ context, event }) =>
      Boolean(obsOf(event)?.analysis.stepWeightPromotion && context.weight > 0),
    primaryPromoted: ({ context, event }) => {
      const obs = obsOf(event);
      return Boolean(obs?.primaryReady && obs.primaryRevision === context.revision);
    },
  },
}).createMachine({
  id: 'canary',
  initial: 'Initializing',
  context: ({ input }) => ({ weight: 0, iterations: 0, failedChecks: 0, ...input }),
  states: {
    Initializing: {
      on: {
        OBSERVE: [
          { guard: 'deleting', target: 'Terminating' },
          {
            guard: 'primaryReady',
            target: 'Initialized',
            actions: [
              // What the primary runs: the target may already declare a newer revision,
              // which Initialized then releases.
              assign(({ event }) => {
                const obs = obsOf(event)!;
                const running = obs.primaryRevision ?? obs.revision;
                return { revision: running, promotedRevision: running };
              }),
              effect({ type: 'setWeight', weight: 0 }),
              effect({ type: 'scaleCanaryDown' }),
              effect({
                type: 'record',
                event: 'primary-ready',
                reason: 'Initialized',
                message: 'Primary is ready; the target is scaled to zero until a new revision',
              }),
            ],
          },
          { actions: [effect({ type: 'bootstrap' }), requeueIn(pollMs)] },
        ],
      },
    },
    Initialized: { on: { OBSERVE: steady(false) } },
    Succeeded: { on: { OBSERVE: steady(false) } },
    Failed: { on: { OBSERVE: steady(true) } },
    Progressing: {
      on: {
        OBSERVE: [
          { guard: 'deleting', target: 'Terminating' },
          {
            guard: 'revisionChanged',
            target: 'Progressing',
            reenter: true,
            actions: restartRelease('the release'),
          },
          // Suspended: stay exactly where the release is; nothing moves until resumed. The
          // canary's readiness is still followed, so the deadline counts unreadiness only.
          { guard: and(['suspended', 'canaryReady']), actions: ['markReady', ...holdStep] },
          { guard: 'suspended', actions: ['markUnready', ...holdStep] },
          {
            guard: 'manualAbort',
            target: 'Failed',
            actions: [
              consume('abort'),
              ...rollback('Aborted', 'manual-abort', () => 'Release aborted by request'),
            ],
          },
          {
            guard: 'manualPromote',
            target: 'Promoting',
            actions: [
              consume('promote'),
              'stepTaken',
              promoteCurrent,
              effect({
                type: 'record',
                event: 'manual-promote',
                reason: 'Promoting',
                message: 'Promotion requested: skipping the rest of the analysis',
              }),
              requeueIn(pollMs),
            ],
          },
          {
            guard: and(['canaryDeadlineExceeded', not('canaryReady')]),
            target: 'Failed',
            actions: rollback(
              'ProgressDeadlineExceeded',
              'deadline',
              ({ event }) =>
                `Canary was not ready within progressDeadlineSeconds (${obsOf(event)!.progressDeadlineSeconds}s)`,
            ),
          },
          { guard: not('canaryReady'), actions: ['markUnready', ...holdStep, requeueIn(pollMs)] },
          { guard: 'stepDue', actions: ['markReady', ...holdStep, effect({ type: 'runChecks' })] },
          { actions: ['markReady', ...holdStep, requeueNextStep] },
        ],
        CHECKS: [
          rollbackRequested(),
          ...failedChecks(),
          {
            guard: and(['analysisDone', not('promotionGateOpen')]),
            target: 'WaitingPromotion',
            actions: [
              'conclusive',
              assign(({ context, event }) => ({
                iterations: context.iterations + 1,
                lastStepAt: nowOf(event),
              })),
              effect({
                type: 'record',
                event: 'checks',
                reason: 'WaitingPromotion',
                message:
                  'Analysis passed; waiting for the promotion to be confirmed (the analysis keeps running)',
              }),
              requeueNextStep,
            ],
          },
          {
            guard: 'analysisDone',
            target: 'Promoting',
            actions: [
              'conclusive',
              assign(({ context, event }) => ({
                iterations: context.iterations + 1,
                lastStepAt: nowOf(event),
              })),
              promoteCurrent,
              effect({
                type: 'record',
                event: 'checks',
                reason: 'Promoting',
                message: 'Analysis passed: copying the canary to the primary',
              }),
              requeueIn(pollMs),
            ],
          },
          // A confirm-traffic-increase webhook said no: stay at this weight until the next step.
          {
            guard: 'trafficIncreaseHeld',
            actions: ['conclusive', 'stepTaken', assign({ stepPassed: true }), requeueNextStep],
          },
          {
            actions: [
              'conclusive',
              assign(({ context, event }) => {
                const analysis = analysisOf(event);
                const weight =
                  strategyOf(analysis) === 'canary'
                    ? nextStepWeight(analysis, context.weight)
                    : context.weight;
                return { weight, iterations: context.iterations + 1, lastStepAt: nowOf(event) };
              }),
              effectFrom(({ context }) => ({ type: 'setWeight', weight: context.weight })),
              effectFrom(({ context, event }) => {
                const analysis = analysisOf(event);
                const message =
                  strategyOf(analysis) === 'canary'
                    ? `Advance canary weight to ${context.weight}`
                    : `Analysis iteration ${context.iterations}/${analysis.iterations ?? 1} passed`;
                return { type: 'record', event: 'checks', reason: 'StepAdvanced', message };
              }),
              requeueNextStep,
            ],
          },
        ],
      },
    },
    Waiting: {
      on: {
        OBSERVE: [
          { guard: 'deleting', target: 'Terminating' },
          {
            guard: 'revisionChanged',
            target: 'Waiting',
            reenter: true,
            actions: [
              'startRelease',
              recordNewRevision(
                (o) => `Revision changed while waiting: now waiting to start ${o.revision}`,
              ),
              requeueIn(pollMs),
            ],
          },
          // Suspended: neither start nor ask the gates until resumed.
          { guard: 'suspended' },
          {
            guard: 'rolloutGateOpen',
            target: 'Progressing',
            actions: [
              'startRelease',
              ...beginAnalysis('Rollout approved for this revision: starting the analysis'),
            ],
          },
          // Ask the confirm-rollout webhooks at once, then once per interval.
          { guard: 'gateCheckDue', actions: effect({ type: 'runChecks' }) },
          {
            actions: effectFrom(({ context, event }) => ({
              type: 'requeue',
              at: (context.lastGateAt ?? nowOf(event)) + intervalMs(analysisOf(event)),
            })),
          },
        ],
        CHECKS: [
          {
            guard: 'rolloutConfirmed',
            target: 'Progressing',
            actions: [
              assign(({ event }) => ({ startedAt: nowOf(event), lastStepAt: nowOf(event) })),
              ...beginAnalysis('Rollout confirmed by webhook: starting the analysis'),
            ],
          },
          {
            actions: [
              assign(({ event }) => ({ lastGateAt: nowOf(event) })),
              effectFrom(({ event }) => ({
                type: 'requeue',
                at: nowOf(event) + intervalMs(analysisOf(event)),
              })),
            ],
          },
        ],
      },
    },
    WaitingPromotion: {
      on: {
        OBSERVE: [
          { guard: 'deleting', target: 'Terminating' },
          {
            guard: 'revisionChanged',
            target: 'Progressing',
            actions: restartRelease('the wait for promotion'),
          },
          // Suspended: hold the weight; no promotion, no checks, until resumed.
          { guard: 'suspended', actions: holdStep },
          {
            guard: 'manualAbort',
            target: 'Failed',
            actions: [
              consume('abort'),
              ...rollback('Aborted', 'manual-abort', () => 'Release aborted by request'),
            ],
          },
          {
            guard: 'promotionGateOpen',
            target: 'Promoting',
            actions: [
              'stepTaken',
              promoteCurrent,
              effect({
                type: 'record',
                event: 'gate',
                reason: 'Promoting',
                message: 'Promotion confirmed: copying the canary to the primary',
              }),
              requeueIn(pollMs),
            ],
          },
          // While the gate is closed the analysis keeps running, so a regression still rolls back.
          { guard: 'stepDue', actions: [...holdStep, effect({ type: 'runChecks' })] },
          { actions: [...holdStep, requeueNextStep] },
        ],
        CHECKS: [
          rollbackRequested(),
          ...failedChecks(),
          {
            guard: 'promotionGateOpen',
            target: 'Promoting',
            actions: [
              'conclusive',
              'stepTaken',
              promoteCurrent,
              effect({
                type: 'record',
                event: 'gate',
                reason: 'Promoting',
                message: 'Promotion confirmed by webhook: copying the canary to the primary',
              }),
              requeueIn(pollMs),
            ],
          },
          { actions: ['conclusive', 'stepTaken', requeueNextStep] },
        ],
      },
    },
    Promoting: {
      on: {
        OBSERVE: [
          { guard: 'deleting', target: 'Terminating' },
          {
            guard: 'revisionChanged',
            target: 'Progressing',
            actions: restartRelease('promotion'),
          },
          // stepWeightPromotion: once the primary runs the new revision, shift the traffic
          // back to it one step per interval instead of all at once.
          {
            guard: and(['primaryPromoted', 'promotionStepping', 'stepDue']),
            actions: [
              assign(({ context, event }) => ({
                weight: Math.max(
                  0,
                  context.weight - (obsOf(event)!.analysis.stepWeightPromotion ?? 100),
                ),
                lastStepAt: nowOf(event),
              })),
              effectFrom(({ context }) => ({ type: 'setWeight', weight: context.weight })),
              effectFrom(({ context }) => ({
                type: 'record',
                event: 'promotion-step',
                reason: 'PromotionStep',
                message: `Shift traffic back to the primary: canary weight ${context.weight}`,
              })),
              requeueNextStep,
            ],
          },
          {
            guard: and(['primaryPromoted', 'promotionStepping']),
            actions: [
              effectFrom(({ context }) => ({ type: 'setWeight', weight: context.weight })),
              requeueNextStep,
            ],
          },
          {
            guard: 'primaryPromoted',
            target: 'Finalising',
            actions: [
              effect({ type: 'setWeight', weight: 0 }),
              effect({
                type: 'record',
                event: 'primary-ready',
                reason: 'Finalising',
                message: 'Primary runs the new revision: routing all traffic to it',
              }),
              requeueIn(0),
            ],
          },
          {
            guard: and(['promotionDeadlineExceeded', not('primaryPromoted')]),
            target: 'Failed',
            actions: rollback(
              'PromotionFailed',
              'deadline',
              ({ context, event }) =>
                `The primary did not roll out revision ${context.revision} within progressDeadlineSeconds (${obsOf(event)!.progressDeadlineSeconds}s)`,
            ),
          },
          // The primary is still rolling out the promoted template: keep it applied, the
          // traffic where it is, and look again.
          {
            actions: [
              promoteCurrent,
              effectFrom(({ context }) => ({ type: 'setWeight', weight: context.weight })),
              requeueIn(pollMs),
            ],
          },
        ],
      },
    },
    Finalising: {
      on: {
        OBSERVE: [
          { guard: 'deleting', target: 'Terminating' },
          {
            target: 'Succeeded',
            actions: [
              assign(({ context }) => ({ promotedRevision: context.revision, weight: 0 })),
              effect({ type: 'setWeight', weight: 0 }),
              effect({ type: 'scaleCanaryDown' }),
              effectFrom(({ context }) => ({
                type: 'record',
                event: 'finalised',
                reason: 'Succeeded',
                message: `Revision ${context.revision} promoted`,
              })),
            ],
          },
        ],
      },
    },
    Terminating: {
      on: {
        OBSERVE: {
          actions: effectFrom(({ event }) => ({
            type: 'finalize',
            revert: Boolean(obsOf(event)?.revertOnDeletion),
          })),
        },
      },
    },
  },
});

/** Initialized, Succeeded and Failed wait for a revision to release; Failed only for a new one or a retry. */
function steady(afterFailure: boolean) {
  const fresh = afterFailure ? ('newRevisionAfterFailure' as const) : ('newRevision' as const);
  // After a rollback the usual answer is a revert in Git: the primary already runs it.
  const reverted = afterFailure
    ? [
        {
          guard: 'revertedToPromoted' as const,
          target: 'Succeeded',
          actions: [
            'revertToPromoted' as const,
            effect({ type: 'setWeight', weight: 0 }),
            effect({ type: 'scaleCanaryDown' }),
            effectFrom(({ context }) => ({
              type: 'record',
              event: 'reverted',
              reason: 'Reverted',
              message: `Target reverted to revision ${context.promotedRevision}, which the primary runs: nothing to release`,
            })),
          ],
        },
      ]
    : [];
  return [
    { guard: 'deleting' as const, target: 'Terminating' },
    ...reverted,
    {
      guard: and([fresh, 'skipAnalysis']),
      target: 'Promoting',
      actions: [
        'startRelease' as const,
        promoteCurrent,
        recordNewRevision(
          (o) => `New revision ${o.revision}: skipAnalysis is set, promoting without analysis`,
        ),
        requeueIn(pollMs),
      ],
    },
    {
      guard: and([fresh, not('rolloutGateOpen')]),
      target: 'Waiting',
      actions: [
        'startRelease' as const,
        recordNewRevision(
          (o) => `New revision ${o.revision} detected: waiting for the rollout to be confirmed`,
        ),
        requeueIn(pollMs),
      ],
    },
    {
      guard: fresh,
      target: 'Progressing',
      actions: [
        'startRelease' as const,
        effect({ type: 'setWeight', weight: 0 }),
        effect({ type: 'scaleCanaryUp' }),
        recordNewRevision((o) => `New revision ${o.revision} detected: starting the analysis`),
        requeueIn(pollMs),
      ],
    },
    // Nothing to release: keep the routes and the idle canary as they should be (idempotent).
    { actions: [effect({ type: 'setWeight', weight: 0 }), effect({ type: 'scaleCanaryDown' })] },
  ];
}

export type CanarySnapshot = SnapshotFrom<typeof canaryMachine>;
