/**
 * Pure functions from the watched objects to what the page shows (model.ts). Strings
 * are kept as the cluster holds them: the page renders them as text only. Only
 * their length is capped, so one object cannot make every message huge.
 */
import type * as k8s from '@kubernetes/client-node';
import { canaryPhases } from '../api/canary-schema.js';
import {
  actionAnnotations,
  actionApplicable,
  manualActions,
  type ManualAction,
} from '../api/manual-actions.js';
import type { Canary, CanaryRun } from '../api/types.js';
import {
  outboxOf,
  withPending,
  type RecordEntry,
  type RunTransition,
} from '../contracts/records.js';
import { releaseResult } from '../machine/reasons.js';
import type { ActionView, CanaryDetail, CanaryRow, ReleaseView, TransitionView } from './model.js';

/** Bounds on what one detail carries. */
export const viewLimits = {
  /** Characters of a message, a reason or a condition's text. */
  message: 2048,
  /** Events of one Canary, newest first. */
  events: 50,
  /** Releases of one Canary, newest first. */
  releases: 20,
} as const;

/** Phases of a release in flight: sorted first, and counted as work in progress. */
const inFlightPhases: readonly string[] = [
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
];

/** At most `max` characters (code points, never half a surrogate pair), then `…`. */
export function capped(text: string, max: number = viewLimits.message): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}

const optionalText = (text: string | undefined) => (text === undefined ? undefined : capped(text));

/** Drops the keys whose value is undefined (exactOptionalPropertyTypes, and smaller JSON). */
function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

const phaseOf = (canary: Canary): CanaryRow['phase'] => {
  const phase = canary.status?.phase;
  return phase && (canaryPhases as readonly string[]).includes(phase) ? phase : 'Unknown';
};

/** One row of the list: the Canary, with the images of its latest release. */
export function canaryRow(canary: Canary, latestRun?: CanaryRun): CanaryRow {
  const status = canary.status ?? {};
  const phase = phaseOf(canary);
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  const blocked = ready !== undefined && ready.status !== 'True';
  const last = latestRun ? withPending(latestRun, outboxOf(canary)).at(-1) : undefined;
  const lastTransition = last
    ? defined({ time: last.time, to: last.to, reason: optionalText(last.reason) })
    : status.lastTransitionTime
      ? defined({
          time: status.lastTransitionTime,
          to: phase,
          reason: optionalText(ready?.reason),
        })
      : undefined;
  return defined({
    namespace: canary.metadata.namespace ?? '',
    name: canary.metadata.name ?? '',
    target: `${canary.spec.targetRef.kind}/${canary.spec.targetRef.name}`,
    phase,
    inFlight: inFlightPhases.includes(phase),
    canaryWeight: status.canaryWeight ?? 0,
    failedChecks: status.failedChecks ?? 0,
    threshold: canary.spec.analysis.threshold ?? 1,
    revision: status.lastAppliedSpec,
    images: [...(latestRun?.spec.images?.to ?? [])],
    reason: blocked ? optionalText(ready.reason) : undefined,
    message: blocked && ready.message ? capped(ready.message) : undefined,
    lastTransition,
  });
}

/**
 * The order of the list: releases in flight first, then by last transition, newest
 * first; Canaries with no transition last; then by namespace and name, so the order
 * is stable.
 */
export function compareRows(a: CanaryRow, b: CanaryRow): number {
  if (a.inFlight !== b.inFlight) return a.inFlight ? -1 : 1;
  const at = (r: CanaryRow) => (r.lastTransition ? Date.parse(r.lastTransition.time) || 0 : -1);
  return at(b) - at(a) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

function transitionView(t: RunTransition): TransitionView {
  return defined({
    seq: t.seq,
    time: t.time,
    from: t.from,
    to: t.to,
    event: t.event,
    weight: t.weight,
    failedChecks: t.failedChecks,
    reason: optionalText(t.reason),
    message: optionalText(t.message),
    metrics: (t.metrics ?? []).map((m) =>
      defined({
        name: m.name,
        value: m.value,
        primaryValue: m.primaryValue,
        min: m.min,
        max: m.max,
        passed: m.passed,
        inconclusive: m.inconclusive,
        message: optionalText(m.message),
        judge: m.judge
          ? defined({
              estimate: m.judge.estimate,
              lower: m.judge.lower,
              upper: m.judge.upper,
              tolerance: m.judge.tolerance,
            })
          : undefined,
      }),
    ),
    webhooks: (t.webhooks ?? []).map((w) =>
      defined({
        name: w.name,
        type: w.type,
        statusCode: w.statusCode,
        passed: w.passed,
        // Already capped at 1 KiB and 512 characters by the CanaryRun schema.
        body: w.body,
        error: w.error,
      }),
    ),
  });
}

/**
 * One release attempt: its images and every transition, with `outbox` (the entries
 * of it still waiting in the Canary status) after the recorded ones.
 */
export function releaseView(run: CanaryRun, outbox: RecordEntry[] = []): ReleaseView {
  const transitions = withPending(run, outbox);
  // The transition that ended it may still wait in the outbox: the run records its
  // result with that transition, so the view does the same until then.
  const ending = run.status?.result
    ? undefined
    : transitions.findLast((t) => releaseResult(t) !== undefined);
  return defined({
    name: run.metadata.name ?? '',
    revision: run.spec.revision,
    images: { from: [...(run.spec.images?.from ?? [])], to: [...(run.spec.images?.to ?? [])] },
    startTime: run.spec.startTime,
    endTime: run.status?.endTime ?? ending?.time,
    result: run.status?.result ?? (ending && releaseResult(ending)),
    transitions: transitions.map(transitionView),
  });
}

/**
 * The actions a detail offers: all four, each with whether the phase allows it now
 * and the annotation a GitOps user would commit instead; none when the user may not
 * patch Canaries (`mayAct` false: RBAC says no, or the server is read-only).
 */
export function offeredActions(canary: Canary, mayAct: boolean): ActionView[] {
  if (!mayAct) return [];
  const phase = phaseOf(canary);
  const revision = canary.status?.lastAppliedSpec;
  return manualActions.map((action: ManualAction) =>
    defined({
      action,
      applicable: revision !== undefined && actionApplicable(action, phase),
      annotation: actionAnnotations[action],
      value: revision,
    }),
  );
}

const containerImages = (d: k8s.V1Deployment | undefined) =>
  (d?.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '');

/** When an Event last happened, whichever of its times the writer set. */
function eventTime(e: k8s.CoreV1Event): string {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t === undefined ? '' : new Date(t).toISOString();
}

/** The newest run first (by start time, then name). */
const newestFirst = (a: CanaryRun, b: CanaryRun) =>
  b.spec.startTime.localeCompare(a.spec.startTime) ||
  (b.metadata.name ?? '').localeCompare(a.metadata.name ?? '');

/**
 * The run a row shows: the Canary's current run when known, else its newest.
 * Undefined when it has none.
 */
export function latestRun(canary: Canary, runs: readonly CanaryRun[]): CanaryRun | undefined {
  const current = canary.status?.currentRun;
  return (
    (current ? runs.find((r) => r.metadata.name === current) : undefined) ??
    [...runs].sort(newestFirst)[0]
  );
}

/**
 * The detail page of one Canary: its row, its releases newest first, what Git
 * declares (the target's template) against what the primary runs, the actions
 * offered and its recent Events, newest first.
 */
export function canaryDetail(
  canary: Canary,
  runs: readonly CanaryRun[],
  targetDeployment: k8s.V1Deployment | undefined,
  primaryDeployment: k8s.V1Deployment | undefined,
  events: readonly k8s.CoreV1Event[],
  actions: ActionView[],
): CanaryDetail {
  const outbox = outboxOf(canary);
  const sorted = [...runs].sort(newestFirst);
  return {
    row: canaryRow(canary, latestRun(canary, runs)),
    releases: sorted.slice(0, viewLimits.releases).map((r) => releaseView(r, outbox)),
    declared: { images: containerImages(targetDeployment) },
    running: defined({
      images: containerImages(primaryDeployment),
      readyReplicas: primaryDeployment?.status?.readyReplicas,
      replicas: primaryDeployment?.spec?.replicas,
    }),
    actions,
    events: events
      .map((e) => ({
        time: eventTime(e),
        type: e.type ?? '',
        reason: capped(e.reason ?? ''),
        message: capped(e.message ?? ''),
      }))
      .sort((a, b) => b.time.localeCompare(a.time))
      .slice(0, viewLimits.events),
  };
}
