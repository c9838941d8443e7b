/** The state of one piece of background work for a key. */
export type Polled<T> = { done: true; result: T; startedAt: number } | { done: false };

interface Job<T> {
  id: string;
  startedAt: number;
  controller: AbortController;
  result?: { value: T };
}

/**
 * Slow I/O a reconcile needs (metric queries, webhooks, provider probes) runs
 * here, outside the work queue's slots, so a slow or hanging backend never holds
 * up other Canaries. A reconcile polls by key and work id: the first poll starts
 * the work, later polls see it running or done, and `onDone` re-queues the key
 * when it finishes. Work for an id the Canary has moved past is cancelled.
 */
export class Background<T> {
  private readonly jobs = new Map<string, Job<T>>();

  constructor(
    private readonly onDone: (key: string) => void,
    private readonly now: () => number,
  ) {}

  /** The result of work `id` for `key`, starting it when nothing (or other work) runs for the key. */
  poll(key: string, id: string, start: (signal: AbortSignal) => Promise<T>): Polled<T> {
    const job = this.jobs.get(key);
    if (job?.id === id) {
      return job.result
        ? { done: true, result: job.result.value, startedAt: job.startedAt }
        : { done: false };
    }
    job?.controller.abort();
    const fresh: Job<T> = { id, startedAt: this.now(), controller: new AbortController() };
    this.jobs.set(key, fresh);
    void start(fresh.controller.signal).then((value) => {
      if (this.jobs.get(key) !== fresh) return;
      fresh.result = { value };
      this.onDone(key);
    });
    return { done: false };
  }

  /** Cancels and forgets the work of a key (the release moved on, or the Canary is gone). */
  cancel(key: string): void {
    this.jobs.get(key)?.controller.abort();
    this.jobs.delete(key);
  }

  /** Cancels everything (shutdown). */
  cancelAll(): void {
    for (const key of [...this.jobs.keys()]) this.cancel(key);
  }
}
