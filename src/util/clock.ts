/** Time as the controller sees it; injected so tests can run releases in simulated time. */
export interface Clock {
  now(): number;
  /** Calls `fn` once `ms` have passed; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
}

/**
 * The longest delay Node's timers take (2^31 - 1 ms, about 24.8 days). A longer one
 * would fire after 1 ms instead, with a warning, over and over.
 */
export const maxTimerMs = 2 ** 31 - 1;

/**
 * A timer for `ms` that is safe for any delay: beyond {@link maxTimerMs} it waits
 * in hops of that length until the time has come.
 */
function timer(ms: number, fn: () => void): () => void {
  let t: NodeJS.Timeout;
  const arm = (left: number) => {
    t = setTimeout(
      () => (left > maxTimerMs ? arm(left - maxTimerMs) : fn()),
      Math.min(Math.max(0, left), maxTimerMs),
    );
    t.unref?.();
  };
  arm(ms);
  return () => clearTimeout(t);
}

/** The wall clock. */
export const realClock: Clock = {
  now: () => Date.now(),
  after: timer,
};

/** A clock that only moves when told to: timers fire, in order, inside `advance`. */
export class ManualClock implements Clock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  constructor(private current = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  after(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.current + Math.max(0, ms), fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  }

  /** Moves time forward, firing due timers in time order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.current = next.at;
      next.fn();
    }
    this.current = target;
  }
}

/**
 * For tests of the real process only: time runs `scale` times faster than the
 * wall clock, measured from a shared `epoch`, so several processes (a killed
 * controller and its replacement) agree on what time it is.
 */
export function scaledClock(scale: number, epoch: number): Clock {
  return {
    now: () => epoch + (Date.now() - epoch) * scale,
    after: (ms, fn) => timer(ms / scale, fn),
  };
}
