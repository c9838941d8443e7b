/**
 * The standard normal distribution: CDF and quantile, accurate to a few units in the last
 * place, so the rank tests built on them agree with SciPy's `ndtr` and `ndtri` far inside the
 * golden tolerances (see docs/adr/0010-judge-statistics.md).
 */

/* eslint-disable no-loss-of-precision -- the coefficients are kept digit for digit as published,
   so they can be checked against the papers; each literal rounds to its nearest double. */

// Cody (1993), ACM TOMS Algorithm 715 (ANORM): rational Chebyshev approximations on three ranges.
const A = [
  2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249,
  0.065682337918207449113,
];
const B = [
  47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956,
];
const C = [
  0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226,
  2494.5375852903726711, 6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218,
  1.0765576773720192317e-8,
];
const D = [
  22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755,
  18615.571640885098091, 34900.952721145977266, 38912.003286093271411, 19685.429676859990727,
];
const P = [
  0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466,
  2.9112874951168792e-5, 0.02307344176494017303,
];
const Q = [
  1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244,
  7.29751555083966205e-5,
];
const SQRT_32 = 5.656854249492380195206754896838;
const ONE_OVER_SQRT_2PI = 0.398942280401432677939946059934;

/** exp(-x²/2) without the cancellation of squaring x in one go (Cody's trick). */
function gaussTail(x: number): number {
  const xsq = Math.trunc(x * 16) / 16;
  const del = (x - xsq) * (x + xsq);
  return Math.exp(-xsq * xsq * 0.5) * Math.exp(-del * 0.5);
}

/** P(Z ≤ z) for a standard normal Z; 0 and 1 at the infinities, NaN for NaN. */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const y = Math.abs(z);
  if (y <= 0.67448975) {
    // Central range: 0.5 + z·R(z²), no exponential needed.
    let num = 0;
    let den = 0;
    if (y > Number.EPSILON * 0.5) {
      const zsq = z * z;
      num = A[4]! * zsq;
      den = zsq;
      for (let i = 0; i < 3; i++) {
        num = (num + A[i]!) * zsq;
        den = (den + B[i]!) * zsq;
      }
    }
    return 0.5 + (z * (num + A[3]!)) / (den + B[3]!);
  }
  let tail: number; // P(Z > |z|)
  if (y <= SQRT_32) {
    let num = C[8]! * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]!) * y;
      den = (den + D[i]!) * y;
    }
    tail = gaussTail(y) * ((num + C[7]!) / (den + D[7]!));
  } else if (y < 37.5193) {
    const ysq = 1 / (y * y);
    let num = P[5]! * ysq;
    let den = ysq;
    for (let i = 0; i < 4; i++) {
      num = (num + P[i]!) * ysq;
      den = (den + Q[i]!) * ysq;
    }
    const r = (ysq * (num + P[4]!)) / (den + Q[4]!);
    tail = (gaussTail(y) * (ONE_OVER_SQRT_2PI - r)) / y;
  } else {
    // Below the smallest subnormal: the lower tail is 0.
    tail = 0;
  }
  return z > 0 ? 1 - tail : tail;
}

// Wichura (1988), Applied Statistics Algorithm AS 241 (PPND16): about 16 significant digits.
const QA = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
  45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
];
const QB = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867,
  39307.89580009271061, 28729.085735721942674, 5226.495278852854561,
];
const QC = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
  1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833,
  7.7454501427834140764e-4,
];
const QD = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
];
const QE = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
  0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5,
  2.01033439929228813265e-7,
];
const QF = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
  7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7,
  2.04426310338993978564e-15,
];

/** Evaluates a polynomial with coefficients lowest degree first. */
function poly(c: readonly number[], x: number): number {
  let s = 0;
  for (let i = c.length - 1; i >= 0; i--) s = s * x + c[i]!;
  return s;
}

/**
 * The z with P(Z ≤ z) = p: -Infinity at 0, +Infinity at 1.
 * @throws RangeError when p is not in [0, 1].
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(QA, r)) / poly(QB, r);
  }
  // Tails: work with the smaller of p and 1 − p, so small p keep their precision.
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let z: number;
  if (r <= 5) {
    r -= 1.6;
    z = poly(QC, r) / poly(QD, r);
  } else {
    r -= 5;
    z = poly(QE, r) / poly(QF, r);
  }
  return q < 0 ? -z : z;
}
