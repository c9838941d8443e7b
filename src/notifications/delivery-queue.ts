import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WebhookClient, WebhookTarget } from '../webhooks/webhook-client.js';

/** One message to one endpoint, claimed in the CanaryRun before it is sent. */
export interface Delivery {
  /** The claim recorded in the transition: `alert/<alert name>` or `webhook/<type>/<name>`. */
  key: string;
  kind: 'alert' | 'webhook';
  /** slack, msteams, discord, generic; or the webhook type (event, post-rollout). */
  type: string;
  /** `namespace/name` of the Canary, for logs. */
  canary: string;
  /** `namespace/run/seq` of the transition: with the key, an idempotency key for receivers. */
  id: string;
  target: WebhookTarget;
  body: unknown;
  headers?: Record<string, string>;
}

/** Options for {@link DeliveryQueue}. */
export interface DeliveryQueueOptions {
  client: WebhookClient;
  logger: Logger;
  registry: Registry;
  /** Deliveries waiting at most; past it the oldest are dropped (default 1000). */
  maxQueued?: number;
  /** Deliveries sent at once (default 4). */
  concurrency?: number;
}

/**
 * Sends notifications and event webhooks off the release path: a bounded queue
 * with a few workers; each delivery retries with backoff (the client's), and a
 * failure is counted and logged, never thrown. A down Slack therefore costs the
 * release nothing. URLs are never logged.
 */
export class DeliveryQueue {
  private readonly pending: Delivery[] = [];
  private readonly controller = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly total: Counter<'kind' | 'type' | 'outcome'>;
  private readonly depth: Gauge;
  private stopped = false;

  constructor(private readonly options: DeliveryQueueOptions) {
    this.total = new Counter({
      name: 'weir_notifications_total',
      help: 'Notifications and event webhooks, by kind, type and outcome (sent, failed, dropped).',
      labelNames: ['kind', 'type', 'outcome'],
      registers: [options.registry],
    });
    this.depth = new Gauge({
      name: 'weir_notification_queue_depth',
      help: 'Notifications waiting to be sent.',
      registers: [options.registry],
    });
  }

  enqueue(deliveries: Delivery[]): void {
    if (this.stopped) {
      for (const d of deliveries) this.count(d, 'dropped');
      return;
    }
    this.pending.push(...deliveries);
    const max = this.options.maxQueued ?? 1000;
    while (this.pending.length > max) {
      const dropped = this.pending.shift()!;
      this.count(dropped, 'dropped');
      this.options.logger.warn(
        { canary: dropped.canary, delivery: dropped.key, id: dropped.id },
        'Dropped a notification: the queue is full',
      );
    }
    this.depth.set(this.pending.length);
    this.pump();
  }

  /** Resolves when nothing is queued or being sent (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Stops: what is in flight is aborted, what waits is dropped (and counted). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.pending.splice(0)) this.count(d, 'dropped');
    this.depth.set(0);
    this.controller.abort();
    await Promise.allSettled([...this.running]);
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 4;
    while (this.running.size < concurrency && this.pending.length > 0) {
      const d = this.pending.shift()!;
      this.depth.set(this.pending.length);
      const p = this.send(d).finally(() => {
        this.running.delete(p);
        this.pump();
      });
      this.running.add(p);
    }
  }

  private async send(d: Delivery): Promise<void> {
    const headers = { 'X-Weir-Delivery': `${d.id}/${d.key}`, ...(d.headers ?? {}) };
    const result = await this.options.client.call(
      d.target,
      d.body,
      this.controller.signal,
      headers,
    );
    const log = {
      canary: d.canary,
      delivery: d.key,
      type: d.type,
      id: d.id,
      attempts: result.attempts,
    };
    if (result.passed) {
      this.count(d, 'sent');
      this.options.logger.debug(log, 'Sent a notification');
    } else {
      this.count(d, 'failed');
      this.options.logger.warn({ ...log, error: result.error }, 'Could not send a notification');
    }
  }

  private count(d: Delivery, outcome: 'sent' | 'failed' | 'dropped'): void {
    this.total.inc({ kind: d.kind, type: d.type, outcome });
  }
}
