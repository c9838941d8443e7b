import fc from 'fast-check';
import type { CanaryAnalysis } from '../../../src/api/canary-schema.js';
import {
  changeSpec,
  checksTimeoutMs,
  Controller,
  initialCluster,
  type Annotations,
  type ChecksClock,
  type Outcome,
} from './reconcile-model.js';

/**
 * Generated histories for the reconcile model: what happens to a Canary and to its
 * controller, one step at a time. Every step but `restart` and `loseWrite` ends
 * with a reconcile, as the work queue would run one then.
 */
export type Step =
  /** Something in the cluster changed (a watch event), `advance` ms after the last step. */
  | { kind: 'change'; advance: number; change: Change }
  /** The timed requeue fires, `late` ms late. */
  | { kind: 'wake'; late: number }
  /** The clock jumps (the controller was paused, the node slept), then the queue runs. */
  | { kind: 'jump'; ms: number }
  /**
   * The running checks finish after `took` ms (at most the checks timeout) and the
   * result is decided `delay` ms later (the queue was busy, the API server unreachable).
   */
  | { kind: 'checksDone'; outcome: Outcome; took: number; delay: number }
  /**
   * Nothing disturbs the controller for `events` of its own events (requeues,
   * checks finishing after `took` ms with `outcome`, rollouts finishing).
   */
  | { kind: 'run'; events: number; outcome: Outcome; took: number }
  /** The controller restarts: its memory is gone, and it reconciles every Canary. */
  | { kind: 'restart' }
  /**
   * The next status write fails: that reconcile acts on nothing of its decision, and
   * the next one decides again from the older status (ADR 0013).
   */
  | { kind: 'loseWrite' };

export interface Change {
  revision?: string;
  targetRolledOut?: boolean;
  primaryAvailable?: boolean;
  gates?: { rollout: boolean; promotion: boolean };
  annotations?: Annotations;
  suspended?: boolean;
  skipAnalysis?: boolean;
  deleting?: boolean;
  analysis?: CanaryAnalysis;
}

export const start = Date.UTC(2026, 11, 1, 9);

/** Check outcomes for hand-written histories. */
export const passing: Outcome = { passed: true, failures: [], gates: {} };
export const failing: Outcome = {
  passed: false,
  failures: ['request-success-rate 93.1% < 99%'],
  gates: {},
};

/** `value` once in `n` times, otherwise `otherwise`. */
const oneIn = <T>(n: number, value: fc.Arbitrary<T>, otherwise: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 1, arbitrary: value }, { weight: n - 1, arbitrary: otherwise });

const shapes: CanaryAnalysis[] = [
  { maxWeight: 50, stepWeight: 10 },
  { maxWeight: 100, stepWeight: 25, stepWeightPromotion: 40 },
  { stepWeights: [1, 5, 25, 50] },
  { maxWeight: 30, stepWeight: 30, stepWeightPromotion: 10 },
  { iterations: 3 },
  { iterations: 2, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] },
];

/**
 * A realistic `spec.analysis`: a strategy, a threshold of 1..3, an interval of 10 s..1 m
 * (within `durationBounds.analysisInterval`, src/api/limits.ts), and now and then 5 s,
 * below the bound, as an older CRD admitted it: the machine holds it at 10 s, and so
 * do the properties (`intervalOf`).
 */
export const analysisArb: fc.Arbitrary<CanaryAnalysis> = fc
  .record({
    shape: fc.constantFrom(...shapes),
    threshold: fc.integer({ min: 1, max: 3 }),
    inconclusiveLimit: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    interval: oneIn(10, fc.constant('5s'), fc.constantFrom('10s', '15s', '30s', '1m')),
  })
  .map(({ shape, threshold, inconclusiveLimit, interval }) => ({
    ...shape,
    threshold,
    ...(inconclusiveLimit !== undefined ? { inconclusiveLimit } : {}),
    interval,
  }));

const revisions = ['rev1', 'rev2', 'rev3'];
const mostly = (n: number) => oneIn(n, fc.constant(false), fc.constant(true));
const rarely = (n: number) => oneIn(n, fc.constant(true), fc.constant(false));
const tokenArb = oneIn<string | undefined>(
  3,
  fc.constantFrom(...revisions.flatMap((r) => [r, `${r}-2`])),
  fc.constant(undefined),
);

const changeArb: fc.Arbitrary<Change> = fc.record(
  {
    // Several watch events can reach one reconcile (the work queue holds a key once).
    revision: oneIn(8, fc.constantFrom(...revisions), fc.constant(undefined)),
    targetRolledOut: mostly(4),
    primaryAvailable: mostly(5),
    gates: fc.record({ rollout: mostly(4), promotion: mostly(4) }),
    annotations: fc.record({ promote: tokenArb, abort: tokenArb, retry: tokenArb }),
    suspended: rarely(5),
    skipAnalysis: rarely(6),
  },
  { requiredKeys: [] },
);

export const outcomeArb: fc.Arbitrary<Outcome> = fc
  .record({
    // Passed, failed, or inconclusive (a provider that did not answer, no data for the judge).
    verdict: fc.constantFrom(
      'passed',
      'passed',
      'passed',
      'passed',
      'passed',
      'failed',
      'unjudged',
    ),
    rollout: fc.option(fc.boolean(), { nil: undefined }),
    trafficIncrease: fc.option(fc.boolean(), { nil: undefined, freq: 2 }),
    promotion: fc.option(fc.boolean(), { nil: undefined }),
    rollback: rarely(12),
  })
  .map(({ verdict, rollout, trafficIncrease, promotion, rollback }) => ({
    passed: verdict === 'passed',
    failures: verdict === 'failed' ? ['request-success-rate 93.1% < 99%'] : [],
    ...(verdict === 'unjudged'
      ? { inconclusive: ["latency: the canary's query failed: Prometheus is unreachable"] }
      : {}),
    gates: {
      ...(rollout !== undefined ? { rollout } : {}),
      ...(trafficIncrease !== undefined ? { trafficIncrease } : {}),
      ...(promotion !== undefined ? { promotion } : {}),
    },
    ...(rollback ? { rollbackRequested: 'rollback-hook' } : {}),
  }));

const second = 1_000;
const minute = 60 * second;
const hour = 60 * minute;

/** A step; `lostWrites: false` leaves out lost status writes. */
export const stepArb = (lostWrites = true): fc.Arbitrary<Step> =>
  fc.oneof(...stepKinds, ...(lostWrites ? [loseWrite] : []));

const stepKinds: fc.WeightedArbitrary<Step>[] = [
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('change' as const),
      advance: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 * second })),
      change: changeArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('change' as const),
      advance: fc.integer({ min: 0, max: 5 * second }),
      change: fc.record({ revision: fc.constantFrom(...revisions) }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('change' as const),
      advance: fc.integer({ min: 0, max: 5 * second }),
      change: oneIn<Change>(
        4,
        fc.constant({ deleting: true }),
        fc.record({ analysis: analysisArb }),
      ),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('wake' as const),
      late: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * second })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('jump' as const),
      ms: fc.oneof(
        fc.integer({ min: 1, max: 2 * minute }),
        fc.constantFrom(10 * minute, hour, 6 * hour),
      ),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('checksDone' as const),
      outcome: outcomeArb,
      took: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 * second }) },
        fc.integer({ min: 0, max: checksTimeoutMs }),
      ),
      delay: fc.oneof(
        { weight: 4, arbitrary: fc.constant(0) },
        fc.constantFrom(45 * second, 10 * minute, 3 * hour),
      ),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('run' as const),
      events: fc.integer({ min: 1, max: 12 }),
      outcome: outcomeArb,
      took: fc.integer({ min: 0, max: 3 * second }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
];
const loseWrite: fc.WeightedArbitrary<Step> = {
  weight: 1,
  arbitrary: fc.constant({ kind: 'loseWrite' as const }),
};

export interface History {
  analysis: CanaryAnalysis;
  /** Start from an Initialized Canary (bootstrap done, primary available), not a new one. */
  bootstrapped: boolean;
  /** The revision the target declares when the history starts (rev1 is the bootstrapped one). */
  revision: string;
  steps: Step[];
}

export const historyArb = ({ lostWrites = true, maxLength = 60 } = {}): fc.Arbitrary<History> =>
  fc.record({
    analysis: analysisArb,
    bootstrapped: mostly(5),
    revision: oneIn(4, fc.constant('rev1'), fc.constant('rev2')),
    steps: fc.array(stepArb(lostWrites), { maxLength, size: 'max' }),
  });

/** Applies one step to the controller and its cluster. */
export function apply(ctl: Controller, step: Step): void {
  const c = ctl.cluster;
  switch (step.kind) {
    case 'change': {
      ctl.now += step.advance;
      const { change } = step;
      if (change.revision && change.revision !== c.revision) {
        c.revision = change.revision;
        // A new pod template rolls out on the target (if it is scaled up).
        c.targetRolledOut = false;
      }
      if (change.targetRolledOut !== undefined) c.targetRolledOut = change.targetRolledOut;
      if (change.primaryAvailable !== undefined && c.primary)
        c.primary.available = change.primaryAvailable;
      if (change.gates) c.gates = change.gates;
      if (change.annotations) c.annotations = change.annotations;
      const { suspended, skipAnalysis, analysis } = change;
      changeSpec(c, { suspended, skipAnalysis, analysis });
      // Deletion cannot be taken back.
      if (change.deleting) c.deleting = true;
      ctl.reconcile();
      return;
    }
    case 'wake':
      ctl.now = Math.max(ctl.now, ctl.wakeAt ?? ctl.now) + step.late;
      ctl.reconcile();
      return;
    case 'jump':
      ctl.now += step.ms;
      ctl.reconcile();
      return;
    case 'checksDone': {
      const job = ctl.job;
      if (!job || job.outcome) return;
      job.outcome = step.outcome;
      ctl.now = Math.max(ctl.now, job.startedAt + step.took) + step.delay;
      ctl.reconcile();
      return;
    }
    case 'run':
      for (let i = 0; i < step.events && ctl.next(step.outcome, step.took); i++);
      return;
    case 'restart':
      ctl.restart();
      ctl.reconcile();
      return;
    case 'loseWrite':
      ctl.loseNextWrite = true;
      return;
  }
}

/** A controller for a Canary that has just been created (no status yet), or bootstrapped. */
export function begin(history: Omit<History, 'steps'>, checksClock: ChecksClock = 'decided') {
  const ctl = new Controller(initialCluster(history.analysis, start), start, checksClock);
  ctl.reconcile();
  if (history.bootstrapped) {
    ctl.cluster.primary!.available = true;
    ctl.reconcile();
  }
  ctl.cluster.revision = history.revision;
  ctl.reconcile();
  return ctl;
}

/** Runs a history and returns the controller, its log and its cluster. */
export function run(history: History, checksClock: ChecksClock = 'decided'): Controller {
  const ctl = begin(history, checksClock);
  for (const step of history.steps) apply(ctl, step);
  return ctl;
}
