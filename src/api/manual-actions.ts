import { approveAnnotation, manualAnnotations } from './annotations.js';
import type { CanaryPhase } from './canary-schema.js';

/** What a person can ask of a release: `weir promote|abort|retry|approve`, or the dashboard. */
export type ManualAction = 'promote' | 'abort' | 'retry' | 'approve';

/** Every manual action, in the order a page offers them. */
export const manualActions: readonly ManualAction[] = ['promote', 'abort', 'retry', 'approve'];

/** The annotation each action writes (docs/adr/0004-manual-control.md). */
export const actionAnnotations: Record<ManualAction, string> = {
  ...manualAnnotations,
  approve: approveAnnotation,
};

const inProgress: readonly string[] = ['Progressing', 'Waiting', 'WaitingPromotion'];

/**
 * Why the phase refuses `action`, or undefined when it allows it: retry needs a Failed
 * release, the others a release in progress. Approve may come early (it stays valid for
 * its revision, so approving while Progressing opens the confirm-promotion gate when
 * the release reaches it).
 */
export function actionRefusal(action: ManualAction, phase: string): string | undefined {
  if (action === 'retry')
    return phase === 'Failed' ? undefined : 'only a Failed release can be retried';
  return inProgress.includes(phase) ? undefined : `${action} applies to a release in progress`;
}

/**
 * Whether a page should offer `action` now: the phase allows it, and for approve a
 * confirm gate waits (Waiting: confirm-rollout; WaitingPromotion: confirm-promotion).
 */
export function actionApplicable(action: ManualAction, phase: CanaryPhase | 'Unknown'): boolean {
  if (actionRefusal(action, phase) !== undefined) return false;
  return action !== 'approve' || phase === 'Waiting' || phase === 'WaitingPromotion';
}
