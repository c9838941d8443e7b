/**
 * Order statistics of the m·n pairwise differences yⱼ − xᵢ without materialising them: at
 * 10,000 values a side they would be 10⁸ doubles (800 MB) to sort.
 */

/** Below this many candidates the rest are gathered and sorted: cheaper than more rounds. */
const DIRECT_LIMIT = 4096;

/**
 * The k-th smallest (1-based) of the differences yⱼ − xᵢ, for x and y sorted ascending.
 *
 * Selection in a sorted matrix after Johnson & Mizoguchi (1978) and Monahan (1984, ACM TOMS
 * Algorithm 616): the differences form a matrix sorted along rows and columns, each row keeps
 * a window of candidate columns, and each round pivots on the weighted median of the window
 * midpoints. Counting the differences below the pivot walks one staircase through the matrix
 * in O(m + n), and every round drops at least a quarter of the candidates, so the whole costs
 * O((m + n)·log(mn)) in expectation. Deterministic: no random pivots. The difference is computed as `y[j] - x[i]` everywhere, so the result is bit for bit
 * the element a full sort would give.
 *
 * @throws RangeError when k is not an integer in 1 … m·n.
 */
export function kthPairwiseDifference(
  xSorted: Float64Array,
  ySorted: Float64Array,
  k: number,
): number {
  const total = xSorted.length * ySorted.length;
  if (!Number.isInteger(k) || k < 1 || k > total) {
    throw new RangeError(`kthPairwiseDifference: k must be an integer in 1 … ${total}, got ${k}`);
  }
  // Rows are the smaller sample, so the per-round work on row midpoints stays small. Writing
  // y − x as y + (−x) is exact, so rows and columns both become ascending sums a[r] + b[c].
  const negX = xSorted.map((v) => -v).reverse();
  const [a, b] = xSorted.length <= ySorted.length ? [negX, ySorted] : [ySorted, negX];
  return kthSmallestSum(a, b, k);
}

/**
 * The candidate sums a[r] + b[c] of a selection round: row r keeps the columns
 * lo[r] … hi[r] − 1; a and b ascending, a the shorter.
 */
interface Windows {
  a: Float64Array;
  b: Float64Array;
  lo: Int32Array;
  hi: Int32Array;
}

/** The k-th smallest a[r] + b[c], a and b ascending; a is the shorter. */
function kthSmallestSum(a: Float64Array, b: Float64Array, k: number): number {
  const rows = a.length;
  const cols = b.length;
  const lo = new Int32Array(rows); // candidates of row r are columns lo[r] … hi[r] − 1
  const hi = new Int32Array(rows).fill(cols);
  const less = new Int32Array(rows);
  const atMost = new Int32Array(rows);
  const mids = new Float64Array(rows);
  const weights = new Float64Array(rows);
  const windows: Windows = { a, b, lo, hi };
  for (;;) {
    let remaining = 0;
    let dropped = 0; // candidates left of the windows: all smaller than the answer
    for (let r = 0; r < rows; r++) {
      remaining += hi[r]! - lo[r]!;
      dropped += lo[r]!;
    }
    if (remaining <= DIRECT_LIMIT) return directly(windows, remaining, k - dropped);

    const pivot = weightedMedianOfMidpoints(windows, mids, weights);
    // Staircase: the columns of row r below the pivot shrink as r grows.
    let cLess = cols;
    let cAtMost = cols;
    let totalLess = 0;
    let totalAtMost = 0;
    for (let r = 0; r < rows; r++) {
      const ar = a[r]!;
      while (cLess > 0 && ar + b[cLess - 1]! >= pivot) cLess--;
      while (cAtMost > 0 && ar + b[cAtMost - 1]! > pivot) cAtMost--;
      less[r] = cLess;
      atMost[r] = cAtMost;
      totalLess += cLess;
      totalAtMost += cAtMost;
    }
    if (k > totalLess && k <= totalAtMost) return pivot;
    if (k <= totalLess) {
      for (let r = 0; r < rows; r++) if (less[r]! < hi[r]!) hi[r] = Math.max(lo[r]!, less[r]!);
    } else {
      for (let r = 0; r < rows; r++) if (atMost[r]! > lo[r]!) lo[r] = Math.min(hi[r]!, atMost[r]!);
    }
  }
}

/**
 * The pivot: a value with at least half the candidates' weight on each side of it, the
 * weighted median of the rows' window midpoints.
 */
function weightedMedianOfMidpoints(
  { a, b, lo, hi }: Windows,
  mids: Float64Array,
  weights: Float64Array,
): number {
  let used = 0;
  let total = 0;
  for (let r = 0; r < a.length; r++) {
    const width = hi[r]! - lo[r]!;
    if (width <= 0) continue;
    mids[used] = a[r]! + b[(lo[r]! + hi[r]!) >> 1]!;
    weights[used++] = width;
    total += width;
  }
  return weightedMedian(mids, weights, used, total / 2);
}

/**
 * The smallest value v among values[0 … count − 1] whose weight at or below v reaches
 * `half`. Quickselect with a three-way partition, so it runs in expected linear time where a
 * sort would cost a comparator call per comparison; reorders both arrays.
 */
function weightedMedian(
  values: Float64Array,
  weights: Float64Array,
  count: number,
  half: number,
): number {
  let left = 0;
  let right = count - 1;
  let needed = half;
  for (;;) {
    const pivot = medianOfThree(values[left]!, values[(left + right) >> 1]!, values[right]!);
    // Dutch flag: [left, lt) < pivot, [lt, i) = pivot, (gt, right] > pivot.
    let lt = left;
    let gt = right;
    let i = left;
    let below = 0;
    let equal = 0;
    while (i <= gt) {
      const v = values[i]!;
      if (v < pivot) {
        below += weights[i]!;
        swap(values, weights, i++, lt++);
      } else if (v > pivot) {
        swap(values, weights, i, gt--);
      } else {
        equal += weights[i++]!;
      }
    }
    if (below >= needed) right = lt - 1;
    else if (below + equal >= needed) return pivot;
    else {
      needed -= below + equal;
      left = gt + 1;
    }
  }
}

function medianOfThree(p: number, q: number, r: number): number {
  return Math.max(Math.min(p, q), Math.min(Math.max(p, q), r));
}

function swap(values: Float64Array, weights: Float64Array, i: number, j: number): void {
  const v = values[i]!;
  values[i] = values[j]!;
  values[j] = v;
  const w = weights[i]!;
  weights[i] = weights[j]!;
  weights[j] = w;
}

/** Gathers the remaining candidates and returns the rank-th smallest of them. */
function directly({ a, b, lo, hi }: Windows, remaining: number, rank: number): number {
  const candidates = new Float64Array(remaining);
  let i = 0;
  for (let r = 0; r < a.length; r++) {
    for (let c = lo[r]!; c < hi[r]!; c++) candidates[i++] = a[r]! + b[c]!;
  }
  return candidates.sort()[rank - 1]!;
}
