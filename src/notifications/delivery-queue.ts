import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { deadline } from '../util/outbound.js';
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
  /**
   * Deliveries waiting at most (default 1000). Past it the oldest delivery of the namespace
   * with the most waiting is dropped, so one namespace's flood cannot push out the others'.
   */
  maxQueued?: number;
  /** Deliveries sent at once (default 8). */
  concurrency?: number;
  /** Deliveries of one namespace sent at once (default 2), so one tenant cannot take every worker. */
  perNamespace?: number;
  /** Total time of one delivery, every retry and backoff included (default 30 s). */
  deadlineMs?: number;
}

/** Default total time of one delivery: a notification later than this has lost its point. */
export const defaultDeliveryDeadlineMs = 30_000;

/**
 * Sends notifications and event webhooks off the release path: a bounded queue
 * with a few workers; each delivery retries with backoff (the client's), and a
 * failure is counted and logged, never thrown. A down Slack therefore costs the
 * release nothing. URLs are never logged.
 *
 * Receivers are chosen by Canary authors, and the workers are shared by every tenant, so a
 * delivery has a total deadline (retries included), a namespace has at most `perNamespace`
 * deliveries in flight, and a full queue drops from the namespace with the most waiting:
 * dripping or hanging receivers of one namespace cannot starve the others' notifications.
 */
export class DeliveryQueue {
  private readonly pending: Delivery[] = [];
  private readonly controller = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly inFlight = new Map<string, number>();
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
      const [dropped] = this.pending.splice(this.oldestOfBusiestNamespace(), 1);
      this.count(dropped!, 'dropped');
      this.options.logger.warn(
        { canary: dropped!.canary, delivery: dropped!.key, id: dropped!.id },
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
    const concurrency = this.options.concurrency ?? 8;
    const perNamespace = this.options.perNamespace ?? 2;
    while (this.running.size < concurrency) {
      const at = this.pending.findIndex(
        (d) => (this.inFlight.get(namespaceOf(d)) ?? 0) < perNamespace,
      );
      if (at < 0) return;
      const [d] = this.pending.splice(at, 1) as [Delivery];
      const ns = namespaceOf(d);
      this.inFlight.set(ns, (this.inFlight.get(ns) ?? 0) + 1);
      this.depth.set(this.pending.length);
      const p = this.send(d).finally(() => {
        const left = this.inFlight.get(ns)! - 1;
        if (left > 0) this.inFlight.set(ns, left);
        else this.inFlight.delete(ns);
        this.running.delete(p);
        this.pump();
      });
      this.running.add(p);
    }
  }

  /** Index in `pending` of the oldest delivery of the namespace with the most waiting. */
  private oldestOfBusiestNamespace(): number {
    const waiting = new Map<string, number>();
    for (const d of this.pending)
      waiting.set(namespaceOf(d), (waiting.get(namespaceOf(d)) ?? 0) + 1);
    let busiest = '';
    let most = 0;
    for (const [ns, n] of waiting) if (n > most) [busiest, most] = [ns, n];
    return this.pending.findIndex((d) => namespaceOf(d) === busiest);
  }

  private async send(d: Delivery): Promise<void> {
    const headers = { 'X-Weir-Delivery': `${d.id}/${d.key}`, ...(d.headers ?? {}) };
    const deadlineMs = this.options.deadlineMs ?? defaultDeliveryDeadlineMs;
    const total = deadline(this.controller.signal, deadlineMs);
    const result = await this.options.client.call(d.target, d.body, total.signal, headers);
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
      const error = total.timedOut()
        ? `not delivered within ${deadlineMs / 1000}s, retries included`
        : result.error;
      this.options.logger.warn({ ...log, error }, 'Could not send a notification');
    }
  }

  private count(d: Delivery, outcome: 'sent' | 'failed' | 'dropped'): void {
    this.total.inc({ kind: d.kind, type: d.type, outcome });
  }
}

/** The namespace of a delivery's Canary: the tenant whose share of the workers it uses. */
function namespaceOf(d: Delivery): string {
  return d.canary.slice(0, d.canary.indexOf('/'));
}
