import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CanaryAnalysis, CanaryPhase } from '../../../src/api/canary-schema.js';
import type { MachineSnapshot } from '../../../src/machine/release.js';
import { strategyOf } from '../../../src/api/strategy.js';
import { defaults } from '../../../src/api/durations.js';
import { assertProperty } from './fast-check-config.js';
import {
  changeSpec,
  traceOf,
  type Controller,
  type Outcome,
  type Reconciled,
} from './reconcile-model.js';
import { failing, historyArb, passing, run, type History } from './reconcile-steps.js';
import { intervalOf } from './release-properties.js';

/**
 * Property 4: no release is stuck. From any state a generated history reaches
 * (lost writes, restarts, late checks and clock jumps included), the cluster is
 * calmed: gates open, no manual requests, not suspended, skipAnalysis off. The
 * controller then runs on its own events only, as the work queue would: its timed
 * requeues, checks that finish 1 s after they start, rollouts that finish 5 s after
 * they begin (Deployment watch events). No periodic resync is assumed.
 * - With every new check passing, it comes to rest (no requeue, nothing running)
 *   within 4 reconciles per analysis or promotion step plus 16, and within
 *   (steps + 2) intervals plus 80 s (a rollout, the checks' safety net): the
 *   declared revision promoted (Initialized or Succeeded), or Failed for the
 *   declared revision when it failed before or a check decided now had failed.
 *   At rest all traffic goes to the primary and the canary is scaled to zero.
 * - With every new check failing, a release under analysis rolls back after at
 *   most `threshold` failed checks; one whose promotion was decided is promoted.
 * A deleted Canary ends in Terminating.
 */

const runs = 400;
const reliable = historyArb({ maxLength: 40, lostWrites: false });

/** Analysis steps a release needs at most, and promotion steps after them. */
function stepsOf(a: CanaryAnalysis): number {
  const analysis =
    strategyOf(a) === 'canary'
      ? (a.stepWeights?.length ?? Math.ceil((a.maxWeight ?? 100) / (a.stepWeight ?? 100))) + 1
      : (a.iterations ?? 1);
  const promotion = a.stepWeightPromotion ? Math.ceil(100 / a.stepWeightPromotion) : 0;
  return analysis + promotion;
}

interface Settled {
  before: MachineSnapshot;
  after: MachineSnapshot;
  log: Reconciled[];
  elapsed: number;
  atRest: boolean;
  /** A check result that was already in when the cluster calmed down (decided as it was). */
  resultPending: boolean;
}

/** Calms the cluster and lets the controller run on its own events, at most `limit` reconciles. */
function settle(ctl: Controller, outcome: Outcome, limit: number): Settled {
  const c = ctl.cluster;
  const before = c.status!;
  const resultPending = Boolean(ctl.job?.outcome);
  Object.assign(c, { gates: { rollout: true, promotion: true }, annotations: {} });
  changeSpec(c, { suspended: false, skipAnalysis: false });
  const from = ctl.log.length;
  const startedAt = ctl.now;
  ctl.reconcile();
  let atRest = false;
  while (ctl.log.length - from < limit && !(atRest = !ctl.next(outcome, 1_000)));
  return {
    before,
    after: c.status!,
    log: ctl.log.slice(from),
    elapsed: ctl.now - startedAt,
    atRest,
    resultPending,
  };
}

const deadline = /progressDeadlineSeconds/;
const failedCheck = (r: Reconciled) =>
  r.checks !== undefined &&
  (!r.checks.event.result.passed || r.checks.event.result.rollbackRequested !== undefined);

/**
 * The passing-checks property; `revertedAfterFailure` tells what to expect of a
 * Failed Canary whose target went back to the promoted revision (defect D4).
 */
function settlesPromoted(history: History, revertedAfterFailure: 'Failed' | 'promoted') {
  const ctl = run(history);
  const steps = stepsOf(ctl.cluster.analysis);
  const limit = 4 * steps + 16;
  const s = settle(ctl, passing, limit);
  const c = ctl.cluster;
  const trace = () => `\n${traceOf(ctl)}`;
  expect(s.atRest, `not at rest after ${limit} reconciles, in ${s.after.phase}${trace()}`).toBe(
    true,
  );
  expect(s.elapsed, `took ${s.elapsed} ms${trace()}`).toBeLessThanOrEqual(
    (steps + 2) * intervalOf(c.analysis) + 80_000,
  );
  if (c.deleting) {
    expect(s.after.phase).toBe('Terminating');
    return;
  }
  const { phase, context } = s.after;
  const reverted =
    phase === 'Failed' &&
    revertedAfterFailure === 'Failed' &&
    context.promotedRevision === c.revision;
  if (phase === 'Failed' && !reverted) {
    expect(
      context.revision,
      `Failed for ${context.revision}, the target declares ${c.revision}${trace()}`,
    ).toBe(c.revision);
    const failedBefore = s.before.phase === 'Failed' && s.before.context.revision === c.revision;
    expect(
      failedBefore || s.log.some(failedCheck) || deadline.test(context.message ?? ''),
      `Failed though every check passed: ${context.message}${trace()}`,
    ).toBe(true);
  } else if (!reverted) {
    expect(phase, trace()).toMatch(/^(Initialized|Succeeded)$/);
    expect(context.promotedRevision, trace()).toBe(c.revision);
  }
  expect(c.routed.weight, `routed weight at rest${trace()}`).toBe(0);
  expect(c.targetScaledUp, `canary scaled up at rest${trace()}`).toBe(false);
}

const analysing = new Set<CanaryPhase>(['Progressing', 'WaitingPromotion']);

describe('Property 4: no release is stuck', { timeout: 60_000 }, () => {
  it('with passing checks, a Canary comes to rest promoted, or Failed for the revision that failed', () => {
    assertProperty(
      fc.property(reliable, (h) => settlesPromoted(h, 'Failed')),
      { numRuns: runs },
    );
  });

  /**
   * Was defect D4, fixed: Failed now goes to Succeeded ('Reverted') when the target is
   * reverted to the promoted revision (after a failed promotion the primary may run
   * another: open defect D8, release-rules.property.test.ts). What the defect was
   * (machine: Failed waited for a revision other than the promoted one):
   * After a rollback, the usual fix is a revert in Git: the target declares the
   * promoted revision again. Failed ignores it (`isNewRevision` is false for the
   * promoted revision), so the Canary stays Failed, with Ready=False and
   * Stalled=True, until some later revision: Flux and Argo CD report the reverted
   * app unhealthy. Counterexample: rev2 fails its first check (threshold 1), then
   * the target goes back to rev1, the revision the primary runs.
   */
  it('a Failed Canary whose target is reverted to the promoted revision is promoted again', () => {
    const d4: History = {
      analysis: { maxWeight: 50, stepWeight: 10, threshold: 1, interval: '10s' },
      bootstrapped: true,
      revision: 'rev2',
      steps: [
        { kind: 'run', events: 8, outcome: failing, took: 0 },
        { kind: 'change', advance: 0, change: { revision: 'rev1' } },
      ],
    };
    assertProperty(
      fc.property(reliable, (h) => settlesPromoted(h, 'promoted')),
      { numRuns: runs, examples: [[d4]] },
    );
  });

  /**
   * Was defect D3, fixed: the reconciler writes the decision before it acts (ADR 0013).
   * What the defect was (reconciler: effects before the status write): A manual abort is
   * performed (routes to the primary, canary scaled to zero) but its status write
   * is lost, and the abort annotation is removed. The status still says
   * Progressing, nothing scales the canary up again, and the controller polls it
   * every 2 s for the whole 10 min progress deadline before failing it for the
   * wrong reason ("Canary was not ready").
   */
  it('… also when a status write is lost', () => {
    const d3: History = {
      analysis: { maxWeight: 50, stepWeight: 10, threshold: 1, interval: '10s' },
      bootstrapped: true,
      revision: 'rev2',
      steps: [
        { kind: 'loseWrite' },
        { kind: 'change', advance: 0, change: { annotations: { abort: 'rev2' } } },
      ],
    };
    assertProperty(
      fc.property(historyArb({ maxLength: 40 }), (h) => settlesPromoted(h, 'Failed')),
      { numRuns: runs, examples: [[d3]] },
    );
  });

  it('with failing checks, a release under analysis rolls back within threshold failed checks', () => {
    assertProperty(
      fc.property(reliable, (history) => {
        const ctl = run(history);
        const c = ctl.cluster;
        const s = settle(ctl, failing, 4 * stepsOf(c.analysis) + 16);
        expect(s.atRest).toBe(true);
        if (c.deleting) return;
        const trace = () => `\n${traceOf(ctl)}`;
        const failed = s.log.filter(
          (r) => failedCheck(r) && analysing.has(r.observe.decision.phase),
        );
        const threshold = c.analysis.threshold ?? defaults.threshold;
        expect(failed.length, `failed checks before the rollback${trace()}`).toBeLessThanOrEqual(
          threshold,
        );
        expect(s.after.phase, trace()).toMatch(/^(Initialized|Succeeded|Failed)$/);
        const same = s.before.context.revision === c.revision;
        if (same && ['Waiting', 'Progressing'].includes(s.before.phase) && !s.resultPending)
          expect(s.after.phase, `a release under analysis${trace()}`).toBe('Failed');
        if (same && ['Promoting', 'Finalising'].includes(s.before.phase))
          expect(
            s.after.phase === 'Succeeded' || deadline.test(s.after.context.message ?? ''),
            `a release being promoted${trace()}`,
          ).toBe(true);
      }),
      { numRuns: runs },
    );
  });
});
