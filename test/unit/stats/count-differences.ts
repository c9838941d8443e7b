/** Counts the differences y[j] − x[i] below and at most `value`, x and y sorted, in O(m + n). */
export function countDifferences(
  xSorted: Float64Array,
  ySorted: Float64Array,
  value: number,
): { below: number; atMost: number } {
  let below = 0;
  let atMost = 0;
  // y[j] − x[i] falls as i rises, so the x[i] that qualify for y[j] are those from a first
  // index on, and that index only rises with j.
  let firstBelow = 0;
  let firstAtMost = 0;
  for (let j = 0; j < ySorted.length; j++) {
    const yj = ySorted[j]!;
    while (firstBelow < xSorted.length && !(yj - xSorted[firstBelow]! < value)) firstBelow++;
    while (firstAtMost < xSorted.length && !(yj - xSorted[firstAtMost]! <= value)) firstAtMost++;
    below += xSorted.length - firstBelow;
    atMost += xSorted.length - firstAtMost;
  }
  return { below, atMost };
}
