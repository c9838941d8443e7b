import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHub, TooManySubscribers } from '../../../src/dashboard/hub.js';
import type { StreamMessage } from '../../../src/dashboard/model.js';
import { createLogger } from '../../../src/logger.js';
import { canary, deployment, event, fakeSources, run } from './fixtures.js';

const coalesceMs = 250;

/** A hub over fake sources holding `web` (Progressing at 10 %) and `api` (Succeeded). */
async function startedHub(
  options: { maxSubscribers?: number; mayAct?: () => Promise<boolean> } = {},
) {
  const sources = fakeSources();
  sources.canaries.set(
    canary('web', {
      phase: 'Progressing',
      canaryWeight: 10,
      lastAppliedSpec: 'rev2',
      lastTransitionTime: '2026-11-22T10:00:00Z',
    }),
  );
  sources.canaries.set(
    canary('api', { phase: 'Succeeded', lastTransitionTime: '2026-11-22T11:00:00Z' }),
  );
  sources.deployments.set(deployment('web', ['example.test/web:2']));
  sources.deployments.set(deployment('web-primary', ['example.test/web:1']));
  const hub = createHub({
    sources,
    mayAct: options.mayAct ?? (async () => true),
    logger: createLogger('silent'),
    coalesceMs,
    ...(options.maxSubscribers ? { maxSubscribers: options.maxSubscribers } : {}),
  });
  await hub.start();
  return { hub, sources };
}

/** A page: every message it got, in order. */
function page() {
  const messages: StreamMessage[] = [];
  return { messages, listener: (m: StreamMessage) => void messages.push(m) };
}

/** Lets the coalescing window pass and the flush (with its awaits) finish. */
const settle = () => vi.advanceTimersByTimeAsync(coalesceMs + 1);

describe('the dashboard hub', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('starts its sources and sends a snapshot first, in display order, then upserts and deletes', async () => {
    const { hub, sources } = await startedHub();
    expect(sources.canaries.started && sources.events.started).toBe(true);
    const p = page();
    hub.subscribe(p.listener);
    expect(p.messages).toHaveLength(1);
    const snapshot = p.messages[0]!;
    expect(snapshot.type).toBe('snapshot');
    // In flight first, although api moved later.
    expect(snapshot.type === 'snapshot' && snapshot.rows.map((r) => r.name)).toEqual([
      'web',
      'api',
    ]);

    sources.canaries.set(
      canary('web', { phase: 'Progressing', canaryWeight: 20, lastAppliedSpec: 'rev2' }),
    );
    await settle();
    expect(p.messages.slice(1)).toMatchObject([
      { type: 'upsert', row: { name: 'web', canaryWeight: 20 } },
    ]);

    sources.canaries.remove(canary('api'));
    await settle();
    expect(p.messages.slice(2)).toEqual([{ type: 'delete', namespace: 'shop', name: 'api' }]);
    expect(hub.rows().map((r) => r.name)).toEqual(['web']);
    await hub.stop();
    expect(sources.canaries.started).toBe(false);
  });

  it('coalesces a burst of changes into one message per Canary, with the latest state', async () => {
    const { hub, sources } = await startedHub();
    const p = page();
    hub.subscribe(p.listener);
    for (let weight = 11; weight <= 30; weight++)
      sources.canaries.set(canary('web', { phase: 'Progressing', canaryWeight: weight }));
    sources.runs.set(run('web', 'web-2', '2026-11-22T10:00:00Z'));
    await vi.advanceTimersByTimeAsync(coalesceMs - 10);
    expect(p.messages).toHaveLength(1);
    await settle();
    expect(p.messages.slice(1)).toMatchObject([
      { type: 'upsert', row: { name: 'web', canaryWeight: 30, images: ['example.test/web:2'] } },
    ]);
    // A change that changes nothing the row shows sends nothing.
    sources.canaries.set(canary('web', { phase: 'Progressing', canaryWeight: 30 }));
    await settle();
    expect(p.messages).toHaveLength(2);
    await hub.stop();
  });

  it('sends a followed Canary its detail at once and when its runs, Deployments or Events change', async () => {
    const { hub, sources } = await startedHub();
    const follower = page();
    const other = page();
    hub.subscribe(follower.listener, { namespace: 'shop', name: 'web' });
    hub.subscribe(other.listener);
    await vi.advanceTimersByTimeAsync(0);
    expect(follower.messages.map((m) => m.type)).toEqual(['snapshot', 'detail']);
    const first = follower.messages[1]!;
    expect(first.type === 'detail' && first.detail).toMatchObject({
      row: { name: 'web' },
      declared: { images: ['example.test/web:2'] },
      running: { images: ['example.test/web:1'] },
    });
    expect(first.type === 'detail' && first.detail.actions.map((a) => a.action)).toEqual([
      'promote',
      'abort',
      'retry',
      'approve',
    ]);

    sources.events.set(event('web', 'e1', '2026-11-22T10:00:05Z', 'Advance canary weight to 10'));
    sources.events.set(event('api', 'e2', '2026-11-22T10:00:05Z', 'not about web'));
    await settle();
    expect(follower.messages.slice(2)).toMatchObject([
      { type: 'detail', detail: { events: [{ message: 'Advance canary weight to 10' }] } },
    ]);

    sources.deployments.set(deployment('web-primary', ['example.test/web:1'], 2, 1));
    sources.deployments.set(deployment('unrelated', ['x']));
    await settle();
    expect(follower.messages.slice(3)).toMatchObject([
      { type: 'detail', detail: { running: { readyReplicas: 1 } } },
    ]);

    // An Event or Deployment change carries no row: pages that follow nothing hear nothing.
    expect(other.messages.map((m) => m.type)).toEqual(['snapshot']);
    await hub.stop();
  });

  it("sends a page following one Canary that Canary's row only, not every other's", async () => {
    const { hub, sources } = await startedHub();
    const follower = page();
    const list = page();
    hub.subscribe(follower.listener, { namespace: 'shop', name: 'api' });
    hub.subscribe(list.listener);
    await settle();
    const snapshot = follower.messages.find((m) => m.type === 'snapshot');
    expect(snapshot?.type === 'snapshot' && snapshot.rows.map((r) => r.name)).toEqual(['api']);

    sources.canaries.set(
      canary('web', { phase: 'Progressing', canaryWeight: 30, lastAppliedSpec: 'rev2' }),
    );
    sources.canaries.remove(canary('api'));
    await settle();
    const changes = (m: StreamMessage[]) =>
      m.filter((x) => x.type === 'upsert' || x.type === 'delete');
    expect(changes(list.messages)).toMatchObject([
      { type: 'upsert', row: { name: 'web' } },
      { type: 'delete', name: 'api' },
    ]);
    expect(changes(follower.messages)).toEqual([
      { type: 'delete', namespace: 'shop', name: 'api' },
    ]);
    await hub.stop();
  });

  it('sends no detail for a change that changes nothing it shows', async () => {
    const { hub, sources } = await startedHub();
    const follower = page();
    hub.subscribe(follower.listener, { namespace: 'shop', name: 'web' });
    await vi.advanceTimersByTimeAsync(0);
    sources.deployments.set(deployment('web', ['example.test/web:2']));
    await settle();
    sources.events.set(event('web', 'e1', '2026-11-22T10:00:05Z', 'hello'));
    await settle();
    expect(follower.messages.map((m) => m.type)).toEqual(['snapshot', 'detail', 'detail']);
    await hub.stop();
  });

  it('hides the actions when they may not be taken, or when asking fails', async () => {
    for (const mayAct of [async () => false, () => Promise.reject(new Error('API down'))]) {
      const { hub } = await startedHub({ mayAct });
      expect((await hub.detail('shop', 'web'))!.actions).toEqual([]);
      await hub.stop();
    }
    const { hub } = await startedHub();
    expect(await hub.detail('shop', 'gone')).toBeUndefined();
    await hub.stop();
  });

  it('refuses subscribers past its cap, and takes one again when a page leaves', async () => {
    const { hub } = await startedHub({ maxSubscribers: 2 });
    const leave = hub.subscribe(page().listener);
    hub.subscribe(page().listener);
    expect(() => hub.subscribe(page().listener)).toThrow(TooManySubscribers);
    expect(hub.subscribers).toBe(2);
    leave();
    expect(hub.subscribers).toBe(1);
    expect(() => hub.subscribe(page().listener)).not.toThrow();
    await hub.stop();
  });

  it('drops a page whose listener throws, and keeps serving the others', async () => {
    const { hub, sources } = await startedHub();
    const good = page();
    let calls = 0;
    hub.subscribe(() => {
      calls += 1;
      if (calls > 1) throw new Error('socket gone');
    });
    hub.subscribe(good.listener);
    sources.canaries.set(canary('web', { phase: 'Progressing', canaryWeight: 40 }));
    await settle();
    expect(hub.subscribers).toBe(1);
    expect(good.messages.map((m) => m.type)).toEqual(['snapshot', 'upsert']);
    await hub.stop();
  });
});
