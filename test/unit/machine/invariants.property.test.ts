import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertProperty } from './fast-check-config.js';
import { historyArb, passing, run, type History } from './reconcile-steps.js';
import {
  promotionIsEarned,
  weightRisesOnlyOnPassingChecks,
  type Earned,
} from './release-properties.js';

/**
 * The release invariants over generated histories of a Canary and its controller
 * (reconcile-steps.ts): watch events, timed requeues, checks that finish late or
 * are decided long after they started, clock jumps, restarts and failed status
 * writes. The properties are stated in release-properties.ts. A property the
 * machine or the reconciler breaks runs as `it.fails` with the defect named in its
 * title, its shrunk counterexample pinned in `examples` so that it fails on every
 * run, and `assertKnownDefect` letting through only the failure that names the
 * defect; when the defect is fixed, it becomes an `it` with `assertProperty`, the
 * counterexample kept in `examples`. The defects are described in
 * docs/machine-properties.md (D1–D8 fixed).
 */

const runs = 400;
const withoutLostWrites = historyArb({ lostWrites: false });
const withLostWrites = historyArb();

describe(
  'Property 1: the canary weight rises only on passing checks of the weight routed',
  { timeout: 60_000 },
  () => {
    it('every rise is the next step, decided on passing checks started at the routed weight', () => {
      let rises = 0;
      assertProperty(
        fc.property(withoutLostWrites, (h) => {
          const ctl = run(h);
          weightRisesOnlyOnPassingChecks(ctl);
          rises += ctl.log.filter((r) => r.routedAfter.weight > r.routedBefore.weight).length;
        }),
        { numRuns: runs },
      );
      expect(rises, 'weight rises generated').toBeGreaterThan(runs / 4);
    });

    /**
     * Was defect D3, fixed: the reconciler writes the decided status before it acts
     * (ADR 0013), and a failed write acts on nothing. What the defect was (reconciler:
     * effects before the status write): a reconcile performed its effects, then wrote
     * the status; when the write was lost, the next reconcile decided again from the
     * older status with newer inputs (here the spec changed) and could undo what was
     * already performed. Counterexample: promotion steps back 100 → 60 (performed,
     * write lost), stepWeightPromotion becomes 10, and the decision taken again from
     * 100 routes 90: 60 → 90 with no checks.
     */
    it('… also when a status write fails', () => {
      const d3: History = {
        analysis: {
          maxWeight: 100,
          stepWeight: 25,
          stepWeightPromotion: 40,
          threshold: 1,
          interval: '10s',
        },
        bootstrapped: true,
        revision: 'rev2',
        steps: [
          // 24 undisturbed events take the release to Promoting at weight 100.
          { kind: 'run', events: 24, outcome: passing, took: 0 },
          { kind: 'loseWrite' },
          { kind: 'wake', late: 0 },
          {
            kind: 'change',
            advance: 0,
            change: {
              analysis: {
                maxWeight: 30,
                stepWeight: 30,
                stepWeightPromotion: 10,
                threshold: 1,
                interval: '10s',
              },
            },
          },
        ],
      };
      assertProperty(
        fc.property(withLostWrites, (h) => weightRisesOnlyOnPassingChecks(run(h))),
        { numRuns: runs, examples: [[d3]] },
      );
    });

    /**
     * Was defect D1, fixed twice over. What the defect was (the reconciler's CHECKS
     * clock, ADR 0005 §5): the reconciler decided CHECKS with `now` = the time the
     * checks started, and the machine took that as `lastStepAt`, so the next step was
     * due one interval after the checks started, not after the weight they raised
     * was routed. A result decided late (the API server unreachable for 45 s, checks
     * running into their 60 s timeout) made the next step due at once.
     * Counterexample (interval 10 s): checks start at +10 s, their result is decided
     * at +56 s and routes 10 %; the next checks started at +56 s, and routed 20 % at
     * +57 s: weight 10 was judged after 0 ms. Fixed in the reconciler (CHECKS is
     * decided at its own time, the next test) and in the machine: a step is due only
     * an interval after its routes landed (`Observation.routedAt`, ADR 0013), so the
     * dwell holds even with the old clock.
     */
    it('the previous weight was routed for a full interval when the checks that raise it started, even with the clock the reconciler used before the fix', () => {
      const d1: History = {
        analysis: { maxWeight: 50, stepWeight: 10, threshold: 1, interval: '10s' },
        bootstrapped: true,
        revision: 'rev2',
        steps: [
          // 7 undisturbed events start the first step's checks at +10 s.
          { kind: 'run', events: 7, outcome: passing, took: 1_000 },
          { kind: 'checksDone', outcome: passing, took: 1_000, delay: 45_000 },
          { kind: 'run', events: 3, outcome: passing, took: 1_000 },
        ],
      };
      assertProperty(
        fc.property(withoutLostWrites, (h) =>
          weightRisesOnlyOnPassingChecks(run(h, 'started'), true),
        ),
        { numRuns: runs, examples: [[d1]] },
      );
    });

    it('… and with CHECKS decided at the time of the reconcile that decides it (the fix for D1), also when a status write fails', () => {
      assertProperty(
        fc.property(withLostWrites, (h) => weightRisesOnlyOnPassingChecks(run(h, 'decided'), true)),
        { numRuns: runs },
      );
    });
  },
);

describe(
  'Property 2: a release is promoted only when its analysis passed, or explicitly',
  { timeout: 60_000 },
  () => {
    it('WaitingPromotion, Promoting, Finalising and Succeeded follow passing analysis, a manual promote or skipAnalysis', () => {
      const paths = new Map<Earned, number>();
      assertProperty(
        fc.property(withLostWrites, (h) => {
          for (const [how, n] of promotionIsEarned(run(h)))
            paths.set(how, (paths.get(how) ?? 0) + n);
        }),
        { numRuns: runs },
      );
      // Each path was generated, so none of them is checked vacuously.
      expect([...paths.keys()].sort()).toEqual(['analysis', 'manual promote', 'skipAnalysis']);
    });
  },
);
