import { describe, expect, it } from 'vitest';
import { Background } from '../../../src/controller/background.js';

/** A promise the test resolves by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Background', () => {
  it('starts work once per id, re-queues the key when done, and keeps the result for that id', async () => {
    const done: string[] = [];
    const bg = new Background<number>(
      (k) => done.push(k),
      () => 1000,
    );
    const work = deferred<number>();
    let starts = 0;
    const start = () => {
      starts += 1;
      return work.promise;
    };
    expect(bg.poll('ns/a', 'step-1', start)).toEqual({ done: false });
    expect(bg.poll('ns/a', 'step-1', start)).toEqual({ done: false });
    work.resolve(42);
    await work.promise;
    await Promise.resolve();
    expect(done).toEqual(['ns/a']);
    expect(bg.poll('ns/a', 'step-1', start)).toEqual({ done: true, result: 42, startedAt: 1000 });
    expect(starts).toBe(1);
  });

  it('aborts work for a step the key has moved past and ignores its late result', async () => {
    const done: string[] = [];
    const bg = new Background<string>(
      (k) => done.push(k),
      () => 0,
    );
    const first = deferred<string>();
    let signal: AbortSignal | undefined;
    bg.poll('ns/a', 'step-1', (s) => {
      signal = s;
      return first.promise;
    });
    bg.poll('ns/a', 'step-2', () => new Promise<string>(() => undefined));
    expect(signal!.aborted).toBe(true);
    first.resolve('stale');
    await first.promise;
    await Promise.resolve();
    expect(done).toEqual([]);
  });

  it('cancel aborts and forgets', () => {
    const bg = new Background<string>(
      () => undefined,
      () => 0,
    );
    let signal: AbortSignal | undefined;
    bg.poll('ns/a', 'x', (s) => {
      signal = s;
      return new Promise<string>(() => undefined);
    });
    bg.cancel('ns/a');
    expect(signal!.aborted).toBe(true);
  });
});
