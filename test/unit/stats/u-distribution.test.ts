import { describe, expect, it } from 'vitest';
import { autoMethod, EXACT_COST_LIMIT, uLowerHalf } from '../../../src/stats/u-distribution.js';

/** Arrangements with U = u as exact integers, by Mann & Whitney's recursion on the largest value. */
function exactCounts(m: number, n: number, memo = new Map<string, bigint[]>()): bigint[] {
  if (m === 0 || n === 0) return [1n];
  const key = `${m},${n}`;
  const known = memo.get(key);
  if (known) return known;
  const out = Array<bigint>(m * n + 1).fill(0n);
  exactCounts(m - 1, n, memo).forEach((c, u) => (out[u + n]! += c)); // largest value from x
  exactCounts(m, n - 1, memo).forEach((c, u) => (out[u]! += c)); // largest value from y
  memo.set(key, out);
  return out;
}

describe('uLowerHalf', () => {
  it('gives the textbook distribution for 2 and 2 values: 1, 1, 2, 1, 1 arrangements of 6', () => {
    const { pmf, cdf } = uLowerHalf(2, 2);
    expect([...pmf]).toEqual([1 / 6, 1 / 6, 2 / 6].map((p) => expect.closeTo(p, 15)));
    expect(cdf[2]).toBeCloseTo(4 / 6, 15);
  });

  it.each([
    [1, 1],
    [3, 3],
    [5, 8],
    [8, 30],
    [10, 12],
    [13, 7],
  ])('matches exact integer counts for %i × %i within 1e-13 relative', (m, n) => {
    const counts = exactCounts(m, n);
    const total = counts.reduce((a, b) => a + b, 0n);
    const { cdf } = uLowerHalf(m, n);
    let running = 0n;
    cdf.forEach((p, u) => {
      running += counts[u]!;
      const expected = Number(running) / Number(total);
      expect(Math.abs(p - expected) / expected).toBeLessThan(1e-13);
    });
  });

  it('adds up to 1 by symmetry', () => {
    for (const [m, n] of [
      [4, 4],
      [5, 6],
      [8, 1000],
      [60, 70],
    ] as const) {
      const { pmf } = uLowerHalf(m, n);
      const odd = (m * n) % 2 === 1;
      const last = pmf.length - 1;
      let sum = 0;
      pmf.forEach((p, u) => (sum += u === last && !odd ? p : 2 * p));
      expect(sum).toBeCloseTo(1, 12);
    }
  });

  it('refuses more than 100 values on the smaller side, and costs over the limit', () => {
    expect(() => uLowerHalf(101, 101)).toThrow(/use the asymptotic method/);
    expect(() => uLowerHalf(8, Math.ceil(EXACT_COST_LIMIT / 64) + 1)).toThrow(RangeError);
  });
});

describe('autoMethod', () => {
  it.each<[number, number, boolean, 'exact' | 'asymptotic']>([
    [8, 8, false, 'exact'],
    [8, 5000, false, 'exact'],
    [5000, 1, false, 'exact'],
    [9, 9, false, 'asymptotic'],
    [3, 3, true, 'asymptotic'],
    [8, 10_000_000, false, 'asymptotic'], // beyond the cost limit, where SciPy would go exact
  ])('%i × %i values, ties %s: %s', (m, n, ties, method) => {
    expect(autoMethod(m, n, ties)).toBe(method);
  });
});
