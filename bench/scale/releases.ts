import type { CanaryTimeline } from './observer.js';
import { stepLateness } from './stats.js';

/** What one release of one canary looked like from the bench. */
export interface ReleaseView {
  /** Deployment update sent → phase Progressing seen, in ms. */
  detectionMs?: number;
  /** When Succeeded or Failed was seen after Progressing. */
  endedAt?: number;
  result?: 'Succeeded' | 'Failed';
  /** Lateness of each traffic step up, in ms (see stepLateness). */
  latenessMs: number[];
  /** Changes of the route's canary weight during the release (steps up and the return to 0). */
  weightChanges: number;
  /** The latest phase seen. */
  phase?: string;
}

/**
 * Reads one release out of a canary's timeline: the update was sent at
 * `sentAt`; the release is what follows until the first Succeeded or Failed
 * after Progressing, at or before `until` (the next update, if any).
 */
export function releaseView(
  timeline: CanaryTimeline | undefined,
  sentAt: number,
  intervalMs: number,
  until = Infinity,
): ReleaseView {
  // `until` is the next update, sent in the same millisecond as the Succeeded it reacted to.
  const phases = (timeline?.phases ?? []).filter((p) => p.at >= sentAt && p.at <= until);
  const progressing = phases.find((p) => p.phase === 'Progressing');
  const end = progressing
    ? phases.find(
        (p) => p.at >= progressing.at && (p.phase === 'Succeeded' || p.phase === 'Failed'),
      )
    : undefined;
  const to = end?.at ?? until;
  const weights = (timeline?.weights ?? []).filter((w) => w.at >= sentAt && w.at <= to);
  const phase = phases.at(-1)?.phase ?? timeline?.phases.at(-1)?.phase;
  return {
    ...(progressing ? { detectionMs: progressing.at - sentAt } : {}),
    ...(end ? { endedAt: end.at, result: end.phase as 'Succeeded' | 'Failed' } : {}),
    latenessMs: stepLateness(weights, intervalMs),
    weightChanges: weights.length,
    ...(phase ? { phase } : {}),
  };
}

/** How many canaries are in each phase. */
export function phaseCounts(phases: readonly (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of phases) out[p ?? '(none)'] = (out[p ?? '(none)'] ?? 0) + 1;
  return out;
}
