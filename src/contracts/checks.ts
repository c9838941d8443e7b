import type { Canary } from '../api/types.js';
import type { CheckStep } from '../machine/canary-machine.js';
import type { MetricResult, WebhookResult } from './records.js';

/** What an analysis step is about, as the machine named it, and the signal that cancels it. */
export interface StepContext extends Omit<CheckStep, 'id'> {
  signal: AbortSignal;
  /**
   * A StatefulSet target's pods at this step, by the partition in place (ADR 0019):
   * regular expressions of the canary's and the stable set's pod names.
   */
  pods?: StepPods;
  /** A Knative Service target's Revisions at this step (ADR 0020). */
  revisions?: StepRevisions;
}

/** A Knative Service's Revisions at a step: the newest (judged) and the primary. */
export interface StepRevisions {
  canary: string;
  primary: string;
}

/** A StatefulSet's pods at a step: `web-(3|4)` and `web-(0|1|2)`. */
export interface StepPods {
  canary: string;
  stable: string;
}

/** The outcome of the checks of one analysis step. */
export interface CheckOutcome {
  passed: boolean;
  /** One line per failed check, e.g. "request-success-rate 93.1% < 99%". */
  failures: string[];
  /**
   * One line per check that could not be judged (a provider error, no data or too few
   * samples for the judge). With no failure, the step is inconclusive: `passed` is false,
   * the weight holds and the machine counts it against `inconclusiveLimit`, not `threshold`.
   */
  inconclusive?: string[];
  /** Every measured value, for the CanaryRun and metrics. */
  metrics?: MetricResult[];
  /** Every webhook called, for the CanaryRun. */
  webhooks?: WebhookResult[];
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
