import { describe, expect, it } from 'vitest';
import { mannWhitneyU, type Alternative } from '../../../src/stats/mann-whitney.js';
import { close, describeCase, families, goldens, TOLERANCE } from './judge-goldens.js';

describe(`mannWhitneyU against SciPy ${goldens.scipy} (${goldens.cases.length} golden cases)`, () => {
  it.each(families())('%s: U1, exact and asymptotic p, and the auto choice match', (_, cases) => {
    const failures: string[] = [];
    for (const { index, c } of cases) {
      const where = describeCase(index, c);
      goldens.alternatives.forEach((alternative, i) => {
        const asymptotic = mannWhitneyU(c.x, c.y, { alternative, method: 'asymptotic' });
        if (asymptotic.u1 !== c.u1) failures.push(`${where}: U1 ${asymptotic.u1}, SciPy ${c.u1}`);
        if (!close(asymptotic.p, c.asymptotic[i]!, TOLERANCE.asymptoticP)) {
          failures.push(
            `${where} ${alternative} asymptotic: p ${asymptotic.p}, SciPy ${c.asymptotic[i]}`,
          );
        }
        if (c.exact) {
          const exact = mannWhitneyU(c.x, c.y, { alternative, method: 'exact' });
          if (!close(exact.p, c.exact[i]!, TOLERANCE.exactP)) {
            failures.push(`${where} ${alternative} exact: p ${exact.p}, SciPy ${c.exact[i]}`);
          }
        }
        const auto = mannWhitneyU(c.x, c.y, { alternative });
        if (auto.method !== c.auto)
          failures.push(`${where}: auto took ${auto.method}, SciPy ${c.auto}`);
      });
    }
    expect(failures).toEqual([]);
  });
});

describe('mannWhitneyU', () => {
  // SciPy's documented example (Shier 2004): diagnosis ages of males and females.
  const males = [19, 22, 16, 29, 24];
  const females = [20, 11, 17, 12];

  it("matches SciPy's documentation example", () => {
    expect(mannWhitneyU(males, females, { method: 'exact' })).toEqual({
      u1: 17,
      p: 0.1111111111111111,
      method: 'exact',
    });
    expect(mannWhitneyU(males, females, { method: 'asymptotic' }).p).toBeCloseTo(
      0.11134688653314041,
      15,
    );
    expect(mannWhitneyU(females, males, { alternative: 'less', method: 'exact' })).toEqual({
      u1: 3,
      p: 0.05555555555555555,
      method: 'exact',
    });
  });

  it('counts U1 for x, so "greater" means x tends to be larger than y', () => {
    const canary = [30, 31, 32, 33, 34, 35, 36, 37, 38, 39];
    const baseline = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    const greater = mannWhitneyU(canary, baseline, { alternative: 'greater' });
    expect(greater.u1).toBe(100);
    expect(greater.p).toBeLessThan(1e-3);
    expect(mannWhitneyU(canary, baseline, { alternative: 'less' }).p).toBeGreaterThan(0.999);
    expect(mannWhitneyU(baseline, canary, { alternative: 'less' }).p).toBe(greater.p);
  });

  it('gives p = 1 when every value is equal (no information, not an error)', () => {
    const result = mannWhitneyU([5, 5, 5], [5, 5, 5, 5]);
    expect(result).toEqual({ u1: 6, p: 1, method: 'asymptotic' });
  });

  it('takes single values: U1 is 0, 1/2 or 1', () => {
    expect(mannWhitneyU([2], [1])).toEqual({ u1: 1, p: 1, method: 'exact' });
    expect(mannWhitneyU([2], [1], { alternative: 'greater' }).p).toBe(0.5);
    expect(mannWhitneyU([1], [1]).u1).toBe(0.5);
    expect(mannWhitneyU([0], [1]).u1).toBe(0);
  });

  it('leaves its inputs unsorted and unchanged', () => {
    const x = [3, 1, 2];
    const y = [9, 7, 8];
    mannWhitneyU(x, y);
    expect([x, y]).toEqual([
      [3, 1, 2],
      [9, 7, 8],
    ]);
  });

  it.each<[string, number[], number[], RegExp]>([
    ['an empty x', [], [1], /mannWhitneyU: sample x is empty/],
    ['an empty y', [1], [], /mannWhitneyU: sample y is empty/],
    ['NaN', [1, NaN], [1], /mannWhitneyU: x\[1\] is NaN/],
    ['Infinity', [1], [2, 3, Infinity], /mannWhitneyU: y\[2\] is Infinity/],
    ['-Infinity', [-Infinity], [2], /mannWhitneyU: x\[0\] is -Infinity/],
  ])('refuses %s with a RangeError naming it', (_, x, y, message) => {
    expect(() => mannWhitneyU(x, y)).toThrow(RangeError);
    expect(() => mannWhitneyU(x, y)).toThrow(message);
  });

  it('refuses unknown options', () => {
    expect(() => mannWhitneyU([1], [2], { alternative: 'bigger' as Alternative })).toThrow(
      /alternative must be one of two-sided, less, greater/,
    );
    expect(() => mannWhitneyU([1], [2], { method: 'permutation' as 'exact' })).toThrow(
      /method must be one of auto, exact, asymptotic/,
    );
  });

  it("refuses a forced 'exact' beyond 100 values on the smaller side, pointing to 'asymptotic'", () => {
    const x = Array.from({ length: 101 }, (_, i) => i);
    const y = Array.from({ length: 101 }, (_, i) => i + 0.5);
    expect(() => mannWhitneyU(x, y, { method: 'exact' })).toThrow(/use 'asymptotic'/);
    expect(mannWhitneyU(x, y).method).toBe('asymptotic');
  });
});
