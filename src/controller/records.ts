import type { CanaryPhase } from '../api/canary-schema.js';

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
  event: string;
  reason: string;
  message: string;
  weight: number;
  failedChecks: number;
  revision?: string;
  /** The CanaryRun this entry belongs to (none for bootstrap). */
  run?: string;
  metrics?: {
    name: string;
    value?: number;
    min?: number;
    max?: number;
    passed: boolean;
    message?: string;
  }[];
  webhooks?: {
    name: string;
    type: string;
    statusCode?: number;
    passed: boolean;
    body?: string;
    error?: string;
    attempts?: number;
  }[];
}

/** Reasons that deserve a Warning Event. */
export const warningReasons = new Set([
  'RolledBack',
  'CheckFailed',
  'ProgressDeadlineExceeded',
  'Aborted',
]);
