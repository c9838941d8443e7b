import type { CanaryStatus } from '../api/types.js';
import { Background } from './background.js';
import type { CheckOutcome } from '../contracts/checks.js';

/**
 * What the controller remembers of one Canary between reconciles. None of it is
 * needed for correctness after a restart (the Canary status holds the release);
 * it saves API writes and tells a stale cache from this process's own writes.
 */
export interface CanaryMemory {
  /** The status this process last wrote: the cache may not have seen it yet. */
  written?: CanaryStatus;
  /** The Canary's resourceVersion after that write (the next write is conditional on it). */
  resourceVersion?: string;
  /** The spec and metadata last reconciled (see `Reconciler.isOwnEcho`). */
  input?: string;
  /** Validation result, for the spec and metadata it was computed from. */
  validation?: { input: string; problem: string | undefined };
  /** The routes last written or found in place, and since when (epoch ms). */
  routes?: { fingerprint: string; since: number };
  /**
   * Since when a StatefulSet's canary pods are all Ready (epoch ms): a step's window
   * starts there, not at the partition write, since its pods restart under the same
   * names and a query over the window would mix the old pod with the new.
   */
  canaryReadySince?: number;
  /** The primary last applied: a hash of what was applied and the generation it got. */
  primary?: string;
  /**
   * Why the effects of the last decision were refused (RoutingBlocked), for the
   * Canary's generation then, and when to try again.
   */
  blocked?: { reason: string; message: string; generation?: number; retryAt: number };
}

/**
 * Every Canary's memory, and the background work (checks, provider probes) that
 * runs for it, with one lifecycle: `forget` drops all of it when the Canary is gone.
 */
export class CanaryMemories {
  private readonly memories = new Map<string, CanaryMemory>();
  /** Analysis checks in flight or done, per Canary and step. */
  readonly checks: Background<CheckOutcome>;
  /** Pre-release probes of the metric providers, per Canary. */
  readonly preflights: Background<string | undefined>;

  constructor(onDone: (key: string) => void, now: () => number) {
    this.checks = new Background(onDone, now);
    this.preflights = new Background(onDone, now);
  }

  /** The memory of `key` (`namespace/name`), created empty on first use. */
  of(key: string): CanaryMemory {
    let memory = this.memories.get(key);
    if (!memory) {
      memory = {};
      this.memories.set(key, memory);
    }
    return memory;
  }

  /** The memory of `key` if there is one, without creating it. */
  peek(key: string): CanaryMemory | undefined {
    return this.memories.get(key);
  }

  /** Drops everything about a Canary that is gone, and cancels its background work. */
  forget(key: string): void {
    this.memories.delete(key);
    this.checks.cancel(key);
    this.preflights.cancel(key);
  }

  /** Cancels all background work (shutdown or lost leadership); memories are kept. */
  cancelAll(): void {
    this.checks.cancelAll();
    this.preflights.cancelAll();
  }

  get size(): number {
    return this.memories.size;
  }
}
