import { describe, expect, it } from 'vitest';
import { kthPairwiseDifference } from '../../../src/stats/pairwise-differences.js';
import { countDifferences } from './count-differences.js';
import { seededRandom } from './seeded-random.js';

/** Every difference y[j] − x[i], sorted: the reference for small samples. */
function allDifferences(xs: Float64Array, ys: Float64Array): Float64Array {
  const out = new Float64Array(xs.length * ys.length);
  let i = 0;
  for (const y of ys) for (const x of xs) out[i++] = y - x;
  return out.sort();
}

const sample = (random: () => number, length: number, make: () => number) =>
  Float64Array.from({ length }, make).sort();

describe('kthPairwiseDifference', () => {
  it.each<[string, number, number, (random: () => number) => number]>([
    ['tiny', 3, 4, (r) => r()],
    ['under the direct limit', 40, 60, (r) => r() * 10],
    ['over the direct limit, rows from x', 70, 90, (r) => Math.round(r() * 1000) / 10],
    ['over the direct limit, rows from y', 120, 50, (r) => -Math.log(1 - r())],
    ['heavy ties', 80, 80, (r) => Math.floor(r() * 4)],
    ['0/1 values', 100, 70, (r) => (r() < 0.1 ? 1 : 0)],
    ['all equal', 90, 60, () => 3],
  ])('%s (%i × %i): each k equals a full sort', (_, m, n, make) => {
    const random = seededRandom(m * 1000 + n);
    const xs = sample(random, m, () => make(random));
    const ys = sample(random, n, () => make(random));
    const sorted = allDifferences(xs, ys);
    const total = m * n;
    // Every k while cheap; past that both ends and every 17th, which still walks every round.
    const ks = Array.from({ length: total }, (_, i) => i + 1).filter(
      (k) => total <= 2500 || k <= 20 || k > total - 20 || k % 17 === 0,
    );
    const wrong: string[] = [];
    for (const k of ks) {
      const got = kthPairwiseDifference(xs, ys, k);
      if (got !== sorted[k - 1]) wrong.push(`k=${k}: ${got}, expected ${sorted[k - 1]}`);
      if (wrong.length > 5) break;
    }
    expect(wrong).toEqual([]);
  });

  it('selects from 10,000 × 10,000 differences, checked by counting', () => {
    const random = seededRandom(42);
    const xs = sample(random, 10_000, () => Math.round(random() * 1e5) / 100);
    const ys = sample(random, 10_000, () => Math.round(random() * 1.1e5) / 100);
    for (const k of [1, 2, 1234, 50_000_000, 50_000_001, 99_999_999, 100_000_000]) {
      const value = kthPairwiseDifference(xs, ys, k);
      const { below, atMost } = countDifferences(xs, ys, value);
      expect({ k, fits: below < k && k <= atMost }).toEqual({ k, fits: true });
    }
  });

  it.each([0, 13, 1.5, NaN])('refuses k = %s for 3 × 4 differences', (k) => {
    const xs = Float64Array.of(1, 2, 3);
    const ys = Float64Array.of(1, 2, 3, 4);
    expect(() => kthPairwiseDifference(xs, ys, k)).toThrow(/k must be an integer in 1 … 12/);
  });
});
