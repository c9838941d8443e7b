import type { Logger } from 'pino';
import type { Canary } from '../api/types.js';
import type { CheckOutcome, CheckRunner, StepContext } from '../contracts/checks.js';
import { podGroups } from '../workloads/statefulsets.js';
import type { CheckStep, Effect, Observation } from '../machine/canary-machine.js';
import { decide, type Decision } from '../machine/release.js';
import type { CanaryMemories } from './canary-memory.js';
import type { World } from './observe.js';
import type { Recorded } from './outbox.js';
import type { StatusMachine } from './status.js';
import type { Telemetry } from './telemetry.js';

/** Upper bound of one step's checks; each query has its own, shorter timeout. */
export const checksTimeoutMs = 60_000;

/** What {@link decideStep} needs. */
export interface DecideDeps {
  checks: CheckRunner;
  memories: CanaryMemories;
  logger: Logger;
  telemetry: Telemetry;
}

/**
 * Decides on the observation; when the machine asks for checks they run in the
 * background, and once the step's result is in the machine decides on it too.
 */
export function decideStep(
  deps: DecideDeps,
  input: { key: string; world: World; stored: StatusMachine | undefined; obs: Observation },
): { decision: Decision; recorded: Recorded[]; checksPending: boolean } {
  const { key, world, stored, obs } = input;
  const observed = decide(stored, { type: 'OBSERVE', obs });
  const recorded = recordsOf(observed.effects, observed.previousPhase, observed.phase);
  const step = observed.effects.find((e) => e.type === 'runChecks')?.step;
  if (!step) {
    // The release moved on (new revision, rollback, promotion): stop what was measuring it.
    deps.memories.checks.cancel(key);
    return { decision: observed, recorded, checksPending: false };
  }
  const polled = deps.memories.checks.poll(key, step.id, (signal) =>
    runChecks(deps.checks, world.canary, step, signal, stepTargetOf(world)),
  );
  if (!polled.done) {
    deps.logger.debug({ canary: key, step: step.id }, 'Checks running');
    return { decision: observed, recorded, checksPending: true };
  }
  const outcome = polled.result;
  deps.logger.debug(
    {
      canary: key,
      step: step.id,
      passed: outcome.passed,
      failures: outcome.failures,
      inconclusive: outcome.inconclusive,
    },
    'Checks done',
  );
  const checked = decide(observed.snapshot, {
    type: 'CHECKS',
    result: {
      // The time of the decision, not of the checks' start: the step taken now is
      // what the next interval is counted from.
      now: obs.now,
      analysis: obs.analysis,
      passed: outcome.passed,
      failures: outcome.failures,
      ...(outcome.inconclusive ? { inconclusive: outcome.inconclusive } : {}),
      promotionOpen: obs.gates.promotion || outcome.gates?.promotion === true,
      ...(outcome.gates?.rollout !== undefined ? { rolloutConfirmed: outcome.gates.rollout } : {}),
      ...(outcome.gates?.trafficIncrease !== undefined
        ? { trafficIncreaseOpen: outcome.gates.trafficIncrease }
        : {}),
      ...(outcome.rollbackRequested ? { rollbackRequested: outcome.rollbackRequested } : {}),
    },
  });
  if (outcome.metrics) deps.telemetry.metricValues(world.canary, outcome.metrics);
  const measured = {
    ...(outcome.metrics ? { metrics: outcome.metrics } : {}),
    ...(outcome.webhooks ? { webhooks: outcome.webhooks } : {}),
  };
  return {
    decision: {
      ...checked,
      previousPhase: observed.previousPhase,
      effects: [...observed.effects, ...checked.effects],
    },
    recorded: [
      ...recorded,
      ...recordsOf(checked.effects, observed.phase, checked.phase).map((r) => ({
        ...r,
        ...measured,
      })),
    ],
    checksPending: false,
  };
}

function runChecks(
  checks: CheckRunner,
  canary: Canary,
  step: CheckStep,
  signal: AbortSignal,
  target: Pick<StepContext, 'pods' | 'revisions'>,
): Promise<CheckOutcome> {
  const { revision, phase, weight, iterations, hooks, measure } = step;
  return checks
    .run(canary, {
      ...{ revision, phase, weight, iterations, hooks, measure },
      ...target,
      signal: AbortSignal.any([signal, AbortSignal.timeout(checksTimeoutMs)]),
    })
    .catch((err: Error) => ({
      passed: false,
      failures: [`checks could not run: ${err.message}`],
    }));
}

/**
 * What a step judges of a target without a primary copy: a StatefulSet's pods by
 * the partition in place, a Knative Service's newest and primary Revisions.
 */
function stepTargetOf(world: World): Pick<StepContext, 'pods' | 'revisions'> {
  if (world.kind === 'StatefulSet') return { pods: podGroups(world.target) };
  if (world.kind === 'KnativeService') {
    const primary = world.observation.primaryRevision;
    return primary ? { revisions: { canary: world.revision, primary } } : {};
  }
  return {};
}

/** The `record` effects of a decision, between the phases it went from and to. */
function recordsOf(effects: Effect[], from: Recorded['from'], to: Recorded['to']): Recorded[] {
  return effects.flatMap((effect) => (effect.type === 'record' ? [{ effect, from, to }] : []));
}
