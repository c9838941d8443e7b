import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import type { CanaryPhase } from '../../../src/api/canary-schema.js';
import {
  canaryMachine,
  type CanarySnapshot,
  type Effect,
  type MachineEvent,
} from '../../../src/machine/canary-machine.js';
import { completeEffect, decide, type MachineSnapshot } from '../../../src/machine/release.js';
import { historyArb, run } from './reconcile-steps.js';
import { decisionsOf } from './release-properties.js';
import { assertProperty } from './fast-check-config.js';

/**
 * Property 3, restart equivalence. A controller that never restarts could keep the
 * machine's snapshot in memory and feed it event after event; Weir instead stores
 * `{ phase, context }` in the status and every reconcile restores the machine from
 * it. For every decision of a generated history (lost writes and restarts
 * included), deciding from the stored status, round-tripped through JSON as the
 * API server returns it, gives the same phase, context and effects as the
 * uninterrupted in-memory machine that saw the same events along the persisted
 * history; and the stored status is exactly that machine's phase and context.
 */
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function uninterrupted(snapshot: CanarySnapshot, event: MachineEvent) {
  const [next, actions] = transition(canaryMachine, snapshot, event);
  const phase = next.value as CanaryPhase;
  const context = json(next.context);
  const analysis = event.type === 'OBSERVE' ? event.obs.analysis : event.result.analysis;
  // The effects as the machine names them, completed as decide() completes them.
  const effects = actions
    .filter((a) => a.type === 'effect')
    .map((a) => completeEffect(a.params as Effect, phase, context, analysis));
  return { next, phase, context, effects };
}

describe('restart equivalence', { timeout: 60_000 }, () => {
  it('decides from the stored status exactly as the uninterrupted machine does', () => {
    assertProperty(
      fc.property(historyArb(), (history) => {
        const ctl = run(history);
        let memory = initialTransition(canaryMachine, {})[0];
        for (const r of ctl.log) {
          const stored: MachineSnapshot | undefined = r.stored && json(r.stored);
          if (stored)
            expect(
              { phase: stored.phase, context: stored.context },
              'the status is the machine',
            ).toEqual({ phase: memory.value, context: json(memory.context) });
          let snapshot = memory;
          let persisted = stored;
          for (const { event, d } of decisionsOf(r)) {
            const expected = uninterrupted(snapshot, event);
            const restarted = decide(persisted, event);
            const seen = {
              phase: restarted.phase,
              context: restarted.context,
              effects: restarted.effects,
            };
            const want = {
              phase: expected.phase,
              context: expected.context,
              effects: expected.effects,
            };
            expect(seen, `${event.type} at reconcile #${ctl.log.indexOf(r)}`).toEqual(want);
            expect({ phase: d.phase, context: d.context, effects: d.effects }).toEqual(want);
            snapshot = expected.next;
            persisted = json(restarted.snapshot);
          }
          if (!r.lost) memory = snapshot;
        }
      }),
      { numRuns: 300 },
    );
  });
});
