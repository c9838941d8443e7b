import type { Canary } from '../api/types.js';
import type { RecordEntry } from './records.js';

/** The outcome of the checks of one analysis step. */
export interface CheckOutcome {
  passed: boolean;
  /** One line per failed check, e.g. "request-success-rate 93.1% < 99%". */
  failures: string[];
  /** Every measured value, for the CanaryRun and metrics. */
  metrics?: RecordEntry['metrics'];
}

/**
 * Runs the checks of an analysis step. With nothing configured the step passes.
 * A configured check that cannot be evaluated fails: Weir never promotes on
 * missing data.
 */
export interface CheckRunner {
  run(
    canary: Canary,
    context: { revision: string; weight: number; signal: AbortSignal },
  ): Promise<CheckOutcome>;
  /** Before a release: whether the checks can be evaluated at all (a problem, or undefined). */
  preflight?(canary: Canary, signal: AbortSignal): Promise<string | undefined>;
}

/** Runs several check runners in parallel as one; a step passes when all pass. */
export function allChecks(...runners: CheckRunner[]): CheckRunner {
  return {
    async run(canary, context) {
      const outcomes = await Promise.all(runners.map((r) => r.run(canary, context)));
      const metrics = outcomes.flatMap((o) => o.metrics ?? []);
      return {
        passed: outcomes.every((o) => o.passed),
        failures: outcomes.flatMap((o) => o.failures),
        ...(metrics.length > 0 ? { metrics } : {}),
      };
    },
    async preflight(canary, signal) {
      const problems = await Promise.all(runners.map((r) => r.preflight?.(canary, signal)));
      return problems.filter(Boolean).join('; ') || undefined;
    },
  };
}

/** Rollout webhooks until they are implemented: a configured one fails the step, never passes it. */
export const webhooksUnavailable: CheckRunner = {
  async run(canary) {
    const failures = (canary.spec.analysis.webhooks ?? [])
      .filter((w) => (w.type ?? 'rollout') === 'rollout')
      .map((w) => `${w.name}: webhooks are not enabled in this controller`);
    return { passed: failures.length === 0, failures };
  },
};

/** No metric provider wired in (unit tests of the reconciler): a configured metric fails. */
export const metricsUnavailable: CheckRunner = {
  async run(canary) {
    const failures = (canary.spec.analysis.metrics ?? []).map(
      (m) => `${m.name}: no metric provider is configured in this controller`,
    );
    return { passed: failures.length === 0, failures };
  },
};
