import type { Routes } from './router.js';

/**
 * The split that a primary and a canary weight read back from a routing object
 * hold, as a percentage to the canary; undefined when the object names neither.
 * For routers that split by weight only (no A/B, no mirroring).
 */
export function routesOfWeights(
  primary: number | undefined,
  canary: number | undefined,
): Routes | undefined {
  if (primary === undefined && canary === undefined) return undefined;
  const total = (primary ?? 0) + (canary ?? 0);
  return {
    canaryWeight: total > 0 ? Math.round(((canary ?? 0) * 100) / total) : 0,
    matchToCanary: false,
    mirror: false,
  };
}
