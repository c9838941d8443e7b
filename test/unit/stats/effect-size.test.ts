import { describe, expect, it } from 'vitest';
import { effectSize } from '../../../src/stats/effect-size.js';
import { close, describeCase, goldens, goldenNumber, TOLERANCE } from './judge-goldens.js';

describe(`effectSize against NumPy ${goldens.numpy} (${goldens.cases.length} golden cases)`, () => {
  it.each([
    ['mean-ratio', 'meanRatio'],
    ['median-ratio', 'medianRatio'],
  ] as const)('%s matches within 1e-12 relative', (kind, field) => {
    const wrong: string[] = [];
    goldens.cases.forEach((c, index) => {
      const expected = goldenNumber(c[field]);
      const got = effectSize(c.x, c.y, kind);
      if (!close(got, expected, TOLERANCE.effectSize)) {
        wrong.push(`${describeCase(index, c)}: ${got}, expected ${expected}`);
      }
    });
    expect(wrong).toEqual([]);
  });
});

describe('effectSize', () => {
  it('is y over x: called (baseline, canary), 1.2 means the canary is 20 % higher', () => {
    expect(effectSize([10, 10], [12, 12], 'mean-ratio')).toBeCloseTo(1.2, 15);
    expect(effectSize([1, 2, 30], [2, 4, 5, 100], 'median-ratio')).toBe(2.25);
  });

  it('never returns NaN: x at 0 gives 1 when y is 0 too, else a signed infinity', () => {
    expect(effectSize([0, 0], [0], 'mean-ratio')).toBe(1);
    expect(effectSize([0, 0, 0], [0, 1], 'mean-ratio')).toBe(Infinity);
    expect(effectSize([-1, 1], [-2, -1], 'mean-ratio')).toBe(-Infinity);
    expect(effectSize([0, 0, 1], [0, 1, 1], 'median-ratio')).toBe(Infinity);
  });

  it('refuses empty samples, NaN, infinities and unknown kinds', () => {
    expect(() => effectSize([], [1], 'mean-ratio')).toThrow(/effectSize: sample x is empty/);
    expect(() => effectSize([1], [NaN], 'median-ratio')).toThrow(/effectSize: y\[0\] is NaN/);
    expect(() => effectSize([1], [-Infinity], 'mean-ratio')).toThrow(/y\[0\] is -Infinity/);
    expect(() => effectSize([1], [1], 'mode-ratio' as 'mean-ratio')).toThrow(
      /kind must be mean-ratio or median-ratio/,
    );
  });
});
