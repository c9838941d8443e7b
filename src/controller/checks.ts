import type { CheckOutcome, CheckRunner } from '../contracts/checks.js';

/** Runs several check runners in parallel as one; a step passes when all pass. */
export function allChecks(...runners: CheckRunner[]): CheckRunner {
  return {
    async run(canary, context) {
      const outcomes = await Promise.all(runners.map((r) => r.run(canary, context)));
      const metrics = outcomes.flatMap((o) => o.metrics ?? []);
      const webhooks = outcomes.flatMap((o) => o.webhooks ?? []);
      const rollback = outcomes.find((o) => o.rollbackRequested)?.rollbackRequested;
      const inconclusive = outcomes.flatMap((o) => o.inconclusive ?? []);
      return {
        passed: outcomes.every((o) => o.passed),
        failures: outcomes.flatMap((o) => o.failures),
        ...(inconclusive.length > 0 ? { inconclusive } : {}),
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
