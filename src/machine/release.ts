import { initialTransition, transition } from 'xstate';
import type { CanaryAnalysis, CanaryPhase } from '../api/canary-schema.js';
import {
  canaryMachine,
  type CheckStep,
  type Effect,
  type MachineEffect,
  type MachineEvent,
  type ReleaseContext,
} from './canary-machine.js';
import { mirrorStep, routeWeight, stepHasTraffic, stepHooks } from './steps.js';
import { strategyOf } from '../api/strategy.js';

/** Bumped when the persisted shape changes; older shapes are migrated or restarted safely. */
export const machineVersion = 1;

/** The machine's state as it is stored in the Canary status (`status.machine`). */
export interface MachineSnapshot {
  version: number;
  phase: CanaryPhase;
  context: ReleaseContext;
}

/** The result of one decision. */
export interface Decision {
  /** The state to store: what the next decision starts from. */
  snapshot: MachineSnapshot;
  phase: CanaryPhase;
  previousPhase: CanaryPhase;
  context: ReleaseContext;
  /** What to do, in order, each complete (see {@link Effect}). */
  effects: Effect[];
}

function restore(snapshot: MachineSnapshot | undefined) {
  if (!snapshot || snapshot.version !== machineVersion) {
    return initialTransition(canaryMachine, {})[0];
  }
  return canaryMachine.resolveState({ value: snapshot.phase, context: snapshot.context });
}

/**
 * Applies one event to the stored machine: pure, so a reconcile that dies
 * before writing the status simply decides the same thing again.
 */
export function decide(snapshot: MachineSnapshot | undefined, event: MachineEvent): Decision {
  const before = restore(snapshot);
  const [after, actions] = transition(canaryMachine, before, event);
  const phase = after.value as CanaryPhase;
  // Drop undefined fields so the stored form is stable JSON (no spurious status writes).
  const context = JSON.parse(JSON.stringify(after.context)) as ReleaseContext;
  const analysis = event.type === 'OBSERVE' ? event.obs.analysis : event.result.analysis;
  const effects = actions
    .filter((a) => a.type === 'effect')
    .map((a) => completeEffect(a.params as MachineEffect, phase, context, analysis));
  return {
    snapshot: { version: machineVersion, phase, context },
    phase,
    previousPhase: before.value as CanaryPhase,
    context,
    effects,
  };
}

/** Completes an effect from the phase it leads to: routes, and the check step. */
export function completeEffect(
  effect: MachineEffect,
  phase: CanaryPhase,
  context: ReleaseContext,
  analysis: CanaryAnalysis,
): Effect {
  switch (effect.type) {
    case 'bootstrap':
      return { ...effect, routes: { canaryWeight: 0, matchToCanary: false } };
    case 'setWeight': {
      const mirror = mirrorStep(analysis, phase, effect.weight);
      return {
        ...effect,
        routes: {
          canaryWeight: routeWeight(analysis, effect.weight),
          matchToCanary: strategyOf(analysis) === 'abTesting' && phase === 'Progressing',
          ...(mirror ? { mirror } : {}),
        },
      };
    }
    case 'runChecks':
      return { ...effect, step: checkStep(phase, context, analysis) };
    default:
      return effect;
  }
}

/** The analysis step the context is at, named so its result applies to it alone. */
function checkStep(phase: CanaryPhase, c: ReleaseContext, analysis: CanaryAnalysis): CheckStep {
  return {
    id: `${phase}/${c.revision}/${c.iterations}/${c.lastStepAt ?? ''}/${c.lastGateAt ?? ''}`,
    revision: c.revision ?? '',
    phase,
    weight: c.weight,
    iterations: c.iterations,
    hooks: stepHooks(phase, analysis, c),
    measure: stepHasTraffic(phase, c.weight, c.iterations, mirrorStep(analysis, phase, c.weight)),
  };
}
