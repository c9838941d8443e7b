import type { CanaryPhase } from '../api/canary-schema.js';
import type { Canary, CanaryRun } from '../api/types.js';
import type { TransitionCause, TransitionReason } from '../machine/reasons.js';
import { bounded } from '../util/text.js';

/** One metric as a step's checks measured and judged it. */
export interface MetricResult {
  name: string;
  value?: number;
  primaryValue?: number;
  min?: number;
  max?: number;
  passed: boolean;
  /** Neither passed nor failed: a provider error, no data, or too few samples for the judge. */
  inconclusive?: boolean;
  message?: string;
  /** The statistical judge's samples and estimate (relative to the primary's median). */
  judge?: JudgeRecord;
}

/** What the judge found for one metric at one step; the estimate is absent when it is unbounded. */
export interface JudgeRecord {
  canarySamples: number;
  primarySamples: number;
  estimate?: number;
  lower?: number;
  upper?: number;
  confidence?: number;
  tolerance?: number;
}

/** One webhook a step's checks called, and its answer. */
export interface WebhookResult {
  name: string;
  type: string;
  statusCode?: number;
  passed: boolean;
  body?: string;
  error?: string;
  attempts?: number;
}

/**
 * One recorded transition, waiting in the Canary status (the outbox) until it is
 * in its CanaryRun. `seq` makes recording exactly-once across restarts: an entry
 * is appended to the run only if the run does not hold its seq yet.
 */
export interface RecordEntry {
  seq: number;
  time: string;
  from: CanaryPhase;
  to: CanaryPhase;
  event: TransitionCause;
  reason: TransitionReason;
  message: string;
  weight: number;
  failedChecks: number;
  /** Inconclusive steps in a row; absent when none. */
  inconclusiveChecks?: number;
  revision?: string;
  /** The CanaryRun this entry belongs to (none for bootstrap). */
  run?: string;
  metrics?: MetricResult[];
  webhooks?: WebhookResult[];
}

/**
 * The CanaryRun schema's limits on a recorded transition (crds/ canaryruns): an
 * entry is cut to them when it is made, so the run accepts it whatever a metric
 * provider or webhook answered.
 */
export const recordLimits = {
  message: 2048,
  metrics: 32,
  metricMessage: 1024,
  webhooks: 32,
  webhookBody: 1024,
  webhookError: 512,
  name: 63,
  webhookType: 32,
} as const;

/** An entry within {@link recordLimits}. */
export function withinLimits(entry: RecordEntry): RecordEntry {
  const l = recordLimits;
  return {
    ...entry,
    message: bounded(entry.message, l.message),
    ...(entry.metrics
      ? {
          metrics: entry.metrics.slice(0, l.metrics).map((m) => ({
            ...m,
            name: bounded(m.name, l.name),
            ...(m.message !== undefined ? { message: bounded(m.message, l.metricMessage) } : {}),
          })),
        }
      : {}),
    ...(entry.webhooks
      ? {
          webhooks: entry.webhooks.slice(0, l.webhooks).map((w) => ({
            ...w,
            name: bounded(w.name, l.name),
            type: bounded(w.type, l.webhookType),
            ...(w.body !== undefined ? { body: bounded(w.body, l.webhookBody) } : {}),
            ...(w.error !== undefined ? { error: bounded(w.error, l.webhookError) } : {}),
          })),
        }
      : {}),
  };
}

/** The entry without what the checks measured: what is left of one its run refused. */
export function stripped(entry: RecordEntry): RecordEntry {
  const rest = { ...entry, message: bounded(entry.message, 256) };
  delete rest.metrics;
  delete rest.webhooks;
  return rest;
}

/** One transition as a CanaryRun records it. */
export type RunTransition = NonNullable<NonNullable<CanaryRun['status']>['transitions']>[number];

/** The entries waiting in a Canary's status (its outbox) to be written to their runs. */
export function outboxOf(canary: Canary): RecordEntry[] {
  return (canary.status?.machine as { outbox?: RecordEntry[] } | undefined)?.outbox ?? [];
}

/**
 * A run's transitions with the entries of it still waiting in the Canary status
 * (its outbox: weight steps reach the run in batches, see Recorder.flush), by seq.
 */
export function withPending(run: CanaryRun, pending: RecordEntry[]): RunTransition[] {
  const recorded = run.status?.transitions ?? [];
  const seqs = new Set(recorded.map((t) => t.seq));
  const waiting = pending.filter((e) => e.run === run.metadata.name && !seqs.has(e.seq));
  return [...recorded, ...(waiting as RunTransition[])];
}
