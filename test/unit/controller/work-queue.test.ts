import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../src/controller/work-queue.js';
import { ManualClock } from '../../../src/util/clock.js';

const logger = pino({ level: 'silent' });

function queue(handler: (key: string) => Promise<{ requeueAt?: number } | void>, concurrency = 2) {
  const clock = new ManualClock();
  const q = new WorkQueue({
    clock,
    logger,
    concurrency,
    handler,
    backoff: { initialMs: 1_000, maxMs: 8_000 },
  });
  q.start();
  return { q, clock };
}

describe('WorkQueue', () => {
  it('handles a key once however often it is added while waiting', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const blocker = new Promise<void>((r) => (release = r));
    const { q } = queue(async (k) => {
      seen.push(k);
      if (k === 'busy') await blocker;
    }, 1);
    q.add('busy'); // occupies the only worker
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.depth).toBe(2);
    release();
    await q.idle();
    expect(seen).toEqual(['busy', 'a', 'b']);
  });

  it('handles a key again when it was added while being handled', async () => {
    let calls = 0;
    const holder: { q?: WorkQueue } = {};
    const { q } = queue(async () => {
      calls += 1;
      if (calls === 1) holder.q!.add('k');
    });
    holder.q = q;
    q.add('k');
    await q.idle();
    await q.idle();
    expect(calls).toBe(2);
  });

  it('requeues at the time the handler asks for, with one timer for all keys', async () => {
    const seen: [string, number][] = [];
    const { q, clock } = queue(async (k) => {
      seen.push([k, clock.now()]);
      return seen.filter(([x]) => x === k).length < 3
        ? { requeueAt: clock.now() + (k === 'a' ? 10_000 : 15_000) }
        : undefined;
    });
    const t0 = clock.now();
    q.add('a');
    q.add('b');
    await q.idle();
    for (let i = 0; i < 6; i++) {
      clock.advance(5_000);
      await q.idle();
    }
    expect(seen.map(([k, t]) => `${k}@${(t - t0) / 1000}`)).toEqual([
      'a@0',
      'b@0',
      'a@10',
      'b@15',
      'a@20',
      'b@30',
    ]);
  });

  it('retries a failing key with exponential backoff', async () => {
    const times: number[] = [];
    const { q, clock } = queue(async () => {
      times.push(clock.now());
      throw new Error('API unavailable');
    });
    const t0 = clock.now();
    q.add('k');
    await q.idle();
    for (let i = 0; i < 20; i++) {
      clock.advance(1_000);
      await q.idle();
    }
    expect(times.map((t) => (t - t0) / 1000)).toEqual([0, 1, 3, 7, 15]);
  });

  it('does not starve timers and I/O when a handler asks to run again at once without doing I/O', async () => {
    let runs = 0;
    const { q, clock } = queue(async () => {
      runs += 1;
      return { requeueAt: clock.now() };
    }, 1);
    q.add('busy');
    // A timer of the process still fires while the key keeps coming back.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runs).toBeGreaterThan(1);
    await q.stop();
  });
});
