/** What the rank tests need from the pooled sample x ∪ y. */
export interface PooledRanks {
  /** Sum of the ranks of x in the pooled sample, tied values sharing their average rank. */
  rankSumX: number;
  /** Σ (t³ − t) over the groups of t equal values: the tie correction of the U variance. */
  tieTerm: number;
  /** Whether any two values of the pooled sample are equal (within x, within y, or across). */
  hasTies: boolean;
}

/**
 * Ranks x ∪ y by merging the two sorted samples, so no pooled array is built or sorted.
 * The sums are of half-integers and stay exact below 2⁵³, hence equal to SciPy's.
 */
export function pooledRanks(xSorted: Float64Array, ySorted: Float64Array): PooledRanks {
  let i = 0;
  let j = 0;
  let rankSumX = 0;
  let tieTerm = 0;
  let position = 0; // values ranked so far
  while (i < xSorted.length || j < ySorted.length) {
    const v = Math.min(xSorted[i] ?? Infinity, ySorted[j] ?? Infinity);
    let fromX = 0;
    while (i + fromX < xSorted.length && xSorted[i + fromX] === v) fromX++;
    let fromY = 0;
    while (j + fromY < ySorted.length && ySorted[j + fromY] === v) fromY++;
    i += fromX;
    j += fromY;
    const t = fromX + fromY;
    // Ranks position+1 … position+t share their mean.
    rankSumX += fromX * (position + (t + 1) / 2);
    tieTerm += t * t * t - t;
    position += t;
  }
  return { rankSumX, tieTerm, hasTies: tieTerm > 0 };
}
