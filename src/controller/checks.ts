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
 * Runs the checks of an analysis step. Metric analysis and webhooks plug in here
 * (their own issues); with nothing configured the step passes. A configured check
 * that cannot be evaluated fails: Weir never promotes on missing data.
 */
export interface CheckRunner {
  run(
    canary: Canary,
    context: { revision: string; weight: number; signal: AbortSignal },
  ): Promise<CheckOutcome>;
}

/** The check runner until metric providers and webhooks are wired in: fails any configured check. */
export const noProviderChecks: CheckRunner = {
  async run(canary) {
    const metrics = canary.spec.analysis.metrics ?? [];
    const webhooks = (canary.spec.analysis.webhooks ?? []).filter(
      (w) => (w.type ?? 'rollout') === 'rollout',
    );
    const failures = [
      ...metrics.map((m) => `${m.name}: no metric provider is configured in this controller`),
      ...webhooks.map((w) => `${w.name}: webhooks are not enabled in this controller`),
    ];
    return { passed: failures.length === 0, failures };
  },
};
