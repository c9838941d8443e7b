import type { EgressPolicy } from './egress.js';

/** Controller-wide settings of outbound requests, from flags (see `src/config.ts`). */
export interface OutboundOptions {
  /** `--egress-deny-cidrs`, `--egress-deny-private`; link-local is always denied. */
  egress: EgressPolicy;
  /** `--max-metrics-response-bytes`. */
  maxMetricsResponseBytes: number;
}

/**
 * Bounds shared by every outbound client (webhooks, notifications, metric queries): a cap
 * on any timeout a Canary or template asks for, and one total deadline per attempt.
 */

/** The longest a single outbound request may take, whatever a Canary or MetricTemplate says. */
export const maxRequestTimeoutMs = 5 * 60_000;

/**
 * A user timeout within (0, {@link maxRequestTimeoutMs}]: longer is cut to the maximum (which
 * also keeps it far from Node's 2³¹ ms timer overflow, where a timeout fires at once), and
 * anything that is not a positive number becomes `fallbackMs`.
 */
export function clampTimeout(ms: number, fallbackMs: number): number {
  if (!Number.isFinite(ms) || ms <= 0) return Math.min(fallbackMs, maxRequestTimeoutMs);
  return Math.min(ms, maxRequestTimeoutMs);
}

/** The signal of one attempt, and whether it was its own deadline that ended it. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** True when the deadline passed (rather than the caller cancelling). */
  timedOut(): boolean;
}

/**
 * A total deadline for one attempt: connect, headers and the whole body. Aborted when the
 * caller's signal is, or `timeoutMs` from now, whichever comes first. Unlike a socket idle
 * timeout, a body dripping one byte a second cannot stretch it.
 */
export function deadline(signal: AbortSignal | undefined, timeoutMs: number): Deadline {
  const timeout = AbortSignal.timeout(timeoutMs);
  return {
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    timedOut: () => timeout.aborted && !signal?.aborted,
  };
}

/** Bytes for people: `64 KiB`, `4 MiB`, `1.5 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number(value.toFixed(1))} ${units[unit]}`;
}
