import type { Canary } from '../api/types.js';
import type { CheckStep } from '../machine/canary-machine.js';
import type { RecordEntry } from './records.js';

/** What an analysis step is about, as the machine named it, and the signal that cancels it. */
export interface StepContext extends Omit<CheckStep, 'id'> {
  signal: AbortSignal;
}

/** The outcome of the checks of one analysis step. */
export interface CheckOutcome {
  passed: boolean;
  /** One line per failed check, e.g. "request-success-rate 93.1% < 99%". */
  failures: string[];
  /** Every measured value, for the CanaryRun and metrics. */
  metrics?: RecordEntry['metrics'];
  /** Every webhook called, for the CanaryRun. */
  webhooks?: RecordEntry['webhooks'];
  /** Confirm gates asked in this step: true when their webhooks answered 2xx. */
  gates?: { rollout?: boolean; trafficIncrease?: boolean; promotion?: boolean };
  /** A rollback webhook asked for a rollback: its name. */
  rollbackRequested?: string;
}

/**
 * Runs the checks of an analysis step. With nothing configured the step passes.
 * A configured check that cannot be evaluated fails: Weir never promotes on
 * missing data.
 */
export interface CheckRunner {
  run(canary: Canary, context: StepContext): Promise<CheckOutcome>;
  /** Before a release: whether the checks can be evaluated at all (a problem, or undefined). */
  preflight?(canary: Canary, signal: AbortSignal): Promise<string | undefined>;
}

/** Runs several check runners in parallel as one; a step passes when all pass. */
export function allChecks(...runners: CheckRunner[]): CheckRunner {
  return {
    async run(canary, context) {
      const outcomes = await Promise.all(runners.map((r) => r.run(canary, context)));
      const metrics = outcomes.flatMap((o) => o.metrics ?? []);
      const webhooks = outcomes.flatMap((o) => o.webhooks ?? []);
      const rollback = outcomes.find((o) => o.rollbackRequested)?.rollbackRequested;
      return {
        passed: outcomes.every((o) => o.passed),
        failures: outcomes.flatMap((o) => o.failures),
        ...(metrics.length > 0 ? { metrics } : {}),
        ...(webhooks.length > 0 ? { webhooks } : {}),
        gates: Object.assign({}, ...outcomes.map((o) => o.gates ?? {})) as CheckOutcome['gates'],
        ...(rollback ? { rollbackRequested: rollback } : {}),
      };
    },
    async preflight(canary, signal) {
      const problems = await Promise.all(runners.map((r) => r.preflight?.(canary, signal)));
      return problems.filter(Boolean).join('; ') || undefined;
    },
  };
}

/** No metric provider wired in (unit tests of the reconciler): a configured metric fails. */
export const metricsUnavailable: CheckRunner = {
  async run(canary) {
    const failures = (canary.spec.analysis.metrics ?? []).map(
      (m) => `${m.name}: no metric provider is configured in this controller`,
    );
    return { passed: failures.length === 0, failures };
  },
};
