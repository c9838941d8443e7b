/**
 * Pure arithmetic of the scale benchmark: percentiles, step lateness and the
 * memory slope. No I/O, so the unit tests can pin every figure the bench prints.
 */

/** p50 / p99 / max of a sample, and how many values it had. */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * The q-quantile (0..1) by the nearest-rank method: the smallest value with at
 * least q of the sample at or below it. NaN for an empty sample.
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** {@link Summary} of a sample, values rounded to `digits` decimals. */
export function summarize(values: readonly number[], digits = 3): Summary {
  const round = (v: number) => (Number.isNaN(v) ? NaN : Number(v.toFixed(digits)));
  return {
    count: values.length,
    p50: round(percentile(values, 0.5)),
    p99: round(percentile(values, 0.99)),
    max: round(values.length ? Math.max(...values) : NaN),
  };
}

/** A route weight seen at a moment (epoch ms on the bench's clock). */
export interface WeightChange {
  at: number;
  weight: number;
}

/**
 * Step lateness of one canary: for every two consecutive weight changes that
 * both step traffic up (0 < before < after), the time between them minus the
 * interval, in milliseconds. The move from 0 (release start) and the return to
 * 0 (promotion) are not analysis steps, so they are left out.
 */
export function stepLateness(changes: readonly WeightChange[], intervalMs: number): number[] {
  const out: number[] = [];
  for (let i = 1; i < changes.length; i++) {
    const a = changes[i - 1]!;
    const b = changes[i]!;
    if (a.weight > 0 && b.weight > a.weight) out.push(b.at - a.at - intervalMs);
  }
  return out;
}

/** A value sampled at a moment (epoch ms). */
export interface Sample {
  at: number;
  value: number;
}

/**
 * Least-squares slope of `value` over time, in value units per hour. 0 for fewer
 * than two samples or when every sample was taken at the same moment.
 */
export function slopePerHour(samples: readonly Sample[]): number {
  if (samples.length < 2) return 0;
  const hours = samples.map((s) => (s.at - samples[0]!.at) / 3_600_000);
  const meanX = hours.reduce((a, b) => a + b, 0) / hours.length;
  const meanY = samples.reduce((a, s) => a + s.value, 0) / samples.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < samples.length; i++) {
    num += (hours[i]! - meanX) * (samples[i]!.value - meanY);
    den += (hours[i]! - meanX) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Parses a duration such as `30m`, `90s`, `1h30m` or `500ms` into milliseconds.
 * Throws naming the bad value.
 */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new Error(`"${text}" is not a duration such as 30m, 90s or 1h30m`);
  }
  return total;
}
