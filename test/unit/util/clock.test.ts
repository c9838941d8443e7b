import { afterEach, describe, expect, it, vi } from 'vitest';
import { maxTimerMs, realClock, scaledClock } from '../../../src/util/clock.js';

describe('realClock.after', () => {
  afterEach(() => vi.useRealTimers());

  it('waits for a delay beyond what Node timers hold (a 700h interval), instead of firing at once', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    let fired = 0;
    const cancel = realClock.after(700 * 3_600_000, () => (fired += 1));
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(fired, 'callbacks of a 700 h timer within 100 ms').toBe(0);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      cancel();
      process.off('warning', onWarning);
    }
  });

  it('fires once the whole delay has passed, hop by hop, and can be cancelled in between', () => {
    vi.useFakeTimers();
    let fired = 0;
    realClock.after(maxTimerMs * 2 + 5, () => (fired += 1));
    vi.advanceTimersByTime(maxTimerMs * 2);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(5);
    expect(fired).toBe(1);

    const cancel = realClock.after(maxTimerMs + 10, () => (fired += 1));
    vi.advanceTimersByTime(maxTimerMs);
    cancel();
    vi.advanceTimersByTime(100);
    expect(fired).toBe(1);
  });

  it('scaledClock divides the delay and is just as safe', () => {
    vi.useFakeTimers();
    let fired = 0;
    scaledClock(20, Date.now()).after(20 * (maxTimerMs + 1_000), () => (fired += 1));
    vi.advanceTimersByTime(maxTimerMs);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(fired).toBe(1);
  });
});
