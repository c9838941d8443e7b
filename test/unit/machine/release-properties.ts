import { expect } from 'vitest';
import type { CanaryPhase } from '../../../src/api/canary-schema.js';
import type { MachineEvent, ReleaseContext } from '../../../src/machine/canary-machine.js';
import type { Decision } from '../../../src/machine/release.js';
import { durationBounds } from '../../../src/api/limits.js';
import { analysisComplete, finalStepWeight, nextStepWeight } from '../../../src/machine/steps.js';
import { strategyOf } from '../../../src/api/strategy.js';
import { boundedDurationMs, defaults } from '../../../src/api/durations.js';
import type { Controller, Reconciled } from './reconcile-model.js';

/**
 * The release invariants, as checks over the log of a modelled controller
 * (reconcile-model.ts). Each throws, through `expect`, at the first reconcile that
 * breaks it, saying which reconcile and what was expected.
 */

/** The analysis interval as the machine uses it: held within the bounds of src/api/limits.ts. */
export const intervalOf = (a: { interval?: string }) =>
  boundedDurationMs(a.interval, defaults.intervalMs, durationBounds.analysisInterval);

/** Where a reconcile is in the log, for messages. */
const at = (ctl: Controller, r: Reconciled) =>
  `reconcile #${ctl.log.indexOf(r)} at +${(r.at - ctl.log[0]!.at) / 1000}s`;

/** One decision inside a reconcile, with the state it was taken from. */
export interface Decided {
  r: Reconciled;
  event: MachineEvent;
  before: { phase: CanaryPhase; context: ReleaseContext };
  d: Decision;
}

const initial = {
  phase: 'Initializing' as CanaryPhase,
  context: { weight: 0, iterations: 0, failedChecks: 0 },
};

/** The decisions of a reconcile: OBSERVE, then CHECKS when it had a result to decide. */
export function decisionsOf(r: Reconciled): Decided[] {
  const before = r.stored ? { phase: r.stored.phase, context: r.stored.context } : initial;
  const steps: Decided[] = [{ r, event: r.observe.event, before, d: r.observe.decision }];
  if (r.checks) {
    const o = r.observe.decision;
    steps.push({
      r,
      event: r.checks.event,
      before: { phase: o.phase, context: o.context },
      d: r.checks.decision,
    });
  }
  return steps;
}

/**
 * Property 1, what the reconciler can guarantee about a rise of the canary weight.
 * The routed weight is what the router carries (`Routes.canaryWeight` of the routes
 * last written), which survives restarts and failed status writes. Every rise of it,
 * from w0 to w1:
 * - is an effect of the CHECKS decision of the same reconcile (never of OBSERVE),
 *   and those checks passed, asked for no rollback and did not hold the increase;
 * - was judged at w0: the checks were started while the router carried w0 (it did
 *   not change while they ran) and the machine's weight was w0 when they started;
 * - goes one step: w1 is `nextStepWeight(analysis, w0)`, so no weight is skipped.
 * With `dwell`, also: w0 had been routed for at least one full interval when the
 * checks that raised it started (the metric window of those checks saw only w0).
 *
 * Not covered: a release whose strategy a spec edit changed (weighted canary to
 * blue/green or A/B, or back). Blue/green and A/B route weight 0 whatever the
 * machine's weight, so such an edit re-routes the weight the machine holds, down
 * or up, without checks (docs/machine-properties.md, "Observed").
 */
export function weightRisesOnlyOnPassingChecks(ctl: Controller, dwell = false): void {
  const strategies = new Map<string, Set<string>>();
  for (const r of ctl.log) {
    for (const { event, d } of decisionsOf(r)) {
      const analysis = event.type === 'OBSERVE' ? event.obs.analysis : event.result.analysis;
      const key = releaseKey(d.context);
      strategies.set(key, (strategies.get(key) ?? new Set()).add(strategyOf(analysis)));
    }
    if (r.routedAfter.weight <= r.routedBefore.weight) continue;
    if ((strategies.get(releaseKey(r.decision.context))?.size ?? 0) > 1) continue;
    const where = `${at(ctl, r)}: weight ${r.routedBefore.weight} → ${r.routedAfter.weight}`;
    expect(r.lost, `${where}: acted on a decision whose write failed`).toBe(false);
    expect(r.checks, `${where} without checks`).toBeDefined();
    const { event, job } = r.checks!;
    expect(event.result.passed, `${where} on failed checks`).toBe(true);
    expect(event.result.rollbackRequested, `${where} with a rollback requested`).toBeUndefined();
    expect(event.result.trafficIncreaseOpen, `${where} with the increase held`).not.toBe(false);
    expect(
      r.observe.decision.effects.some(
        (e) => e.type === 'setWeight' && (e.routes?.canaryWeight ?? 0) > r.routedBefore.weight,
      ),
      `${where} by OBSERVE`,
    ).toBe(false);
    expect(job.weight, `${where}: the checks judged weight ${job.weight}`).toBe(
      r.routedBefore.weight,
    );
    expect(
      job.startedAt,
      `${where}: the checks started at +${(job.startedAt - ctl.log[0]!.at) / 1000}s, before the weight was routed`,
    ).toBeGreaterThanOrEqual(r.routedBefore.since);
    expect(r.routedAfter.weight, `${where}: not the next step`).toBe(
      nextStepWeight(event.result.analysis, r.routedBefore.weight),
    );
    if (dwell) {
      const interval = Math.min(intervalOf(job.analysis), intervalOf(event.result.analysis));
      const held = job.startedAt - r.routedBefore.since;
      expect(
        held,
        `${where}: weight ${r.routedBefore.weight} had been routed for ${held} ms (interval ${interval} ms) when the checks that raised it started`,
      ).toBeGreaterThanOrEqual(interval);
    }
  }
}

const inRelease = new Set<CanaryPhase>([
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
]);
const releaseKey = (c: ReleaseContext) => `${c.revision}@${c.startedAt}`;

/** How a release earned its promotion: the analysis, or one of the explicit exceptions. */
export type Earned = 'analysis' | 'manual promote' | 'skipAnalysis';

/**
 * Property 2. A release reaches WaitingPromotion, Promoting, Finalising and then
 * Succeeded (and a `promote` effect names its revision) only once that release of
 * that revision has earned it: passing checks that complete the analysis
 * (`analysisComplete` at the weight and iterations they ran at), or, explicitly,
 * a fresh manual promote token while Progressing, or skipAnalysis when the
 * release started. "That release" is the revision and start time; the record is
 * kept along the persisted history (a lost write takes it back too).
 */
export function promotionIsEarned(ctl: Controller): Map<Earned, number> {
  const used = new Map<Earned, number>();
  let stored: { key: string; how: Earned } | undefined;
  for (const r of ctl.log) {
    let earned = stored;
    for (const { event, before, d } of decisionsOf(r)) {
      const where = `${at(ctl, r)}: ${before.phase} → ${d.phase} on ${event.type}`;
      const sameRelease =
        inRelease.has(before.phase) &&
        before.context.revision === d.context.revision &&
        before.context.startedAt === d.context.startedAt;
      if (d.phase === 'Succeeded' && before.phase === 'Failed') {
        // Was defect D4, fixed: after a rollback the target went back to the revision the
        // primary runs. Nothing is promoted: the promoted revision stays what it was.
        expect(event.type, where).toBe('OBSERVE');
        if (event.type === 'OBSERVE')
          expect(event.obs.revision, where).toBe(before.context.promotedRevision);
        expect(d.context.promotedRevision, where).toBe(before.context.promotedRevision);
      } else if (d.phase === 'Succeeded' && before.phase !== 'Succeeded') {
        expect(before.phase, `${where}`).toBe('Finalising');
        expect(earned?.key, `${where}: revision ${before.context.revision} not earned`).toBe(
          releaseKey(before.context),
        );
        expect(d.context.promotedRevision).toBe(before.context.revision);
      }
      if (!sameRelease) earned = undefined;
      let how: Earned | undefined;
      if (
        event.type === 'CHECKS' &&
        before.phase === 'Progressing' &&
        event.result.passed &&
        !event.result.rollbackRequested &&
        analysisComplete(
          event.result.analysis,
          before.context.weight,
          before.context.iterations + 1,
        )
      )
        how = 'analysis';
      if (
        event.type === 'OBSERVE' &&
        before.phase === 'Progressing' &&
        event.obs.manual.promote !== undefined &&
        event.obs.manual.promote !== before.context.consumed?.promote
      )
        how = 'manual promote';
      if (event.type === 'OBSERVE' && !inRelease.has(before.phase) && event.obs.skipAnalysis)
        how = 'skipAnalysis';
      if (how && ['WaitingPromotion', 'Promoting'].includes(d.phase))
        earned = { key: releaseKey(d.context), how };
      if (['WaitingPromotion', 'Promoting', 'Finalising'].includes(d.phase)) {
        expect(
          earned?.key,
          `${where}: release ${releaseKey(d.context)} reached ${d.phase} without passing its analysis or an explicit promotion`,
        ).toBe(releaseKey(d.context));
        if (before.phase !== d.phase || !sameRelease)
          used.set(earned!.how, (used.get(earned!.how) ?? 0) + 1);
      }
      for (const e of d.effects)
        if (e.type === 'promote')
          expect(
            earned?.key,
            `${where}: promote ${e.revision} not earned (release ${releaseKey(d.context)})`,
          ).toBe(`${e.revision}@${d.context.startedAt}`);
    }
    if (!r.lost) stored = earned;
  }
  return used;
}

/** Property 5: the weight stays within 0..100 and the final step; failed checks below the threshold. */
export function withinBounds(ctl: Controller): void {
  for (const r of ctl.log) {
    for (const { event, before, d } of decisionsOf(r)) {
      const where = `${at(ctl, r)}: ${before.phase} → ${d.phase} on ${event.type}`;
      expect(d.context.weight, where).toBeGreaterThanOrEqual(0);
      expect(d.context.weight, where).toBeLessThanOrEqual(100);
      if (event.type === 'CHECKS') {
        const { analysis } = event.result;
        for (const e of d.effects)
          if (e.type === 'setWeight')
            expect(e.weight, `${where}: setWeight above the final step`).toBeLessThanOrEqual(
              finalStepWeight(analysis),
            );
        // (A threshold lowered mid-release can leave more failures than the new one
        // allows; the next failed check then rolls back.)
        const unjudged = !event.result.passed && event.result.failures.length === 0;
        if (!event.result.passed && !unjudged && d.phase !== 'Failed')
          expect(d.context.failedChecks, `${where}: failed checks`).toBeLessThan(
            analysis.threshold ?? defaults.threshold,
          );
        // An inconclusive step counts, holds the weight, and rolls back at the limit.
        if (unjudged && inRelease.has(before.phase) && d.phase !== 'Failed') {
          expect(d.context.inconclusiveChecks ?? 0, `${where}: inconclusive`).toBeLessThan(
            analysis.inconclusiveLimit ?? defaults.inconclusiveLimit,
          );
          expect(d.context.weight, `${where}: weight held`).toBe(before.context.weight);
          expect(d.context.failedChecks, `${where}: not a failure`).toBe(
            before.context.failedChecks,
          );
        }
      }
      expect(d.context.failedChecks, where).toBeLessThanOrEqual(3);
    }
  }
}

/** Property 5: a Failed release is released again only for a new revision or a fresh retry token. */
export function failedStaysFailed(ctl: Controller): void {
  for (const r of ctl.log) {
    for (const { event, before, d } of decisionsOf(r)) {
      if (before.phase !== 'Failed' || event.type !== 'OBSERVE' || !inRelease.has(d.phase))
        continue;
      if (event.obs.revision !== before.context.revision) continue;
      const retry = event.obs.manual.retry;
      const where = `${at(ctl, r)}: Failed → ${d.phase} for ${event.obs.revision}`;
      expect(retry, `${where} without a retry token`).toBeDefined();
      expect(retry, `${where}: retry token already used`).not.toBe(before.context.consumed?.retry);
      expect(d.context.consumed?.retry, `${where}: retry token not consumed`).toBe(retry);
    }
  }
}

/** Property 5: a new revision during a release starts that revision's analysis over, at weight 0. */
export function newRevisionRestartsAtZero(ctl: Controller): void {
  for (const r of ctl.log) {
    const { event, before, d } = decisionsOf(r)[0]!;
    if (event.type !== 'OBSERVE' || !inRelease.has(before.phase) || before.phase === 'Finalising')
      continue;
    if (event.obs.revision === before.context.revision || event.obs.deleting) continue;
    const where = `${at(ctl, r)}: ${before.phase} (${before.context.revision}) → ${d.phase} (${event.obs.revision})`;
    expect(d.phase, where).toMatch(/^(Progressing|Waiting)$/);
    expect(d.context, where).toMatchObject({
      revision: event.obs.revision,
      weight: 0,
      iterations: 0,
      failedChecks: 0,
      startedAt: event.obs.now,
      lastStepAt: event.obs.now,
    });
    // Acted on once written: a failed write acts on nothing, and the next reconcile decides again.
    if (d.phase === 'Progressing' && !r.lost) {
      expect(r.routedAfter.weight, `${where}: routed weight`).toBe(0);
      expect(r.targetScaledUp, `${where}: target scaled up`).toBe(true);
    }
  }
}

/**
 * Property 5: a rollback, once performed (routes back to the primary, canary scaled
 * down), stands: that release is never promoted afterwards and its weight never
 * rises again. A rollback is performed only once its status is written (ADR 0013):
 * a decision whose write failed is acted on by nobody, and the next reconcile
 * decides again. Only a new release (new revision, or a retry) moves traffic again.
 */
export function rollbackStands(ctl: Controller): void {
  let stored: string | undefined;
  for (const r of ctl.log) {
    let rolledBack = stored;
    for (const { event, before, d } of decisionsOf(r)) {
      const where = `${at(ctl, r)}: ${before.phase} → ${d.phase} on ${event.type}`;
      const newRelease =
        (!inRelease.has(before.phase) && inRelease.has(d.phase)) ||
        d.context.revision !== before.context.revision ||
        d.context.startedAt !== before.context.startedAt;
      if (newRelease) rolledBack = undefined;
      // A person who asks to promote is heard (ADR 0004), whatever happened before.
      const asked =
        event.type === 'OBSERVE' &&
        event.obs.manual.promote !== undefined &&
        event.obs.manual.promote !== before.context.consumed?.promote;
      if (rolledBack && !asked) {
        expect(
          d.effects.filter((e) => e.type === 'promote'),
          `${where}: the release of ${rolledBack} was rolled back, and is promoted`,
        ).toEqual([]);
        expect(
          d.effects.some((e) => e.type === 'setWeight' && e.weight > 0),
          `${where}: the release of ${rolledBack} was rolled back, and gets traffic again`,
        ).toBe(false);
      }
      if (d.phase === 'Failed' && before.phase !== 'Failed') rolledBack = before.context.revision;
    }
    // What a reconcile decided counts once written: a failed write was acted on by nobody.
    if (!r.lost) stored = rolledBack;
  }
}

/**
 * Property 5: a rollback, once written, sends all traffic to the primary and scales
 * the canary down in the same reconcile (a decision whose write failed is not acted on).
 */
export function rollbackIsImmediate(ctl: Controller): void {
  for (const r of ctl.log) {
    if (r.decision.phase !== 'Failed' || r.decision.previousPhase === 'Failed' || r.lost) continue;
    expect(r.routedAfter.weight, `${at(ctl, r)}: routed weight after the rollback`).toBe(0);
    expect(r.targetScaledUp, `${at(ctl, r)}: canary scaled up after the rollback`).toBe(false);
  }
}

/**
 * Property 5: suspend pauses the release where it is ("Pause the release where it
 * is", `spec.suspend`): while suspended, a release in Waiting, Progressing or
 * WaitingPromotion changes neither phase nor weight and runs no checks (deletion
 * and a new revision aside).
 */
export function suspendHoldsStill(ctl: Controller): void {
  for (const r of ctl.log) {
    const { event, before } = decisionsOf(r)[0]!;
    if (event.type !== 'OBSERVE' || !event.obs.suspended || event.obs.deleting) continue;
    if (!['Waiting', 'Progressing', 'WaitingPromotion'].includes(before.phase)) continue;
    if (event.obs.revision !== before.context.revision) continue;
    const where = `${at(ctl, r)}: suspended in ${before.phase}`;
    expect(r.decision.phase, `${where}: phase`).toBe(before.phase);
    expect(r.decision.context.weight, `${where}: weight`).toBe(before.context.weight);
    expect(r.checks, `${where}: checks decided`).toBeUndefined();
  }
}

/** Property 5: an Initialized or Succeeded Canary's primary runs the revision recorded as promoted. */
export function promotedIsWhatThePrimaryRuns(ctl: Controller): void {
  for (const r of ctl.log) {
    const d = r.decision;
    if (r.lost || !['Initialized', 'Succeeded'].includes(d.phase)) continue;
    expect(
      r.primaryRevision,
      `${at(ctl, r)}: ${d.phase} with promotedRevision ${d.context.promotedRevision}`,
    ).toBe(d.context.promotedRevision);
  }
}

/**
 * Property 5: an in-flight release never waits on nothing: unless suspended, every
 * reconcile that leaves it in flight has asked to be woken or has checks running.
 */
export function inFlightAlwaysWakes(ctl: Controller): void {
  for (const r of ctl.log) {
    const d = r.decision;
    if (!['Initializing', ...inRelease].includes(d.phase)) continue;
    if (r.observe.event.obs.suspended) continue;
    expect(
      r.wakeAt !== undefined || r.jobAfter !== undefined,
      `${at(ctl, r)}: ${d.phase} with no requeue and no checks running`,
    ).toBe(true);
  }
}

/**
 * Property 5: progress deadlines are honest. A rollback for the progress deadline
 * (ProgressDeadlineExceeded in Progressing, PromotionFailed in Promoting) comes
 * only once the Deployment it waits for (the canary, or the primary) has been
 * unready for the whole `progressDeadlineSeconds`.
 */
export function deadlinesAreHonest(ctl: Controller): void {
  for (const r of ctl.log) {
    const { event, before, d } = decisionsOf(r)[0]!;
    if (event.type !== 'OBSERVE' || d.phase !== 'Failed' || before.phase === 'Failed') continue;
    const waitedFor =
      before.phase === 'Progressing'
        ? 'canary'
        : before.phase === 'Promoting'
          ? 'primary'
          : undefined;
    if (!waitedFor || !/progressDeadlineSeconds/.test(d.context.message ?? '')) continue;
    const since = r.unreadySince[waitedFor];
    const unready = since === undefined ? 0 : r.at - since;
    expect(
      unready,
      `${at(ctl, r)}: ${before.phase} → Failed (${d.context.message}) after the ${waitedFor} was unready for ${unready} ms`,
    ).toBeGreaterThanOrEqual(event.obs.progressDeadlineSeconds * 1000);
  }
}

/**
 * Property 5: a manual request acts once (ADR 0004). Along the persisted history,
 * each value of the promote, abort and retry annotations causes at most one
 * transition: a request left on the object never acts again.
 */
export function manualRequestsActOnce(ctl: Controller): Map<string, number> {
  const acted = new Map<string, number>();
  let stored = new Set<string>();
  for (const r of ctl.log) {
    const seen = new Set(stored);
    for (const { event, before, d } of decisionsOf(r)) {
      if (event.type !== 'OBSERVE') continue;
      const { manual } = event.obs;
      let request: string | undefined;
      if (before.phase === 'Progressing' && d.phase === 'Promoting')
        request = `promote=${manual.promote}`;
      if (
        before.phase !== 'Failed' &&
        d.phase === 'Failed' &&
        d.context.message === 'Release aborted by request'
      )
        request = `abort=${manual.abort}`;
      if (before.phase === 'Failed' && inRelease.has(d.phase)) {
        if (d.context.revision === before.context.revision) request = `retry=${manual.retry}`;
      }
      if (!request) continue;
      expect(
        seen.has(request),
        `${at(ctl, r)}: ${request} acted again (${before.phase} → ${d.phase})`,
      ).toBe(false);
      seen.add(request);
      const kind = request.split('=')[0]!;
      acted.set(kind, (acted.get(kind) ?? 0) + 1);
    }
    if (!r.lost) stored = seen;
  }
  return acted;
}
