/**
 * Annotations for manual control of a release, valued with the revision they
 * apply to (status.lastAppliedSpec). Set by `weir promote|abort|retry` or
 * committed to Git; see docs/adr/0004-manual-control.md.
 */
export const manualAnnotations = {
  promote: 'weir.dev/promote',
  abort: 'weir.dev/abort',
  retry: 'weir.dev/retry',
} as const;

/** Approves the confirm gates (rollout and promotion) for the revision it holds. */
export const approveAnnotation = 'weir.dev/approve';
