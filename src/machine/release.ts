import { initialTransition, transition } from 'xstate';
import type { CanaryPhase } from '../api/canary-schema.js';
import {
  canaryMachine,
  type Effect,
  type MachineEvent,
  type ReleaseContext,
} from './canary-machine.js';

/** Bumped when the persisted shape changes; older shapes are migrated or restarted safely. */
export const machineVersion = 1;

/** What is stored in `status.machine`. */
export interface PersistedMachine {
  version: number;
  phase: CanaryPhase;
  context: ReleaseContext;
}

/** The result of one decision. */
export interface Decision {
  persisted: PersistedMachine;
  phase: CanaryPhase;
  previousPhase: CanaryPhase;
  context: ReleaseContext;
  effects: Effect[];
}

function restore(persisted: PersistedMachine | undefined) {
  if (!persisted || persisted.version !== machineVersion) {
    return initialTransition(canaryMachine, {})[0];
  }
  return canaryMachine.resolveState({ value: persisted.phase, context: persisted.context });
}

/**
 * Applies one event to the persisted machine: pure, so a reconcile that dies
 * before writing the status simply decides the same thing again.
 */
export function decide(persisted: PersistedMachine | undefined, event: MachineEvent): Decision {
  const before = restore(persisted);
  const [after, actions] = transition(canaryMachine, before, event);
  const effects = actions.filter((a) => a.type === 'effect').map((a) => a.params as Effect);
  const phase = after.value as CanaryPhase;
  // Drop undefined fields so the persisted form is stable JSON (no spurious status writes).
  const context = JSON.parse(JSON.stringify(after.context)) as ReleaseContext;
  return {
    persisted: { version: machineVersion, phase, context },
    phase,
    previousPhase: before.value as CanaryPhase,
    context,
    effects,
  };
}
