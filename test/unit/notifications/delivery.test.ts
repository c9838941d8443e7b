import type { V1Secret } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertProvider, Canary } from '../../../src/api/types.js';
import { createLogger } from '../../../src/logger.js';
import { DeliveryPlanner } from '../../../src/notifications/delivery-plan.js';
import { DeliveryQueue, type Delivery } from '../../../src/notifications/delivery-queue.js';
import { genericNotifier } from '../../../src/notifications/generic-notifier.js';
import { NotifierRegistry } from '../../../src/notifications/notifier.js';
import { slackNotifier } from '../../../src/notifications/slack-notifier.js';
import { WebhookClient, type WebhookTarget } from '../../../src/webhooks/webhook-client.js';
import { startHostileServer, type HostileServer } from '../../harness/hostile-server.js';
import { startReceiver, type Receiver } from '../../harness/receiver.js';
import { context, promotedEntry, rolledBackEntry } from './fixtures.js';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.stop());

const provider = (name: string, type: string): AlertProvider => ({
  apiVersion: 'weir.dev/v1alpha1',
  kind: 'AlertProvider',
  metadata: { name, namespace: 'shop' },
  spec: { type: type as 'slack', secretRef: { name: `${name}-url` } },
});
const canary = (analysis: Record<string, unknown>): Canary =>
  ({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'shop' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 80 },
      analysis: { threshold: 2, ...analysis },
    },
  }) as unknown as Canary;
// Secrets used as credentials carry Weir's opt-in label (src/api/credentials.ts).
const credentials = { labels: { 'weir.dev/credentials': 'true' } };
const planner = (defaultProvider?: { namespace: string; name: string }) =>
  new DeliveryPlanner({
    notifiers: new NotifierRegistry().register(slackNotifier).register(genericNotifier),
    alertProviders: (_ns, name) =>
      ({
        slack: provider('slack', 'slack'),
        hooks: provider('hooks', 'generic'),
        pager: provider('pager', 'pagerduty'),
      })[name],
    secrets: (_ns, name): V1Secret | undefined =>
      name === 'slack-url'
        ? { metadata: credentials, stringData: { address: `${receiver.url}/slack` } }
        : name === 'hooks-url'
          ? {
              metadata: credentials,
              stringData: { address: `${receiver.url}/generic`, token: 't0k' },
            }
          : undefined,
    ...(defaultProvider ? { defaultProvider } : {}),
    crossNamespaceRefs: false,
  });
const run = { name: 'podinfo-7', images: context.images, startTime: context.startTime };
const keys = (c: Canary, e = rolledBackEntry, p = planner()) =>
  p.plan(c, e, run).deliveries.map((d) => d.key);

describe('DeliveryPlanner', () => {
  it('filters alerts by severity and sends steps only when asked', () => {
    const c = canary({
      alerts: [
        { name: 'all', severity: 'info', providerRef: { name: 'slack' } },
        { name: 'errors', severity: 'error', providerRef: { name: 'hooks' } },
        { name: 'steps', includeSteps: true, providerRef: { name: 'slack' } },
      ],
    });
    expect(keys(c)).toEqual(['alert/all', 'alert/errors', 'alert/steps']);
    expect(keys(c, promotedEntry)).toEqual(['alert/all', 'alert/steps']);
    expect(keys(c, { ...promotedEntry, reason: 'StepAdvanced', to: 'Progressing' })).toEqual([
      'alert/steps',
    ]);
  });

  it('event webhooks fire for every transition, post-rollout once a release ends', () => {
    const c = canary({
      webhooks: [
        { name: 'audit', type: 'event', url: `${receiver.url}/event` },
        { name: 'cleanup', type: 'post-rollout', url: `${receiver.url}/post` },
      ],
    });
    expect(keys(c)).toEqual(['webhook/event/audit', 'webhook/post-rollout/cleanup']);
    const step = {
      ...promotedEntry,
      reason: 'StepAdvanced' as const,
      from: 'Progressing' as const,
      to: 'Progressing' as const,
    };
    expect(keys(c, step)).toEqual(['webhook/event/audit']);
    const event = planner().plan(c, rolledBackEntry, run).deliveries[0]!;
    expect(event.body).toEqual({
      name: 'podinfo',
      namespace: 'shop',
      phase: 'Failed',
      checksum: '5f8c2d1e9a',
      metadata: {
        eventMessage: rolledBackEntry.message,
        eventType: 'Warning',
        timestamp: String(Date.parse(rolledBackEntry.time)),
      },
    });
  });

  it('says what cannot be resolved, without failing the rest', () => {
    const c = canary({
      alerts: [
        { name: 'missing', providerRef: { name: 'nope' } },
        { name: 'elsewhere', providerRef: { name: 'slack', namespace: 'other' } },
        { name: 'unknown', providerRef: { name: 'pager' } },
        { name: 'ok', providerRef: { name: 'slack' } },
      ],
    });
    const plan = planner().plan(c, rolledBackEntry, run);
    expect(plan.deliveries.map((d) => d.key)).toEqual(['alert/ok']);
    expect(plan.problems).toEqual([
      'alert/missing: AlertProvider shop/nope not found',
      'alert/elsewhere: AlertProvider other/slack is in another namespace, and this controller forbids cross-namespace references',
      'alert/unknown: unknown alert provider type "pagerduty": Weir supports generic, slack',
    ]);
  });

  it('muteAlert: a check failed only by a muted webhook sends no alert', () => {
    const failed = {
      ...rolledBackEntry,
      reason: 'CheckFailed' as const,
      to: 'Progressing' as const,
      metrics: [],
      webhooks: [{ name: 'load', type: 'rollout', passed: false, error: 'HTTP 500' }],
    };
    const alerts = [{ name: 'all', providerRef: { name: 'slack' } }];
    const hook = { name: 'load', type: 'rollout', url: `${receiver.url}/load` };
    expect(keys(canary({ alerts, webhooks: [{ ...hook, muteAlert: true }] }), failed)).toEqual([]);
    expect(keys(canary({ alerts, webhooks: [hook] }), failed)).toEqual(['alert/all']);
  });

  it('uses the controller-wide provider for Canaries without alerts', () => {
    expect(
      keys(canary({}), rolledBackEntry, planner({ namespace: 'shop', name: 'slack' })),
    ).toEqual(['alert/default']);
    expect(keys(canary({}))).toEqual([]);
  });
});

describe('DeliveryQueue', () => {
  const logs: string[] = [];
  const logger = createLogger(
    'debug',
    new Writable({ write: (c, _e, done) => (logs.push(String(c)), done()) }),
  );

  it('sends, retries a failing receiver, counts failures, and never logs the URL', async () => {
    const registry = new Registry();
    const queue = new DeliveryQueue({
      client: new WebhookClient({ backoffMs: 5 }),
      logger,
      registry,
    });
    receiver.reply('/broken', { status: 500, body: 'down' });
    const d = (key: string, path: string, retries: number): Delivery => ({
      key,
      kind: 'alert',
      type: 'slack',
      canary: 'shop/podinfo',
      id: 'shop/podinfo-7/9',
      target: {
        name: key,
        type: 'slack',
        url: `${receiver.url}${path}?secret=abc`,
        timeoutMs: 500,
        retries,
        insecureSkipVerify: false,
      },
      body: { text: 'hi' },
    });
    const before = receiver.on('/broken').length;
    queue.enqueue([d('alert/ok', '/fine', 0), d('alert/broken', '/broken', 2)]);
    await queue.idle();
    expect(receiver.on('/broken').length - before).toBe(3);
    expect(receiver.on('/fine').at(-1)!.headers['x-weir-delivery']).toBe(
      'shop/podinfo-7/9/alert/ok',
    );
    const metrics = await registry.getSingleMetricAsString('weir_notifications_total');
    expect(metrics).toContain(
      'weir_notifications_total{kind="alert",type="slack",outcome="sent"} 1',
    );
    expect(metrics).toContain(
      'weir_notifications_total{kind="alert",type="slack",outcome="failed"} 1',
    );
    expect(logs.join('')).toContain('Could not send a notification');
    expect(logs.join('')).not.toContain('secret=abc');
    await queue.stop();
  });

  it('is bounded: past its size the oldest are dropped and counted', async () => {
    const registry = new Registry();
    const queue = new DeliveryQueue({
      client: new WebhookClient(),
      logger,
      registry,
      maxQueued: 2,
      concurrency: 1,
    });
    receiver.reply('/slow', { status: 200, delayMs: 100 });
    const d = (i: number): Delivery => ({
      key: `alert/${i}`,
      kind: 'alert',
      type: 'generic',
      canary: 'shop/podinfo',
      id: `shop/run/${i}`,
      target: {
        name: `a${i}`,
        type: 'generic',
        url: `${receiver.url}/slow`,
        timeoutMs: 1000,
        retries: 0,
        insecureSkipVerify: false,
      },
      body: { i },
    });
    queue.enqueue([d(1), d(2), d(3), d(4)]);
    await queue.idle();
    const metrics = await registry.getSingleMetricAsString('weir_notifications_total');
    expect(metrics).toContain('outcome="dropped"} 2');
    expect(metrics).toContain('outcome="sent"} 2');
    await queue.stop();
  });
});

describe('DeliveryQueue against hostile receivers', () => {
  let hostile: HostileServer;
  beforeAll(async () => {
    hostile = await startHostileServer({ kind: 'hang' });
  });
  afterAll(() => hostile.stop());
  const logs: string[] = [];
  const logger = createLogger(
    'debug',
    new Writable({ write: (c, _e, done) => (logs.push(String(c)), done()) }),
  );
  const d = (
    canary: string,
    url: string,
    i: number,
    over: Partial<WebhookTarget> = {},
  ): Delivery => ({
    key: `alert/${i}`,
    kind: 'alert',
    type: 'generic',
    canary,
    id: `${canary}-1/${i}`,
    target: {
      name: `alert/${i}`,
      type: 'generic',
      url,
      timeoutMs: 10_000,
      retries: 4,
      insecureSkipVerify: false,
      ...over,
    },
    body: { i },
  });

  it('gives a dripping receiver a total deadline, retries included', async () => {
    hostile.set({ kind: 'drip', intervalMs: 100 });
    const registry = new Registry();
    const queue = new DeliveryQueue({
      client: new WebhookClient({ backoffMs: 10 }),
      logger,
      registry,
      deadlineMs: 500,
    });
    const started = performance.now();
    queue.enqueue([d('evil/drip', hostile.url, 1)]);
    await queue.idle();
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(await registry.getSingleMetricAsString('weir_notifications_total')).toContain(
      'outcome="failed"} 1',
    );
    expect(logs.join('')).toContain('not delivered within 0.5s, retries included');
    await queue.stop();
  });

  it('lets no namespace take every worker: another tenant’s notification goes out at once', async () => {
    hostile.set({ kind: 'hang' });
    const queue = new DeliveryQueue({
      client: new WebhookClient(),
      logger,
      registry: new Registry(),
      concurrency: 4,
      perNamespace: 2,
      deadlineMs: 2_000,
    });
    const before = receiver.on('/fair').length;
    const evil = [1, 2, 3, 4, 5, 6].map((i) => d(`evil/c${i}`, hostile.url, i));
    queue.enqueue([...evil, d('shop/podinfo', `${receiver.url}/fair`, 7)]);
    const started = performance.now();
    while (receiver.on('/fair').length === before) await new Promise((r) => setTimeout(r, 10));
    // Sent while the hanging receivers still hold their workers, not after their 2 s deadline.
    expect(performance.now() - started).toBeLessThan(1_000);
    await queue.stop();
  });

  it('when full, drops from the namespace with the most waiting, not another tenant’s oldest', async () => {
    hostile.set({ kind: 'hang' });
    const registry = new Registry();
    const queue = new DeliveryQueue({
      client: new WebhookClient(),
      logger,
      registry,
      maxQueued: 3,
      concurrency: 1,
      deadlineMs: 300,
    });
    const before = receiver.on('/kept').length;
    // The first evil delivery takes the only worker; then shop's waits ahead of evil's flood.
    queue.enqueue([d('evil/a', hostile.url, 0, { retries: 0 })]);
    queue.enqueue([d('shop/podinfo', `${receiver.url}/kept`, 1)]);
    queue.enqueue([2, 3, 4].map((i) => d('evil/a', hostile.url, i, { retries: 0 })));
    await queue.idle();
    expect(receiver.on('/kept').length - before).toBe(1);
    const metrics = await registry.getSingleMetricAsString('weir_notifications_total');
    expect(metrics).toContain('outcome="dropped"} 1');
    expect(metrics).toContain('outcome="sent"} 1');
    await queue.stop();
  });
});
