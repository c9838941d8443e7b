import { approveAnnotation } from '../api/annotations.js';
import type { Canary } from '../api/types.js';

/**
 * The confirm gates of a release for one revision, as far as the Canary itself
 * says. A gate with no confirm webhook is open. A gate with one is open here once
 * the revision is approved on the Canary (`weir.dev/approve: <revision>`, which
 * can be committed to Git); otherwise it opens when its webhooks answer 2xx in an
 * analysis step (the checks' `gates`, see src/contracts/checks.ts).
 */
export function evaluateGates(
  canary: Canary,
  revision: string,
): { rollout: boolean; promotion: boolean } {
  const types = new Set((canary.spec.analysis.webhooks ?? []).map((w) => w.type ?? 'rollout'));
  const approved = canary.metadata.annotations?.[approveAnnotation] === revision;
  return {
    rollout: !types.has('confirm-rollout') || approved,
    promotion: !types.has('confirm-promotion') || approved,
  };
}
