import type { RecordEntry } from '../contracts/records.js';
import type { TransitionReason } from '../machine/reasons.js';

/** How bad it is; an alert sends what is at least its severity. */
export type Severity = 'info' | 'warn' | 'error';
export const severities: Severity[] = ['info', 'warn', 'error'];

/** What happened, from a person's point of view. */
export type NotificationKind =
  | 'started'
  | 'step'
  | 'waiting'
  | 'check-failed'
  | 'check-inconclusive'
  | 'promoted'
  | 'rolled-back'
  | 'promotion-failed';

/** A provider-neutral message about one recorded transition. */
export interface Notification {
  kind: NotificationKind;
  severity: Severity;
  /** One line: what happened to which canary. */
  title: string;
  canary: string;
  namespace: string;
  revision: string;
  images: { from: string[]; to: string[] };
  phase: string;
  weight: number;
  failedChecks: number;
  threshold: number;
  /** Inconclusive steps in a row, and how many roll the release back. */
  inconclusiveChecks: number;
  inconclusiveLimit: number;
  /** The transition's reason and message, as recorded. */
  reason: TransitionReason;
  message: string;
  /** Failed (or unjudged) checks of this step: metric values with their bounds, webhook answers. */
  failures: string[];
  /** Time since the release started, e.g. `3m20s`. */
  duration: string;
  /** What the team should do now, when there is something to do. */
  advice?: string;
  /** When it happened (ISO 8601). */
  time: string;
  /** Identifies the transition across restarts: `<namespace>/<run>/<seq>`. */
  id: string;
}

/** What a notification needs besides the entry. */
export interface NotificationContext {
  canary: string;
  namespace: string;
  run: string;
  /** The target Deployment (its primary is `<target>-primary`). */
  target: string;
  images: { from: string[]; to: string[] };
  /** When the release started (ISO 8601). */
  startTime: string;
  threshold: number;
  inconclusiveLimit: number;
}

const kinds: Partial<Record<TransitionReason, { kind: NotificationKind; severity: Severity }>> = {
  NewRevision: { kind: 'started', severity: 'info' },
  RolloutConfirmed: { kind: 'started', severity: 'info' },
  StepAdvanced: { kind: 'step', severity: 'info' },
  CheckFailed: { kind: 'check-failed', severity: 'warn' },
  CheckInconclusive: { kind: 'check-inconclusive', severity: 'warn' },
  WaitingPromotion: { kind: 'waiting', severity: 'warn' },
  Succeeded: { kind: 'promoted', severity: 'info' },
  RolledBack: { kind: 'rolled-back', severity: 'error' },
  ProgressDeadlineExceeded: { kind: 'rolled-back', severity: 'error' },
  Aborted: { kind: 'rolled-back', severity: 'error' },
  PromotionFailed: { kind: 'promotion-failed', severity: 'error' },
};

/** Formats a duration in seconds as `1h2m`, `3m20s` or `45s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600)
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * The notification for a recorded transition, or undefined when people need not
 * hear about it (promotion steps, finalising). Pure.
 */
export function notificationFor(
  entry: RecordEntry,
  ctx: NotificationContext,
): Notification | undefined {
  let k = kinds[entry.reason];
  if (!k) return undefined;
  if (entry.reason === 'NewRevision' && entry.to === 'Waiting')
    k = { kind: 'waiting', severity: 'warn' };
  const where = `${ctx.canary} in ${ctx.namespace}`;
  const revision = entry.revision ?? '';
  const failures = [
    ...(entry.metrics ?? []).filter((m) => !m.passed).map((m) => m.message ?? `${m.name} failed`),
    ...(entry.webhooks ?? [])
      .filter((w) => !w.passed && (w.type === 'rollout' || w.type === 'pre-rollout'))
      .map((w) => `webhook ${w.name} (${w.type}): ${w.error ?? 'failed'}`),
  ];
  const inconclusive = entry.inconclusiveChecks ?? 0;
  const newImage = ctx.images.to.join(', ') || 'the new template';
  const oldImage = ctx.images.from.join(', ') || 'the previous template';
  const titles: Record<NotificationKind, string> = {
    started: `Release started: ${where}`,
    step: `Canary weight ${entry.weight}%: ${where}`,
    waiting:
      entry.to === 'Waiting'
        ? `Waiting for the rollout to be confirmed: ${where}`
        : `Waiting for promotion to be confirmed: ${where}`,
    'check-failed': `Check failed (${entry.failedChecks}/${ctx.threshold}): ${where}`,
    'check-inconclusive': `Checks inconclusive (${inconclusive}/${ctx.inconclusiveLimit}), weight held at ${entry.weight}%: ${where}`,
    promoted: `Promoted: ${where}`,
    'rolled-back':
      entry.reason === 'Aborted' ? `Aborted and rolled back: ${where}` : `Rolled back: ${where}`,
    'promotion-failed': `Promotion failed: ${where}`,
  };
  const approve = `approve revision ${revision} with the annotation weir.dev/approve=${revision} on the Canary (commit it, or: kubectl annotate canary/${ctx.canary} -n ${ctx.namespace} weir.dev/approve=${revision})`;
  const advice: Partial<Record<NotificationKind, string>> = {
    'rolled-back': `Git still declares revision ${revision} (${newImage}); the primary keeps serving ${oldImage} until Git changes. Revert the commit or push a fix: the next revision starts a new release. To release ${revision} again unchanged: weir retry ${ctx.canary} -n ${ctx.namespace}.`,
    'promotion-failed': `The primary did not become ready with revision ${revision}: check kubectl -n ${ctx.namespace} rollout status deployment/${ctx.target}-primary. Traffic is back on the primary's ready pods; Git still declares ${revision}.`,
    waiting: `The release holds until a confirm webhook answers 2xx, or ${approve}.`,
    'check-failed': `${Math.max(0, ctx.threshold - entry.failedChecks)} more failed check(s) roll the release back.`,
    'check-inconclusive': `The canary is not being judged: look at the metric provider or the canary's traffic. ${Math.max(0, ctx.inconclusiveLimit - inconclusive)} more inconclusive step(s) in a row roll the release back; a conclusive step resets the count.`,
  };
  const seconds = (Date.parse(entry.time) - Date.parse(ctx.startTime)) / 1000;
  return {
    ...k,
    title: titles[k.kind],
    canary: ctx.canary,
    namespace: ctx.namespace,
    revision,
    images: ctx.images,
    phase: entry.to,
    weight: entry.weight,
    failedChecks: entry.failedChecks,
    threshold: ctx.threshold,
    inconclusiveChecks: inconclusive,
    inconclusiveLimit: ctx.inconclusiveLimit,
    reason: entry.reason,
    message: entry.message,
    failures,
    duration: formatDuration(Number.isFinite(seconds) ? seconds : 0),
    ...(advice[k.kind] ? { advice: advice[k.kind]! } : {}),
    time: entry.time,
    id: `${ctx.namespace}/${ctx.run}/${entry.seq}`,
  };
}

/** Plain text of a notification: the fallback text of chat messages, and what docs show. */
export function plainText(n: Notification): string {
  const lines = [
    n.title,
    n.message,
    `Revision ${n.revision} · ${n.images.from.join(', ') || '?'} → ${n.images.to.join(', ') || '?'}`,
    `Phase ${n.phase} · weight ${n.weight}% · failed checks ${n.failedChecks}/${n.threshold} · ${n.duration} since the release started`,
    ...n.failures.map((f) => `✗ ${f}`),
    ...(n.advice ? [n.advice] : []),
  ];
  return lines.join('\n');
}

/** Text cut to `max` characters, an ellipsis marking the cut: what every chat format sends at most. */
export const cut = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** One fact of a release as the chat formats show it; `wide` ones take a whole row. */
export interface Fact {
  name: string;
  value: string;
  wide?: boolean;
}

/** The facts every chat format shows, in order (the advice, where a format shows it, comes after). */
export function releaseFacts(n: Notification): Fact[] {
  return [
    { name: 'Canary', value: `${n.namespace}/${n.canary}` },
    { name: 'Revision', value: n.revision },
    {
      name: 'Images',
      value: `${n.images.from.join(', ') || '?'} → ${n.images.to.join(', ') || '?'}`,
      wide: true,
    },
    { name: 'Phase', value: n.phase },
    { name: 'Canary weight', value: `${n.weight}%` },
    { name: 'Failed checks', value: `${n.failedChecks} of ${n.threshold}` },
    { name: 'Duration', value: n.duration },
  ];
}

/** The failed checks as lines (`✗ …`), the first `shown` of them, then how many more there are. */
export function failureLines(n: Notification, shown = 10): string[] {
  const lines = n.failures.slice(0, shown).map((f) => `✗ ${f}`);
  if (n.failures.length > shown)
    lines.push(`… and ${n.failures.length - shown} more failed checks`);
  return lines;
}
