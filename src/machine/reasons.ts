import type { CanaryPhase } from '../api/canary-schema.js';

/**
 * Why the machine moved a release: the reason of every transition it records.
 * Events, CanaryRun entries, notifications and the self-metrics all name these.
 */
export const transitionReasons = [
  'NewRevision',
  'Initialized',
  'RolloutConfirmed',
  'StepAdvanced',
  'CheckFailed',
  'CheckInconclusive',
  'WaitingPromotion',
  'Promoting',
  'PromotionStep',
  'Finalising',
  'Succeeded',
  'RolledBack',
  'ProgressDeadlineExceeded',
  'Aborted',
  'PromotionFailed',
  'Reverted',
] as const;
export type TransitionReason = (typeof transitionReasons)[number];

/** What made the machine record a transition: an observation, a step's checks, a request. */
export const transitionCauses = [
  'new-revision',
  'primary-ready',
  'gate',
  'checks',
  'webhook',
  'deadline',
  'manual-promote',
  'manual-abort',
  'promotion-step',
  'finalised',
  'reverted',
] as const;
export type TransitionCause = (typeof transitionCauses)[number];

/** Reasons that deserve a Warning Event (and a warning in chat). */
export const warningReasons: ReadonlySet<TransitionReason> = new Set<TransitionReason>([
  'RolledBack',
  'CheckFailed',
  'CheckInconclusive',
  'ProgressDeadlineExceeded',
  'Aborted',
]);

/** How a release ended. */
export type ReleaseResult = 'Promoted' | 'RolledBack' | 'Aborted';

/**
 * The result a transition gives its release, or undefined when it ends none. A
 * revert to the promoted revision ends no release: the run it lands in keeps its result.
 */
export function releaseResult(transition: {
  reason?: string;
  to: CanaryPhase;
}): ReleaseResult | undefined {
  if (transition.reason === 'Reverted') return undefined;
  if (transition.to === 'Succeeded') return 'Promoted';
  if (transition.to === 'Failed') return transition.reason === 'Aborted' ? 'Aborted' : 'RolledBack';
  return undefined;
}
