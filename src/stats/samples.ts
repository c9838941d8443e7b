/**
 * Checks on the samples every rank statistic takes. The judge feeds them measurements; a NaN
 * or an infinity there is a broken query, not data, so it is refused with the position of the
 * bad value rather than ranked or averaged into a plausible-looking answer.
 */

/**
 * Returns a sorted copy of a sample after checking it.
 * @param caller the public function, named in the error so a stack trace is not needed.
 * @param name which argument the sample is (`x` or `y`).
 * @throws RangeError when the sample is empty or holds NaN or ±Infinity.
 */
export function checkedSorted(
  caller: string,
  name: string,
  values: readonly number[],
): Float64Array {
  if (values.length === 0) {
    throw new RangeError(
      `${caller}: sample ${name} is empty; each sample needs at least one value`,
    );
  }
  const sorted = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new RangeError(`${caller}: ${name}[${i}] is ${v}; samples must hold finite numbers`);
    }
    sorted[i] = v;
  }
  return sorted.sort();
}

/**
 * The median of a sorted, non-empty sample: the mean of the two middle values when the
 * length is even.
 */
export function sortedMedian(sorted: Float64Array): number {
  const h = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
}
