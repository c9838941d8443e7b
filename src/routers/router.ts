import type { Canary } from '../api/types.js';
import type { Strategy } from '../machine/steps.js';

/** How traffic should be split at one moment of a release. */
export interface Routes {
  /** Percentage of traffic to the canary (the rest goes to the primary). */
  canaryWeight: number;
  /** A/B testing: requests matching `analysis.match` go to the canary. */
  matchToCanary: boolean;
}

/**
 * A traffic router: one per mesh or ingress, one file each, behind this interface
 * and the registry in registry.ts. Every method is idempotent.
 */
export interface Router {
  readonly name: string;
  /** Why this router cannot run the Canary's strategy, or undefined when it can. */
  unsupported(canary: Canary, strategy: Strategy): string | undefined;
  /** Creates or updates the routing objects for the given split. */
  setRoutes(canary: Canary, routes: Routes): Promise<void>;
  /** Reads the split back from the API server (for people and tests, not per step). */
  getRoutes(canary: Canary): Promise<Routes | undefined>;
  /** Restores routing to the primary alone when the Canary goes away. */
  finalize(canary: Canary): Promise<void>;
}
