import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';

/** What a handler returns: when to look at the key again (epoch ms), or nothing. */
export type HandlerResult = { requeueAt?: number } | void;

/** Options for {@link WorkQueue}. */
export interface WorkQueueOptions {
  clock: Clock;
  logger: Logger;
  /** How many keys are handled at once. */
  concurrency: number;
  handler: (key: string) => Promise<HandlerResult>;
  /** Called with the queue depth whenever it changes (for a metric). */
  onDepth?: (depth: number) => void;
  /** Backoff for a key whose handler threw. */
  backoff?: { initialMs: number; maxMs: number };
}

/**
 * One queue for every Canary, keyed by `namespace/name`. A key waits at most once
 * however often it is added; a key added while being handled is handled again
 * right after; timed requeues share a single timer (the earliest), so there is
 * no timer per Canary; a handler that throws is retried with per-key backoff.
 */
export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly waiting = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private cancelTimer: (() => void) | undefined;
  private timerAt = Infinity;
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: WorkQueueOptions) {}

  /** Handle `key` as soon as a worker is free. */
  add(key: string): void {
    this.waiting.delete(key);
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.ready.push(key);
    this.report();
    this.pump();
  }

  /** Handle `key` at `at` (epoch ms), unless it is already due earlier. */
  addAt(key: string, at: number): void {
    if (at <= this.options.clock.now()) return this.add(key);
    const current = this.waiting.get(key);
    if (current !== undefined && current <= at) return;
    this.waiting.set(key, at);
    this.arm();
  }

  get depth(): number {
    return this.ready.length + this.waiting.size;
  }

  start(): void {
    this.running = true;
    this.pump();
    this.arm();
  }

  /** Stops taking work and resolves when in-flight handlers have finished. */
  async stop(): Promise<void> {
    this.running = false;
    this.cancelTimer?.();
    this.timerAt = Infinity;
    await this.idle();
  }

  /** Resolves when nothing is being handled and nothing is ready to be. */
  idle(): Promise<void> {
    if (this.active.size === 0 && (this.ready.length === 0 || !this.running))
      return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private arm(): void {
    if (!this.running) return;
    let earliest = Infinity;
    for (const at of this.waiting.values()) earliest = Math.min(earliest, at);
    if (earliest === this.timerAt) return;
    this.cancelTimer?.();
    this.timerAt = earliest;
    if (earliest === Infinity) return;
    this.cancelTimer = this.options.clock.after(earliest - this.options.clock.now(), () => {
      this.timerAt = Infinity;
      const now = this.options.clock.now();
      for (const [key, at] of [...this.waiting]) if (at <= now) this.add(key);
      this.arm();
    });
  }

  private pump(): void {
    while (this.running && this.active.size < this.options.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      this.queued.delete(key);
      this.active.add(key);
      void this.handle(key);
    }
    this.report();
  }

  private async handle(key: string): Promise<void> {
    let result: HandlerResult = undefined;
    let failed = false;
    try {
      result = await this.options.handler(key);
      // Yield to I/O and timers before the next key: a handler that asks to be run
      // again at once, and does no I/O, must not starve the rest of the process.
      await new Promise((resolve) => setImmediate(resolve));
      this.failures.delete(key);
    } catch (err) {
      failed = true;
      const attempts = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempts);
      const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 1_000, maxMs: 300_000 };
      const delay = Math.min(maxMs, initialMs * 2 ** (attempts - 1));
      this.options.logger.warn(
        { err, key, attempts, retryInMs: delay },
        'Reconcile failed; retrying with backoff',
      );
      this.addAt(key, this.options.clock.now() + delay);
    }
    this.active.delete(key);
    if (this.dirty.delete(key)) this.add(key);
    else if (!failed && result?.requeueAt !== undefined) this.addAt(key, result.requeueAt);
    this.pump();
    if (this.active.size === 0 && (this.ready.length === 0 || !this.running)) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }

  private report(): void {
    this.options.onDepth?.(this.depth);
  }
}
