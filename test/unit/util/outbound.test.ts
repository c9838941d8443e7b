import { describe, expect, it } from 'vitest';
import {
  clampTimeout,
  deadline,
  formatBytes,
  maxRequestTimeoutMs,
} from '../../../src/util/outbound.js';
import { Semaphore } from '../../../src/util/semaphore.js';

describe('clampTimeout', () => {
  it.each([
    [10_000, 10_000],
    [maxRequestTimeoutMs, maxRequestTimeoutMs],
    [500 * 3_600_000, maxRequestTimeoutMs],
    [2 ** 32, maxRequestTimeoutMs],
    [0, 7_000],
    [-5, 7_000],
    [Number.NaN, 7_000],
    [Number.POSITIVE_INFINITY, 7_000],
  ])('clamps %d ms to %d ms (fallback 7 s)', (ms, expected) => {
    expect(clampTimeout(ms, 7_000)).toBe(expected);
  });
});

describe('deadline', () => {
  it('aborts on its own after the timeout and says so', async () => {
    const d = deadline(new AbortController().signal, 20);
    await new Promise((r) => d.signal.addEventListener('abort', r));
    expect(d.timedOut()).toBe(true);
  });

  it('aborts with the caller, which is not a timeout', () => {
    const caller = new AbortController();
    const d = deadline(caller.signal, 60_000);
    caller.abort();
    expect(d.signal.aborted).toBe(true);
    expect(d.timedOut()).toBe(false);
  });
});

describe('formatBytes', () => {
  it.each([
    [512, '512 B'],
    [64 * 1024, '64 KiB'],
    [4 * 1024 * 1024, '4 MiB'],
    [1.5 * 1024 * 1024, '1.5 MiB'],
    [2 ** 30, '1 GiB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('Semaphore', () => {
  it('lets `limit` holders in and the next one when a slot is given back, in order', async () => {
    const s = new Semaphore(2);
    const a = await s.acquire();
    await s.acquire();
    const order: string[] = [];
    const c = s.acquire().then((release) => (order.push('c'), release));
    const d = s.acquire().then((release) => (order.push('d'), release));
    expect([s.inUse, s.queued]).toEqual([2, 2]);
    a();
    a(); // twice gives back one slot only
    (await c)();
    (await d)();
    expect(order).toEqual(['c', 'd']);
    expect([s.inUse, s.queued]).toEqual([1, 0]);
  });

  it('stops waiting when the signal aborts, and the slot is not lost', async () => {
    const s = new Semaphore(1);
    const release = await s.acquire();
    const controller = new AbortController();
    const waiting = s.acquire(controller.signal);
    controller.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    expect(s.queued).toBe(0);
    release();
    expect(s.inUse).toBe(0);
    await expect(s.acquire(AbortSignal.abort(new Error('late')))).rejects.toThrow('late');
  });

  it('refuses a limit below 1', () => {
    expect(() => new Semaphore(0)).toThrow(/at least 1, got 0/);
  });
});
