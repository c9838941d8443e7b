import { normalCdf, normalQuantile } from './normal.js';
import { kthPairwiseDifference } from './pairwise-differences.js';
import { pooledRanks } from './ranks.js';
import { checkedSorted } from './samples.js';
import { autoMethod, uLowerHalf } from './u-distribution.js';

/** A shift estimate with its confidence interval. */
export interface ShiftEstimate {
  /** The Hodges-Lehmann estimate of the shift y − x. */
  estimate: number;
  /** Lower end of the interval: a pairwise difference. */
  lower: number;
  /** Upper end of the interval: a pairwise difference. */
  upper: number;
  /**
   * The coverage of [lower, upper]: at least the requested confidence, since U is discrete,
   * except when the samples are too small for any interval to reach it. Then the interval is
   * the widest one, from the smallest to the largest difference, and this is its coverage.
   * Exact when the critical value came from the exact U distribution, approximate otherwise.
   */
  confidence: number;
}

/**
 * Tolerance when comparing a tail probability with α/2: (1 − 0.9)/2 is 0.04999999999999999
 * in floating point, yet P(U ≤ 0) = 1/20 for two samples of 3 is meant to be admitted.
 */
const ALPHA_SLACK = 1 + 1e-9;

/**
 * Hodges-Lehmann estimate of the shift y - x (median of all pairwise differences y_j - x_i)
 * and its distribution-free confidence interval (Bauer 1972 / Moses), from the U
 * distribution.
 *
 * With the m·n differences sorted, d₍₁₎ ≤ … ≤ d₍ₘₙ₎, the interval is [d₍ₖ₎, d₍ₘₙ₊₁₋ₖ₎] for the
 * largest k ≥ 1 with P(U ≤ k − 1) ≤ α/2, α = 1 − confidence. Its coverage is
 * 1 − 2·P(U ≤ k − 1). The critical value k comes from:
 * - the exact U distribution when `autoMethod` (SciPy's rule for `mannwhitneyu`) picks
 *   'exact': one sample of at most 8 values and no ties;
 * - otherwise the normal approximation with continuity and tie corrections,
 *   k = ⌊mn/2 + 1/2 − z₁₋α/₂·σ⌋, σ² = mn/12·(N + 1 − Σ(t³ − t)/(N(N − 1))), N = m + n.
 *
 * The differences are never all built: the needed order statistics are selected directly
 * (see `kthPairwiseDifference`), so 10,000 values a side take about 50 ms, not 800 MB.
 *
 * @throws RangeError when a sample is empty or holds NaN or ±Infinity, or when confidence is
 * not strictly between 0 and 1.
 */
export function hodgesLehmann(
  x: readonly number[],
  y: readonly number[],
  confidence: number,
): ShiftEstimate {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(
      `hodgesLehmann: confidence must be strictly between 0 and 1, got ${confidence}`,
    );
  }
  const xs = checkedSorted('hodgesLehmann', 'x', x);
  const ys = checkedSorted('hodgesLehmann', 'y', y);
  const m = xs.length;
  const n = ys.length;
  const total = m * n;
  const kth = (k: number) => kthPairwiseDifference(xs, ys, k);
  const half = total >> 1;
  const estimate = total % 2 === 1 ? kth(half + 1) : (kth(half) + kth(half + 1)) / 2;

  const { hasTies, tieTerm } = pooledRanks(xs, ys);
  const halfAlpha = (1 - confidence) / 2;
  const critical =
    autoMethod(m, n, hasTies) === 'exact'
      ? exactCritical(m, n, halfAlpha)
      : normalCritical(m, n, tieTerm, halfAlpha);
  return {
    estimate,
    lower: kth(critical.k),
    upper: kth(total + 1 - critical.k),
    confidence: critical.coverage,
  };
}

interface Critical {
  /** Rank of the lower end among the sorted differences (1-based). */
  k: number;
  /** 1 − 2·P(U ≤ k − 1) */
  coverage: number;
}

function exactCritical(m: number, n: number, halfAlpha: number): Critical {
  const { cdf } = uLowerHalf(m, n);
  // cdf rises to at least 1/2 at the centre, above any α/2 < 1/2, so the walk stops inside.
  // When even P(U ≤ 0) exceeds α/2 it stops at once: k = 1, the widest interval.
  let k = 1;
  while (k < cdf.length && cdf[k]! <= halfAlpha * ALPHA_SLACK) k++;
  return { k, coverage: 1 - 2 * cdf[k - 1]! };
}

function normalCritical(m: number, n: number, tieTerm: number, halfAlpha: number): Critical {
  const pooled = m + n;
  const sd = Math.sqrt(((m * n) / 12) * (pooled + 1 - tieTerm / (pooled * (pooled - 1))));
  const z = -normalQuantile(halfAlpha);
  // P(U ≤ k − 1) ≈ Φ((k − 1/2 − mn/2)/σ) ≤ α/2 solved for the largest integer k.
  const k = Math.max(1, Math.floor((m * n) / 2 + 0.5 - z * sd));
  // Every pooled value equal (σ = 0): every difference is 0 and so is the shift, certainly.
  const coverage = sd > 0 ? 1 - 2 * normalCdf((k - 0.5 - (m * n) / 2) / sd) : 1;
  return { k, coverage };
}
