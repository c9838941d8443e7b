/**
 * The golden cases of test/fixtures/judge/goldens.json, written by hack/judge-goldens.py from
 * SciPy and brute force, and the tolerances they are held to (docs/adr/0010 states the same).
 */
import { readFileSync } from 'node:fs';
import type { Alternative } from '../../../src/stats/mann-whitney.js';

/** Three numbers, one per entry of `Goldens.alternatives`. */
type PerAlternative = [number, number, number];

export interface GoldenCase {
  /** The family the case belongs to, e.g. `tiny-ties` or `lognormal-shifted`. */
  id: string;
  x: number[];
  y: number[];
  u1: number;
  asymptotic: PerAlternative;
  /** null where Weir refuses or SciPy cannot afford the exact distribution. */
  exact: PerAlternative | null;
  /** The method SciPy's `method='auto'` took. */
  auto: 'exact' | 'asymptotic';
  hl: {
    method: 'exact' | 'asymptotic';
    estimate: number;
    /** [lower, upper, coverage], one per entry of `Goldens.confidences`. */
    ci: [number, number, number][];
  };
  /** A number, or "Infinity"/"-Infinity" (JSON has no infinities). */
  meanRatio: number | string;
  medianRatio: number | string;
}

export interface Goldens {
  scipy: string;
  numpy: string;
  seed: number;
  alternatives: Alternative[];
  confidences: number[];
  normal: { cdf: [number, number][]; quantile: [number, number][] };
  cases: GoldenCase[];
}

export const goldens: Goldens = JSON.parse(
  readFileSync(new URL('../../fixtures/judge/goldens.json', import.meta.url), 'utf8'),
);

/** The cases grouped by family, in file order. */
export function families(): [string, { index: number; c: GoldenCase }[]][] {
  const byFamily = new Map<string, { index: number; c: GoldenCase }[]>();
  goldens.cases.forEach((c, index) => {
    const list = byFamily.get(c.id) ?? [];
    list.push({ index, c });
    byFamily.set(c.id, list);
  });
  return [...byFamily];
}

export const TOLERANCE = {
  /** Relative error of exact-method p-values. Observed at most 6e-13. */
  exactP: 1e-9,
  /** Relative error of asymptotic p-values. Observed at most 5e-14. */
  asymptoticP: 1e-9,
  /** Absolute error of an interval's coverage. Observed at most 2.3e-16. */
  coverage: 1e-12,
  /** Relative error of mean and median ratios (NumPy sums without compensation). */
  effectSize: 1e-12,
  /** Relative error of the normal CDF: SciPy's ndtr is itself off by 2e-13 in the far tail. */
  normalCdf: 1e-12,
  /** Relative error of the normal quantile. */
  normalQuantile: 1e-14,
  /** Two probabilities both below this are equal: SciPy keeps subnormals that Weir flushes. */
  underflow: 1e-300,
} as const;

/** Whether actual is within `relative` of expected, or both are below the underflow floor. */
export function close(actual: number, expected: number, relative: number): boolean {
  if (actual === expected) return true;
  if (Math.abs(actual) < TOLERANCE.underflow && Math.abs(expected) < TOLERANCE.underflow)
    return true;
  return Math.abs(actual - expected) <= relative * Math.max(Math.abs(actual), Math.abs(expected));
}

/** A golden number that may be spelled "Infinity" or "-Infinity". */
export function goldenNumber(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

/** Describes a case for a failure message: where it is and how big. */
export function describeCase(index: number, c: GoldenCase): string {
  return `case #${index} (${c.id}, ${c.x.length}×${c.y.length})`;
}
