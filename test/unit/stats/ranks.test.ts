import { describe, expect, it } from 'vitest';
import { pooledRanks } from '../../../src/stats/ranks.js';

describe('pooledRanks', () => {
  it('gives tied values their average rank and counts the ties', () => {
    // Pooled 1 2 2 2 3: ranks 1, 3, 3, 3, 5; x holds 1, 2, 2.
    expect(pooledRanks(Float64Array.of(1, 2, 2), Float64Array.of(2, 3))).toEqual({
      rankSumX: 7,
      tieTerm: 24,
      hasTies: true,
    });
  });

  it('sees no ties in distinct values, and −0 and +0 as one value', () => {
    expect(pooledRanks(Float64Array.of(1, 4), Float64Array.of(2, 3))).toEqual({
      rankSumX: 5,
      tieTerm: 0,
      hasTies: false,
    });
    expect(pooledRanks(Float64Array.of(-0), Float64Array.of(0)).hasTies).toBe(true);
  });
});
