import { describe, expect, it } from 'vitest';
import { normalCdf, normalQuantile } from '../../../src/stats/normal.js';
import { close, goldens, TOLERANCE } from './judge-goldens.js';

describe(`normal distribution against SciPy ${goldens.scipy}`, () => {
  it(`normalCdf matches scipy.special.ndtr at ${goldens.normal.cdf.length} points within 1e-12`, () => {
    const wrong = goldens.normal.cdf
      .filter(([z, p]) => !close(normalCdf(z), p, TOLERANCE.normalCdf))
      .map(([z, p]) => `z=${z}: ${normalCdf(z)}, SciPy ${p}`);
    expect(wrong).toEqual([]);
  });

  it(`normalQuantile matches scipy.special.ndtri at ${goldens.normal.quantile.length} points within 1e-14`, () => {
    const wrong = goldens.normal.quantile
      .filter(([p, z]) => !close(normalQuantile(p), z, TOLERANCE.normalQuantile))
      .map(([p, z]) => `p=${p}: ${normalQuantile(p)}, SciPy ${z}`);
    expect(wrong).toEqual([]);
  });
});

describe('normalCdf', () => {
  it('is symmetric and takes the infinities', () => {
    for (const z of [0.1, 0.7, 1.96, 4, 6, 10])
      expect(normalCdf(z) + normalCdf(-z)).toBeCloseTo(1, 15);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalCdf(NaN)).toBeNaN();
  });
});

describe('normalQuantile', () => {
  it('inverts normalCdf and takes the ends', () => {
    for (const p of [1e-300, 1e-10, 0.01, 0.3, 0.5, 0.9, 0.999]) {
      expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 12);
    }
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });

  it.each([-0.1, 1.1, NaN])('refuses p = %s', (p) => {
    expect(() => normalQuantile(p)).toThrow(/p must be in \[0, 1\]/);
  });
});
