import { describe, expect, it } from 'vitest';
import type { CanaryAnalysis, CanaryPhase } from '../../../src/api/canary-schema.js';
import {
  canaryMachine,
  type Effect,
  type MachineEvent,
  type Observation,
  type ReleaseContext,
} from '../../../src/machine/canary-machine.js';
import { calmObservation } from './fixtures.js';
import { decide, machineVersion } from '../../../src/machine/release.js';

/**
 * Every transition of the machine definition, one scenario each. The list of
 * transitions is read from the definition itself, so a transition added without
 * a scenario here fails the last test: this is the coverage proof.
 */
const now = Date.UTC(2026, 10, 22, 12);
const analysis: CanaryAnalysis = { interval: '10s', threshold: 2, maxWeight: 20, stepWeight: 10 };
const ctx = (c: Partial<ReleaseContext> = {}): ReleaseContext => ({
  weight: 10,
  iterations: 1,
  failedChecks: 0,
  revision: 'rev2',
  promotedRevision: 'rev1',
  startedAt: now - 30_000,
  lastStepAt: now - 10_000,
  ...c,
});
const obs = (o: Partial<Observation> = {}): MachineEvent => ({
  type: 'OBSERVE',
  obs: {
    ...calmObservation,
    now,
    analysis,
    revision: 'rev2',
    primaryReady: true,
    progressDeadlineSeconds: 600,
    ...o,
  },
});
/** A step that failed nothing but could not judge a metric. */
const unjudged = (extra: Partial<Extract<MachineEvent, { type: 'CHECKS' }>['result']> = {}) =>
  checks(false, true, {
    failures: [],
    inconclusive: ["latency: the canary's query failed: Prometheus is unreachable"],
    ...extra,
  });
const checks = (
  passed: boolean,
  promotionOpen = true,
  extra: Partial<Extract<MachineEvent, { type: 'CHECKS' }>['result']> = {},
): MachineEvent => ({
  type: 'CHECKS',
  result: {
    now,
    analysis,
    passed,
    failures: passed ? [] : ['error-rate 5 > 1'],
    promotionOpen,
    ...extra,
  },
});

interface Scenario {
  from: CanaryPhase;
  context?: Partial<ReleaseContext>;
  event: MachineEvent;
  to: CanaryPhase;
  /** An effect that only this transition produces here. */
  effect?: Effect['type'];
  /** An exact check on the resulting context. */
  then?: Partial<ReleaseContext>;
  /** Context fields the transition removes. */
  without?: (keyof ReleaseContext)[];
  /** The exact effect types, when that is what tells this transition apart. */
  effects?: Effect['type'][];
}

const scenarios: Record<string, Scenario> = {
  'Initializing.OBSERVE[0]': {
    from: 'Initializing',
    event: obs({ deleting: true }),
    to: 'Terminating',
  },
  'Initializing.OBSERVE[1]': {
    from: 'Initializing',
    // The target already declares rev2; the primary runs rev1, which is what is promoted.
    event: obs({ revision: 'rev2', primaryRevision: 'rev1' }),
    to: 'Initialized',
    then: { revision: 'rev1', promotedRevision: 'rev1' },
  },
  'Initializing.OBSERVE[2]': {
    from: 'Initializing',
    event: obs({ primaryReady: false }),
    to: 'Initializing',
    effect: 'bootstrap',
  },
  ...steadyScenarios('Initialized'),
  ...steadyScenarios('Succeeded'),
  'Failed.OBSERVE[0]': { from: 'Failed', event: obs({ deleting: true }), to: 'Terminating' },
  'Failed.OBSERVE[1]': {
    from: 'Failed',
    context: { weight: 0 },
    event: obs({ revision: 'rev1' }),
    to: 'Succeeded',
    then: { revision: 'rev1', promotedRevision: 'rev1', weight: 0 },
    effects: ['setWeight', 'scaleCanaryDown', 'record'],
  },
  'Failed.OBSERVE[2]': {
    from: 'Failed',
    event: obs({ revision: 'rev3', skipAnalysis: true }),
    to: 'Promoting',
    effect: 'promote',
  },
  'Failed.OBSERVE[3]': {
    from: 'Failed',
    event: obs({ revision: 'rev3', gates: { rollout: false, promotion: true } }),
    to: 'Waiting',
    then: { revision: 'rev3' },
  },
  'Failed.OBSERVE[4]': {
    from: 'Failed',
    event: obs({ manual: { retry: 'rev2' } }),
    to: 'Progressing',
    effect: 'scaleCanaryUp',
    then: { consumed: { retry: 'rev2' } },
  },
  'Failed.OBSERVE[5]': { from: 'Failed', event: obs(), to: 'Failed', effect: 'scaleCanaryDown' },
  'Progressing.OBSERVE[0]': {
    from: 'Progressing',
    event: obs({ deleting: true }),
    to: 'Terminating',
  },
  'Progressing.OBSERVE[1]': {
    from: 'Progressing',
    event: obs({ revision: 'rev3' }),
    to: 'Progressing',
    then: { revision: 'rev3', weight: 0 },
  },
  'Progressing.OBSERVE[2]': {
    from: 'Progressing',
    context: { unreadySince: now - 5_000 },
    event: obs({ suspended: true, manual: { abort: 'rev2' } }),
    to: 'Progressing',
    then: { weight: 10 },
    // Holds the current step as it is: routes and replicas asserted, nothing moves; the
    // canary, ready again, no longer counts towards the progress deadline.
    without: ['unreadySince'],
    effects: ['setWeight', 'scaleCanaryUp'],
  },
  'Progressing.OBSERVE[3]': {
    from: 'Progressing',
    event: obs({ suspended: true, canaryReady: false }),
    to: 'Progressing',
    // Suspended and unready: held, and the deadline counts from this first sight of it.
    then: { weight: 10, unreadySince: now },
    effects: ['setWeight', 'scaleCanaryUp'],
  },
  'Progressing.OBSERVE[4]': {
    from: 'Progressing',
    event: obs({ manual: { abort: 'rev2' } }),
    to: 'Failed',
    then: { weight: 0, message: 'Release aborted by request' },
  },
  'Progressing.OBSERVE[5]': {
    from: 'Progressing',
    context: { lastStepAt: now - 3_600_000 },
    event: obs({ manual: { promote: 'rev2' } }),
    to: 'Promoting',
    effect: 'promote',
    then: { lastStepAt: now },
  },
  'Progressing.OBSERVE[6]': {
    from: 'Progressing',
    context: { unreadySince: now - 700_000 },
    event: obs({ canaryReady: false }),
    to: 'Failed',
    then: { message: 'Canary was not ready within progressDeadlineSeconds (600s)' },
  },
  'Progressing.OBSERVE[7]': {
    from: 'Progressing',
    context: { lastStepAt: now - 700_000 },
    event: obs({ canaryReady: false }),
    to: 'Progressing',
    // The first unready observation starts the deadline, however old the last step is.
    then: { unreadySince: now },
    effects: ['setWeight', 'scaleCanaryUp', 'requeue'],
  },
  'Progressing.OBSERVE[8]': {
    from: 'Progressing',
    context: { unreadySince: now - 5_000 },
    event: obs(),
    to: 'Progressing',
    without: ['unreadySince'],
    effects: ['setWeight', 'scaleCanaryUp', 'runChecks'],
  },
  'Progressing.OBSERVE[9]': {
    from: 'Progressing',
    context: { lastStepAt: now - 5_000 },
    event: obs(),
    to: 'Progressing',
    effects: ['setWeight', 'scaleCanaryUp', 'requeue'],
  },
  'Progressing.CHECKS[0]': {
    from: 'Progressing',
    event: checks(true, true, { rollbackRequested: 'manual-rollback' }),
    to: 'Failed',
    then: { weight: 0, failedChecks: 0, message: 'Rollback requested by webhook manual-rollback' },
  },
  'Progressing.CHECKS[7]': {
    from: 'Progressing',
    event: checks(true, true, { trafficIncreaseOpen: false }),
    to: 'Progressing',
    then: { weight: 10, iterations: 1, lastStepAt: now, stepPassed: true },
    effects: ['requeue'],
  },
  'Progressing.CHECKS[1]': {
    from: 'Progressing',
    context: { failedChecks: 1 },
    event: checks(false),
    to: 'Failed',
    then: { failedChecks: 2, weight: 0 },
  },
  'Progressing.CHECKS[2]': {
    from: 'Progressing',
    // A failure with something unjudged beside it is a failure: it counts against threshold.
    context: { inconclusiveChecks: 2 },
    event: checks(false, true, { inconclusive: ['latency: no data for the canary'] }),
    to: 'Progressing',
    then: { failedChecks: 1, inconclusiveChecks: 0, weight: 10 },
  },
  'Progressing.CHECKS[3]': {
    from: 'Progressing',
    context: { inconclusiveChecks: 4, failedChecks: 1 },
    event: unjudged(),
    to: 'Failed',
    // Rolled back as not judged, not as failed: the failed checks stay as they were.
    then: {
      inconclusiveChecks: 5,
      failedChecks: 1,
      weight: 0,
      message:
        "The analysis was inconclusive for 5 steps in a row (inconclusiveLimit 5), so the canary could not be judged: latency: the canary's query failed: Prometheus is unreachable",
    },
  },
  'Progressing.CHECKS[4]': {
    from: 'Progressing',
    context: { inconclusiveChecks: 1 },
    event: unjudged(),
    to: 'Progressing',
    // Holds the weight, counts the step, and waits a full interval for the next one.
    then: { inconclusiveChecks: 2, failedChecks: 0, weight: 10, iterations: 1, lastStepAt: now },
    effects: ['record', 'requeue'],
  },
  'Progressing.CHECKS[5]': {
    from: 'Progressing',
    context: { weight: 20 },
    event: checks(true, false),
    to: 'WaitingPromotion',
    effects: ['record', 'requeue'],
  },
  'Progressing.CHECKS[6]': {
    from: 'Progressing',
    context: { weight: 20 },
    event: checks(true),
    to: 'Promoting',
    effect: 'promote',
  },
  'Progressing.CHECKS[8]': {
    from: 'Progressing',
    // A conclusive step ends a run of inconclusive ones.
    context: { inconclusiveChecks: 3 },
    event: checks(true),
    to: 'Progressing',
    then: { weight: 20, inconclusiveChecks: 0 },
  },
  'Waiting.OBSERVE[0]': { from: 'Waiting', event: obs({ deleting: true }), to: 'Terminating' },
  'Waiting.OBSERVE[1]': {
    from: 'Waiting',
    event: obs({ revision: 'rev3', gates: { rollout: false, promotion: true } }),
    to: 'Waiting',
    then: { revision: 'rev3' },
  },
  'Waiting.OBSERVE[2]': {
    from: 'Waiting',
    event: obs({ suspended: true }),
    to: 'Waiting',
    effects: [],
  },
  'Waiting.OBSERVE[3]': {
    from: 'Waiting',
    event: obs(),
    to: 'Progressing',
    effect: 'scaleCanaryUp',
  },
  'Waiting.OBSERVE[4]': {
    from: 'Waiting',
    event: obs({ gates: { rollout: false, promotion: true } }),
    to: 'Waiting',
    effects: ['runChecks'],
  },
  'Waiting.OBSERVE[5]': {
    from: 'Waiting',
    context: { lastGateAt: now - 1_000 },
    event: obs({ gates: { rollout: false, promotion: true } }),
    to: 'Waiting',
    effects: ['requeue'],
  },
  'Waiting.CHECKS[0]': {
    from: 'Waiting',
    context: { weight: 0, iterations: 0, startedAt: now - 60_000 },
    event: checks(true, true, { rolloutConfirmed: true }),
    to: 'Progressing',
    then: { startedAt: now, lastStepAt: now, weight: 0 },
    effects: ['setWeight', 'scaleCanaryUp', 'record', 'requeue'],
  },
  'Waiting.CHECKS[1]': {
    from: 'Waiting',
    event: checks(true, true, { rolloutConfirmed: false }),
    to: 'Waiting',
    then: { lastGateAt: now },
    effects: ['requeue'],
  },
  'WaitingPromotion.OBSERVE[0]': {
    from: 'WaitingPromotion',
    event: obs({ deleting: true }),
    to: 'Terminating',
  },
  'WaitingPromotion.OBSERVE[1]': {
    from: 'WaitingPromotion',
    event: obs({ revision: 'rev3' }),
    to: 'Progressing',
    then: { revision: 'rev3', weight: 0 },
  },
  'WaitingPromotion.OBSERVE[2]': {
    from: 'WaitingPromotion',
    event: obs({ suspended: true }),
    to: 'WaitingPromotion',
    effects: ['setWeight', 'scaleCanaryUp'],
  },
  'WaitingPromotion.OBSERVE[3]': {
    from: 'WaitingPromotion',
    event: obs({ manual: { abort: 'rev2' } }),
    to: 'Failed',
    then: { message: 'Release aborted by request' },
  },
  'WaitingPromotion.OBSERVE[4]': {
    from: 'WaitingPromotion',
    context: { lastStepAt: now - 3_600_000 },
    event: obs(),
    to: 'Promoting',
    effect: 'promote',
    // The promotion deadline counts from here, not from the last analysis step.
    then: { lastStepAt: now },
  },
  'WaitingPromotion.OBSERVE[5]': {
    from: 'WaitingPromotion',
    event: obs({ gates: { rollout: true, promotion: false } }),
    to: 'WaitingPromotion',
    effects: ['setWeight', 'scaleCanaryUp', 'runChecks'],
  },
  'WaitingPromotion.OBSERVE[6]': {
    from: 'WaitingPromotion',
    context: { lastStepAt: now - 1_000 },
    event: obs({ gates: { rollout: true, promotion: false } }),
    to: 'WaitingPromotion',
    effects: ['setWeight', 'scaleCanaryUp', 'requeue'],
  },
  'WaitingPromotion.CHECKS[0]': {
    from: 'WaitingPromotion',
    event: checks(true, false, { rollbackRequested: 'manual-rollback' }),
    to: 'Failed',
    then: { weight: 0, message: 'Rollback requested by webhook manual-rollback' },
  },
  'WaitingPromotion.CHECKS[1]': {
    from: 'WaitingPromotion',
    context: { failedChecks: 1 },
    event: checks(false, false),
    to: 'Failed',
    then: { failedChecks: 2, weight: 0 },
  },
  'WaitingPromotion.CHECKS[2]': {
    from: 'WaitingPromotion',
    event: checks(false, false),
    to: 'WaitingPromotion',
    then: { failedChecks: 1 },
    effects: ['record', 'requeue'],
  },
  'WaitingPromotion.CHECKS[3]': {
    from: 'WaitingPromotion',
    context: { inconclusiveChecks: 1 },
    event: unjudged({ analysis: { ...analysis, inconclusiveLimit: 2 } }),
    to: 'Failed',
    then: { inconclusiveChecks: 2, weight: 0 },
  },
  'WaitingPromotion.CHECKS[4]': {
    from: 'WaitingPromotion',
    // The promotion gate is open, but an inconclusive step never promotes.
    event: unjudged(),
    to: 'WaitingPromotion',
    then: { inconclusiveChecks: 1 },
    effects: ['record', 'requeue'],
  },
  'WaitingPromotion.CHECKS[5]': {
    from: 'WaitingPromotion',
    event: checks(true, true),
    to: 'Promoting',
    then: { lastStepAt: now },
    effects: ['promote', 'record', 'requeue'],
  },
  'WaitingPromotion.CHECKS[6]': {
    from: 'WaitingPromotion',
    event: checks(true, false),
    to: 'WaitingPromotion',
    then: { lastStepAt: now },
    effects: ['requeue'],
  },
  'Promoting.OBSERVE[0]': { from: 'Promoting', event: obs({ deleting: true }), to: 'Terminating' },
  'Promoting.OBSERVE[1]': {
    from: 'Promoting',
    event: obs({ revision: 'rev3' }),
    to: 'Progressing',
    then: { revision: 'rev3', weight: 0 },
  },
  'Promoting.OBSERVE[2]': {
    from: 'Promoting',
    context: { weight: 20 },
    event: obs({ primaryRevision: 'rev2', analysis: { ...analysis, stepWeightPromotion: 15 } }),
    to: 'Promoting',
    then: { weight: 5, lastStepAt: now },
    effects: ['setWeight', 'record', 'requeue'],
  },
  'Promoting.OBSERVE[3]': {
    from: 'Promoting',
    context: { weight: 20, lastStepAt: now - 1_000 },
    event: obs({ primaryRevision: 'rev2', analysis: { ...analysis, stepWeightPromotion: 15 } }),
    to: 'Promoting',
    effects: ['setWeight', 'requeue'],
  },
  'Promoting.OBSERVE[4]': {
    from: 'Promoting',
    event: obs({ primaryRevision: 'rev2' }),
    to: 'Finalising',
  },
  'Promoting.OBSERVE[5]': {
    from: 'Promoting',
    context: { lastStepAt: now - 601_000 },
    event: obs(),
    to: 'Failed',
    then: {
      weight: 0,
      message: 'The primary did not roll out revision rev2 within progressDeadlineSeconds (600s)',
    },
    effects: ['setWeight', 'scaleCanaryDown', 'record'],
  },
  'Promoting.OBSERVE[6]': { from: 'Promoting', event: obs(), to: 'Promoting', effect: 'promote' },
  'Finalising.OBSERVE[0]': {
    from: 'Finalising',
    event: obs({ deleting: true }),
    to: 'Terminating',
  },
  'Finalising.OBSERVE[1]': {
    from: 'Finalising',
    event: obs(),
    to: 'Succeeded',
    then: { promotedRevision: 'rev2', weight: 0 },
  },
  'Terminating.OBSERVE[0]': {
    from: 'Terminating',
    event: obs({ deleting: true, revertOnDeletion: true }),
    to: 'Terminating',
    effect: 'finalize',
  },
};

function steadyScenarios(phase: 'Initialized' | 'Succeeded'): Record<string, Scenario> {
  const settled = { revision: 'rev1', promotedRevision: 'rev1', weight: 0 };
  return {
    [`${phase}.OBSERVE[0]`]: {
      from: phase,
      context: settled,
      event: obs({ deleting: true }),
      to: 'Terminating',
    },
    [`${phase}.OBSERVE[1]`]: {
      from: phase,
      context: settled,
      event: obs({ skipAnalysis: true }),
      to: 'Promoting',
      effect: 'promote',
    },
    [`${phase}.OBSERVE[2]`]: {
      from: phase,
      context: settled,
      event: obs({ gates: { rollout: false, promotion: true } }),
      to: 'Waiting',
      effects: ['record', 'requeue'],
    },
    [`${phase}.OBSERVE[3]`]: {
      from: phase,
      context: settled,
      event: obs(),
      to: 'Progressing',
      then: { revision: 'rev2', weight: 0, startedAt: now },
    },
    [`${phase}.OBSERVE[4]`]: {
      from: phase,
      context: settled,
      event: obs({ revision: 'rev1' }),
      to: phase,
      effect: 'scaleCanaryDown',
    },
  };
}

/** The transitions of the definition, as `State.EVENT[index]`. */
function definedTransitions(): string[] {
  return Object.entries(canaryMachine.states).flatMap(([state, node]) =>
    Object.entries((node.config.on ?? {}) as Record<string, unknown>).flatMap(([event, t]) =>
      (Array.isArray(t) ? t : [t]).map((_, i) => `${state}.${event}[${i}]`),
    ),
  );
}

describe('every transition of the machine', () => {
  for (const [key, s] of Object.entries(scenarios)) {
    it(`${key}: ${s.from} → ${s.to}`, () => {
      const d = decide(
        { version: machineVersion, phase: s.from, context: ctx(s.context) },
        s.event,
      );
      expect(d.phase).toBe(s.to);
      if (s.effect) expect(d.effects.map((e) => e.type)).toContain(s.effect);
      if (s.then) expect(d.context).toMatchObject(s.then);
      for (const field of s.without ?? []) expect(d.context).not.toHaveProperty(field);
      if (s.effects) expect(d.effects.map((e) => e.type)).toEqual(s.effects);
    });
  }

  it('has a scenario for each transition in the definition, and none for transitions that do not exist', () => {
    expect(Object.keys(scenarios).sort()).toEqual(definedTransitions().sort());
  });
});
