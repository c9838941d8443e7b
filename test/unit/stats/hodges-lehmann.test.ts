import { describe, expect, it } from 'vitest';
import { hodgesLehmann } from '../../../src/stats/hodges-lehmann.js';
import { describeCase, families, goldens, TOLERANCE } from './judge-goldens.js';
import { countDifferences } from './count-differences.js';
import { seededRandom } from './seeded-random.js';

describe(`hodgesLehmann against brute force (${goldens.cases.length} golden cases)`, () => {
  it.each(families())(
    '%s: estimate and interval bounds equal, coverage within 1e-12',
    (_, cases) => {
      const failures: string[] = [];
      for (const { index, c } of cases) {
        goldens.confidences.forEach((confidence, i) => {
          const [lower, upper, coverage] = c.hl.ci[i]!;
          const got = hodgesLehmann(c.x, c.y, confidence);
          // === rather than Object.is: a difference of −0 and one of +0 are the same difference.
          if (got.estimate !== c.hl.estimate || got.lower !== lower || got.upper !== upper) {
            failures.push(
              `${describeCase(index, c)} at ${confidence} (${c.hl.method}): got ` +
                `${got.estimate} [${got.lower}, ${got.upper}], expected ${c.hl.estimate} [${lower}, ${upper}]`,
            );
          }
          if (!(Math.abs(got.confidence - coverage) <= TOLERANCE.coverage)) {
            failures.push(
              `${describeCase(index, c)} at ${confidence}: coverage ${got.confidence}, expected ${coverage}`,
            );
          }
        });
      }
      expect(failures).toEqual([]);
    },
  );

  it('holds exact and normal critical values both', () => {
    const methods = new Set(goldens.cases.map((c) => c.hl.method));
    expect(methods).toEqual(new Set(['exact', 'asymptotic']));
  });
});

describe('hodgesLehmann', () => {
  it('estimates the shift of y from x: called (baseline, canary) it is canary − baseline', () => {
    const baseline = [10, 12, 11, 13, 9, 10.5, 11.5];
    const canary = baseline.map((v) => v + 5);
    const shift = hodgesLehmann(baseline, canary, 0.98);
    expect(shift.estimate).toBe(5);
    expect(shift.lower).toBeLessThanOrEqual(5);
    expect(shift.upper).toBeGreaterThanOrEqual(5);
    expect(hodgesLehmann(canary, baseline, 0.98).estimate).toBe(-5);
  });

  it('reports the coverage it reached, at least the one asked for when samples allow', () => {
    const x = [1.1, 2.3, 3.2, 4.8, 5.1, 6.7, 7.2];
    const y = [2.2, 3.9, 4.1, 5.5, 6.3, 7.9, 8.4, 9.1];
    const { confidence } = hodgesLehmann(x, y, 0.95);
    expect(confidence).toBeGreaterThanOrEqual(0.95);
    expect(confidence).toBeLessThan(0.97);
  });

  it('falls back to the widest interval, and says its coverage, when samples are too small', () => {
    // Three and three values: P(U = 0) = 1/20 already exceeds α/2 = 1 %.
    const shift = hodgesLehmann([1, 2, 3], [4, 5, 6], 0.98);
    expect(shift).toEqual({ estimate: 3, lower: 1, upper: 5, confidence: 0.9 });
  });

  it('gives the single difference, with coverage 0, for one value each', () => {
    expect(hodgesLehmann([2], [7], 0.9)).toEqual({
      estimate: 5,
      lower: 5,
      upper: 5,
      confidence: 0,
    });
  });

  it('gives a certain shift of 0 when every value is equal', () => {
    expect(hodgesLehmann([4, 4, 4], [4, 4], 0.98)).toEqual({
      estimate: 0,
      lower: 0,
      upper: 0,
      confidence: 1,
    });
  });

  it.each([0, 1, -0.5, 1.5, NaN])('refuses confidence %s', (confidence) => {
    expect(() => hodgesLehmann([1], [2], confidence)).toThrow(
      /hodgesLehmann: confidence must be strictly between 0 and 1/,
    );
  });

  it.each<[string, number[], number[], RegExp]>([
    ['an empty x', [], [1], /hodgesLehmann: sample x is empty/],
    ['an empty y', [1], [], /hodgesLehmann: sample y is empty/],
    ['NaN', [1], [NaN], /hodgesLehmann: y\[0\] is NaN/],
    ['Infinity', [Infinity], [1], /hodgesLehmann: x\[0\] is Infinity/],
  ])('refuses %s with a RangeError naming it', (_, x, y, message) => {
    expect(() => hodgesLehmann(x, y, 0.9)).toThrow(RangeError);
    expect(() => hodgesLehmann(x, y, 0.9)).toThrow(message);
  });

  it('completes 10,000 × 10,000 samples, its answers checked by counting the 10⁸ differences', () => {
    // Time is measured by `npm run bench:stats`, not asserted here.
    const random = seededRandom(7);
    const latency = (median: number) =>
      median *
      Math.exp(0.6 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
    const baseline = Array.from({ length: 10_000 }, () => Math.round(latency(40) * 100) / 100);
    const canary = Array.from({ length: 10_000 }, () => Math.round(latency(42) * 100) / 100);
    const shift = hodgesLehmann(baseline, canary, 0.98);

    const xs = Float64Array.from(baseline).sort();
    const ys = Float64Array.from(canary).sort();
    const total = 10_000 * 10_000;
    // The estimate is the mean of the two middle differences: half the differences on each side.
    const middle = countDifferences(xs, ys, shift.estimate);
    expect(middle.below).toBeLessThanOrEqual(total / 2);
    expect(middle.atMost).toBeGreaterThanOrEqual(total / 2);
    // The bounds are the differences of ranks k and mn + 1 − k for one k: lower has the ranks
    // below+1 … atMost, and upper the ranks that mirror some of them.
    const lower = countDifferences(xs, ys, shift.lower);
    const upper = countDifferences(xs, ys, shift.upper);
    const lowestK = Math.max(lower.below + 1, total + 1 - upper.atMost);
    const highestK = Math.min(lower.atMost, total - upper.below);
    expect(lowestK).toBeLessThanOrEqual(highestK);
    expect(shift.lower).toBeLessThan(shift.estimate);
    expect(shift.upper).toBeGreaterThan(shift.estimate);
    expect(shift.confidence).toBeGreaterThanOrEqual(0.98);
  });
});
