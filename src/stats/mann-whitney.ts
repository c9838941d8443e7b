import { normalCdf } from './normal.js';
import { pooledRanks } from './ranks.js';
import { checkedSorted } from './samples.js';
import {
  autoMethod,
  EXACT_MAX_SMALLER_SAMPLE,
  exactAffordable,
  uLowerHalf,
} from './u-distribution.js';

/**
 * The alternative hypothesis, about x (the first sample) relative to y, as in SciPy:
 * `'less'`: x is stochastically less than y; `'greater'`: x is stochastically greater.
 */
export type Alternative = 'two-sided' | 'less' | 'greater';

/** A Mann-Whitney U test result. */
export interface MannWhitneyResult {
  /** U of x: the number of pairs (xᵢ, yⱼ) with xᵢ > yⱼ, plus half the pairs with xᵢ = yⱼ. */
  u1: number;
  /** The p-value for the alternative, in [0, 1]. */
  p: number;
  /** How p was computed: the exact null distribution, or the normal approximation. */
  method: 'exact' | 'asymptotic';
}

const ALTERNATIVES: readonly Alternative[] = ['two-sided', 'less', 'greater'];
const METHODS = ['auto', 'exact', 'asymptotic'] as const;

/**
 * U statistic of x (the first sample) and p-value, as
 * `scipy.stats.mannwhitneyu(x, y, alternative, method, use_continuity=True)`.
 *
 * - `method: 'auto'` (default) takes the exact distribution when one sample has at most 8
 *   values and there are no ties, else the normal approximation (SciPy's rule; see
 *   `autoMethod` for the one exception, beyond millions of values).
 * - `'asymptotic'`: normal approximation with tie correction and continuity correction.
 * - `'exact'`: the exact distribution of U without ties. Like SciPy it is not corrected for
 *   ties: with ties, U (then possibly a half-integer) is truncated to an integer first.
 *
 * @throws RangeError when a sample is empty or holds NaN or ±Infinity, when an option is not
 * one of its values, or when `'exact'` is forced on samples too large for it (the smaller
 * one above 100 values, or min(m, n)·m·n above 2²⁸; see `exactAffordable`), where SciPy
 * would still compute it.
 */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  options: { alternative?: Alternative; method?: 'auto' | 'exact' | 'asymptotic' } = {},
): MannWhitneyResult {
  const { alternative = 'two-sided', method: requested = 'auto' } = options;
  if (!ALTERNATIVES.includes(alternative)) {
    throw new RangeError(`mannWhitneyU: alternative must be one of ${ALTERNATIVES.join(', ')}`);
  }
  if (!METHODS.includes(requested)) {
    throw new RangeError(`mannWhitneyU: method must be one of ${METHODS.join(', ')}`);
  }
  const xs = checkedSorted('mannWhitneyU', 'x', x);
  const ys = checkedSorted('mannWhitneyU', 'y', y);
  const m = xs.length;
  const n = ys.length;
  const ranks = pooledRanks(xs, ys);
  const u1 = ranks.rankSumX - (m * (m + 1)) / 2;
  const u2 = m * n - u1;

  // Every alternative becomes an upper-tail probability P(U ≥ u), as SciPy does: 'less' is
  // the upper tail of U2 by symmetry, and two-sided doubles the tail of the larger U.
  const [u, factor] =
    alternative === 'greater' ? [u1, 1] : alternative === 'less' ? [u2, 1] : [Math.max(u1, u2), 2];
  const method = requested === 'auto' ? autoMethod(m, n, ranks.hasTies) : requested;
  if (method === 'exact' && !exactAffordable(m, n)) {
    throw new RangeError(
      `mannWhitneyU: method 'exact' takes samples of up to ${EXACT_MAX_SMALLER_SAMPLE} values ` +
        `on the smaller side and min(m, n)·m·n ≤ 2²⁸, not ${m} and ${n}; use 'asymptotic'`,
    );
  }
  const tail =
    method === 'exact'
      ? exactUpperTail(Math.trunc(u), m, n)
      : asymptoticUpperTail(u, m, n, ranks.tieTerm);
  // Two-sided at U = mn/2 would exceed 1: it counts the central mass twice.
  return { u1, p: Math.min(1, Math.max(0, tail * factor)), method };
}

/** P(U ≥ u) from the exact distribution, summed from whichever end is nearer. */
function exactUpperTail(u: number, m: number, n: number): number {
  const complement = m * n - u;
  const { pmf, cdf } = uLowerHalf(m, n);
  // Below the centre, 1 − P(U ≤ u) + P(U = u); otherwise P(U ≤ mn − u) by symmetry.
  return u < complement ? 1 - cdf[u]! + pmf[u]! : cdf[complement]!;
}

/** P(U ≥ u) by the normal approximation with tie and continuity corrections. */
function asymptoticUpperTail(u: number, m: number, n: number, tieTerm: number): number {
  const pooled = m + n;
  const sd = Math.sqrt(((m * n) / 12) * (pooled + 1 - tieTerm / (pooled * (pooled - 1))));
  // The continuity correction moves U half a step toward the mean's side of the tail; with
  // every value tied sd is 0 and z is −Infinity, so the p-value is 1, as in SciPy.
  const z = (u - (m * n) / 2 - 0.5) / sd;
  return normalCdf(-z);
}
