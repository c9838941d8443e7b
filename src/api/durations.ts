import type { DurationBounds } from './limits.js';

/** Defaults Flagger applies in code; Weir's CRD writes some of them, these cover the rest. */
export const defaults = {
  intervalMs: 60_000,
  threshold: 1,
  inconclusiveLimit: 5,
  progressDeadlineSeconds: 600,
} as const;

/** Parses a Go-style duration (`30s`, `1m30s`, `500ms`) into milliseconds. */
export function durationMs(value: string | undefined, fallbackMs: number): number {
  if (!value) return fallbackMs;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = '';
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * units[m[2]!]!;
    matched += m[0];
  }
  return matched === value && total > 0 ? total : fallbackMs;
}

/**
 * {@link durationMs}, held within `bounds` (src/api/limits.ts). The CRD enforces
 * the same bounds; this covers objects admitted under an older CRD, where an
 * unbounded value would become a timer or timeout that overflows.
 */
export function boundedDurationMs(
  value: string | undefined,
  fallbackMs: number,
  bounds: DurationBounds,
): number {
  const min = bounds.min ? durationMs(bounds.min, 0) : 0;
  const max = durationMs(bounds.max, Number.MAX_SAFE_INTEGER);
  return Math.min(Math.max(durationMs(value, fallbackMs), min), max);
}
