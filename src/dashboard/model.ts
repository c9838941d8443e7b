/**
 * What the dashboard server sends the page (the contract between src/dashboard/server.ts
 * and src/dashboard/ui/). Built from the objects the server watches, trimmed to what the
 * pages show. Every string in it came from the cluster and is rendered as text only.
 */
import type { canaryPhases } from '../api/canary-schema.js';
import type { JudgeRecord, MetricResult } from '../contracts/records.js';

type CanaryPhase = (typeof canaryPhases)[number];

/** One row of the list page. */
export interface CanaryRow {
  namespace: string;
  name: string;
  /** Kind/name of the target, e.g. `Deployment/frontend`. */
  target: string;
  phase: CanaryPhase | 'Unknown';
  /** True while a release is in flight (sorted first). */
  inFlight: boolean;
  canaryWeight: number;
  failedChecks: number;
  /** The threshold of failed checks that rolls back. */
  threshold: number;
  /** The revision being released or last released (status.lastAppliedSpec). */
  revision?: string;
  /** Images of the release in flight or last released (CanaryRun spec.images.to). */
  images: string[];
  /** The Ready condition's reason and message, for a blocked or failed Canary. */
  reason?: string;
  message?: string;
  /** The last transition: when and what (phase and reason). */
  lastTransition?: { time: string; to: string; reason?: string };
}

/** One metric at one step: its value against its bound, or the judge's interval (as recorded, without sample counts). */
export type MetricPoint = Omit<MetricResult, 'judge'> & {
  judge?: Pick<JudgeRecord, 'estimate' | 'lower' | 'upper' | 'tolerance'>;
};

/** One transition of a release (a CanaryRun's status.transitions entry, trimmed). */
export interface TransitionView {
  seq?: number;
  time: string;
  from?: string;
  to: string;
  event: string;
  weight?: number;
  failedChecks?: number;
  reason?: string;
  message?: string;
  metrics: MetricPoint[];
  webhooks: {
    name: string;
    type: string;
    statusCode?: number;
    passed: boolean;
    body?: string;
    error?: string;
  }[];
}

/** One release attempt (a CanaryRun). */
export interface ReleaseView {
  name: string;
  revision: string;
  images: { from: string[]; to: string[] };
  startTime: string;
  endTime?: string;
  result?: 'Promoted' | 'RolledBack' | 'Superseded' | 'Aborted';
  transitions: TransitionView[];
}

/** An action the page may offer, and whether the user may take it. */
export interface ActionView {
  action: 'promote' | 'abort' | 'retry' | 'approve';
  /** Whether the phase allows it now. */
  applicable: boolean;
  /** What the user would commit instead (GitOps): the annotation and value. */
  annotation: string;
  value?: string;
}

/** The detail page of one Canary. */
export interface CanaryDetail {
  row: CanaryRow;
  /** The release in flight or the last one, and the earlier ones, newest first. */
  releases: ReleaseView[];
  /** What Git declares (the target's template) against what the primary runs. */
  declared: { images: string[] };
  running: { images: string[]; readyReplicas?: number; replicas?: number };
  /** Empty when the user may not patch Canaries in this namespace (SelfSubjectAccessReview). */
  actions: ActionView[];
  /** Recent Events of the Canary, newest first. */
  events: { time: string; type: string; reason: string; message: string }[];
}

/** Server-sent events on /api/stream: a snapshot, then changes. */
export type StreamMessage =
  | { type: 'snapshot'; rows: CanaryRow[] }
  | { type: 'upsert'; row: CanaryRow }
  | { type: 'delete'; namespace: string; name: string }
  /** Sent to a page that follows one Canary (/api/stream?canary=ns/name). */
  | { type: 'detail'; detail: CanaryDetail };
