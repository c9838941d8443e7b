import type { Canary } from '../api/types.js';
import type { Strategy } from '../api/strategy.js';

/** How traffic should be split at one moment of a release. */
export interface Routes {
  /** Percentage of traffic to the canary (the rest goes to the primary). */
  canaryWeight: number;
  /** A/B testing: requests matching `analysis.match` go to the canary. */
  matchToCanary: boolean;
  /**
   * Traffic mirroring (`analysis.mirror`): a copy of `analysis.mirrorWeight` percent
   * (default 100) of the primary's requests also goes to the canary; users only see
   * the primary's responses. Absent means false.
   */
  mirror?: boolean;
}

/**
 * A traffic router: one per mesh or ingress, one file each, behind this interface
 * and the registry in registry.ts. Every method is idempotent.
 */
export interface Router {
  readonly name: string;
  /**
   * Why this router cannot run the Canary as declared (its strategy, mirroring,
   * session affinity ...), or undefined when it can. A feature is rejected here,
   * never silently ignored.
   */
  unsupported(canary: Canary, strategy: Strategy): string | undefined;
  /** Creates or updates the routing objects for the given split. */
  setRoutes(canary: Canary, routes: Routes): Promise<void>;
  /** Reads the split back from the API server (for people and tests, not per step). */
  getRoutes(canary: Canary): Promise<Routes | undefined>;
  /**
   * Deleting a Canary with `revertOnDeletion`: sends all traffic to the target
   * (which gets its replicas back) and gives back any object of the user's that
   * the router adopted, as it was before Weir changed it. Objects Weir generated
   * are left to garbage collection through their owner reference.
   */
  finalize(canary: Canary): Promise<void>;
  /**
   * Makes `revision` the primary, for routers whose primary is a revision of the
   * target itself (Knative's Revisions); other targets are promoted by copying the
   * template to `<name>-primary`, or a StatefulSet's partition by `setRoutes` at 100.
   */
  promote?(canary: Canary, revision: string): Promise<void>;
  /** Drops what the router remembers of a Canary that is gone (optional). */
  forget?(namespace: string, name: string): void;
}
