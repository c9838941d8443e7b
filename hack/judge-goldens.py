#!/usr/bin/env python3
"""Golden cases for src/stats, computed by SciPy and by brute force, never by Weir's own code.

Usage: python3 hack/judge-goldens.py

Creates a throwaway virtualenv in a temporary directory, installs the exactly pinned SciPy
and NumPy from PyPI into it, runs itself there, writes test/fixtures/judge/goldens.json and
deletes the virtualenv. Needs only python3 (>= 3.11, SciPy's floor) and access to PyPI.

What each case holds, and why it is a reference:
- u1 and p-values: scipy.stats.mannwhitneyu(x, y, alternative, method, use_continuity=True)
  for the three alternatives, with method 'asymptotic', 'exact' (where the exact
  distribution is affordable) and 'auto' (recorded as which of the two SciPy picked).
- hl: the Hodges-Lehmann shift of y - x from all m*n differences built with numpy and
  sorted, and the 90/95/98 % intervals [d(k), d(mn+1-k)] with k chosen by the rule
  docs/adr/0010-judge-statistics.md states: from SciPy's exact U distribution (checked here
  against exact integer counts) when one sample has at most 8 values and there are no ties,
  else from the normal quantile (scipy.special.ndtri).
- meanRatio and medianRatio from numpy's mean and median, with the documented rule at 0.
The output is deterministic: a fixed seed and pinned versions.
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

SCIPY = "1.17.1"
NUMPY = "2.4.6"
SEED = 20261203
ALTERNATIVES = ["two-sided", "less", "greater"]
CONFIDENCES = [0.9, 0.95, 0.98]
# Mirror EXACT_COST_LIMIT and EXACT_MAX_SMALLER_SAMPLE in src/stats/u-distribution.ts:
# beyond them Weir refuses method 'exact', so there is nothing to compare.
EXACT_COST_LIMIT = 2**28
EXACT_MAX_SMALLER_SAMPLE = 100
# SciPy builds the exact distribution in O((mn/2)^2); above this it takes minutes.
SCIPY_EXACT_MAX_HALF = 25_000
ALPHA_SLACK = 1 + 1e-9
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test" / "fixtures" / "judge" / "goldens.json"
INSIDE = "WEIR_JUDGE_GOLDENS_INSIDE_VENV"


def bootstrap():
    if sys.version_info < (3, 11):
        sys.exit(f"judge-goldens: SciPy {SCIPY} needs Python >= 3.11, this is {sys.version}")
    tmp = tempfile.mkdtemp(prefix="weir-judge-goldens-")
    try:
        venv.create(tmp, with_pip=True)
        python = Path(tmp) / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        pins = [f"scipy=={SCIPY}", f"numpy=={NUMPY}"]
        print(f"judge-goldens: installing {' '.join(pins)} into a temporary virtualenv")
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--only-binary=:all:", *pins],
            check=True,
        )
        subprocess.run([python, __file__], check=True, env={**os.environ, INSIDE: "1"})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def generate():
    import numpy as np
    import scipy
    from scipy import special, stats
    from scipy.stats._mannwhitneyu import _MWU

    assert scipy.__version__ == SCIPY and np.__version__ == NUMPY, "not the pinned versions"
    rng = np.random.default_rng(SEED)

    def exact_counts(m, n):
        """Arrangements with U = u, u = 0..mn, as exact integers (Mann & Whitney's recursion)."""
        table = {}

        def counts(a, b):
            if a == 0 or b == 0:
                return [1]
            if (a, b) not in table:
                # The largest pooled value is from the first sample (it adds b to U) or not.
                left, right = counts(a - 1, b), counts(a, b - 1)
                out = [0] * (a * b + 1)
                for u, c in enumerate(left):
                    out[u + b] += c
                for u, c in enumerate(right):
                    out[u] += c
                table[(a, b)] = out
            return table[(a, b)]

        return counts(m, n)

    def u_lower_cdf(m, n):
        """SciPy's exact null distribution of U, P(U <= u) for u = 0..mn/2."""
        pmf = _MWU(m, n).build_u_freqs_array(m * n // 2)
        cdf = np.cumsum(pmf)
        if m * n <= 2000:
            ways = exact_counts(min(m, n), max(m, n))
            total = math.comb(m + n, m)
            running = 0
            for u in range(m * n // 2 + 1):
                running += ways[u]
                assert abs(cdf[u] - running / total) <= 1e-12, (m, n, u)
        return cdf

    def has_ties(x, y):
        pooled = np.concatenate([x, y])
        return np.unique(pooled).size < pooled.size

    def hl_reference(x, y):
        m, n = len(x), len(y)
        d = np.sort(np.subtract.outer(np.asarray(y), np.asarray(x)).ravel())  # y_j - x_i
        total = d.size
        h = total // 2
        estimate = float(d[h]) if total % 2 else float((d[h - 1] + d[h]) / 2)
        exact = min(m, n) <= 8 and not has_ties(x, y)
        if exact:
            assert min(m, n) * m * n <= EXACT_COST_LIMIT
            cdf = u_lower_cdf(m, n)
        else:
            _, t = np.unique(np.concatenate([x, y]), return_counts=True)
            tie_term = float(np.sum(t.astype(float) ** 3 - t))
            pooled = m + n
            sd = math.sqrt((m * n / 12) * (pooled + 1 - tie_term / (pooled * (pooled - 1))))
        intervals = []
        for confidence in CONFIDENCES:
            half_alpha = (1 - confidence) / 2
            if exact:
                # Largest k >= 1 with P(U <= k - 1) <= alpha/2, else 1.
                k = 1
                while k < cdf.size and cdf[k] <= half_alpha * ALPHA_SLACK:
                    k += 1
                coverage = 1 - 2 * float(cdf[k - 1])
            else:
                z = -float(special.ndtri(half_alpha))
                k = max(1, math.floor(m * n / 2 + 0.5 - z * sd))
                coverage = 1 - 2 * float(special.ndtr((k - 0.5 - m * n / 2) / sd)) if sd > 0 else 1.0
            intervals.append([float(d[k - 1]), float(d[total - k]), coverage])
        return {"method": "exact" if exact else "asymptotic", "estimate": estimate, "ci": intervals}

    def ratio(base, changed):
        """changed / base; at base 0: 1 if changed is 0 too, else a signed infinity (as text)."""
        if base != 0:
            return float(changed / base)
        return 1.0 if changed == 0 else ("Infinity" if changed > 0 else "-Infinity")

    def case(family, x, y):
        x = [float(v) for v in x]
        y = [float(v) for v in y]
        m, n = len(x), len(y)
        record = {"id": family, "x": x, "y": y}
        asym = [stats.mannwhitneyu(x, y, alternative=a, method="asymptotic") for a in ALTERNATIVES]
        u1 = float(asym[0].statistic)
        record["u1"] = u1
        record["asymptotic"] = [float(r.pvalue) for r in asym]
        affordable = (min(m, n) <= EXACT_MAX_SMALLER_SAMPLE and min(m, n) * m * n <= EXACT_COST_LIMIT
                      and m * n // 2 <= SCIPY_EXACT_MAX_HALF)
        if affordable:
            exact = [stats.mannwhitneyu(x, y, alternative=a, method="exact") for a in ALTERNATIVES]
            assert all(float(r.statistic) == u1 for r in exact)
            record["exact"] = [float(r.pvalue) for r in exact]
        else:
            record["exact"] = None
        auto = [float(stats.mannwhitneyu(x, y, alternative=a, method="auto").pvalue) for a in ALTERNATIVES]
        picks = [name for name in ("exact", "asymptotic") if record[name] == auto]
        assert picks, f"{family}: SciPy's auto p-values match neither method"
        if len(picks) == 2:  # the same p either way: say which rule SciPy documents
            picks = ["asymptotic" if (m > 8 and n > 8) or has_ties(x, y) else "exact"]
        record["auto"] = picks[0]
        record["hl"] = hl_reference(x, y)
        record["meanRatio"] = ratio(np.mean(x), np.mean(y))
        record["medianRatio"] = ratio(np.median(x), np.median(y))
        return record

    def rounded(values, decimals):
        return np.round(values, decimals)

    def lognormal_ms(size, median_ms, sigma=0.6):
        return rng.lognormal(math.log(median_ms), sigma, size)

    cases = []
    add = lambda family, x, y: cases.append(case(family, x, y))  # noqa: E731

    # Tiny samples, 1-5 values each, continuous: the exact regime at its smallest.
    for m in range(1, 6):
        for n in range(1, 6):
            for rep in range(8):
                shift = [0, 0.5, 1.5, 3][rep % 4]
                add("tiny", rounded(rng.normal(0, 1, m), 4), rounded(rng.normal(shift, 1, n), 4))
    # Tiny samples with ties: small integers.
    for m in range(1, 6):
        for n in range(1, 6):
            for rep in range(3):
                add("tiny-ties", rng.integers(0, 4, m), rng.integers(0, 4, n))
    # One sample of at most 8: SciPy's exact regime, up to 60 values on the other side.
    for m in range(1, 9):
        for n in (6, 9, 12, 20, 35, 60):
            for rep in range(2):
                shift = rng.choice([0, 0.3, 1])
                x, y = rounded(rng.normal(0, 1, m), 5), rounded(rng.normal(shift, 1, n), 5)
                if rep == 0:
                    add("exact-regime", x, y)
                else:
                    add("exact-regime", y, x)
    # Around the auto boundary: 8 against 8 or 9, 9 against 9.
    for m, n in ((8, 8), (8, 9), (9, 8), (9, 9), (7, 30), (9, 30)):
        for rep in range(5):
            add("auto-boundary", rounded(rng.normal(0, 1, m), 5), rounded(rng.normal(rep * 0.25, 1, n), 5))
    # Medium samples without ties: the normal approximation.
    for rep in range(100):
        m, n = rng.integers(9, 81, 2)
        add("medium", rounded(rng.normal(0, 1, m), 6), rounded(rng.normal(rng.uniform(-1, 1), 1, n), 6))
    # Heavy ties: latencies rounded to whole or tenth milliseconds.
    for rep in range(80):
        m, n = rng.integers(5, 201, 2)
        decimals = int(rep % 2)
        add("heavy-ties", rounded(lognormal_ms(m, 3, 0.5), decimals),
            rounded(lognormal_ms(n, 3 * rng.choice([1, 1.1, 1.5]), 0.5), decimals))
    # One constant sample beside a varied one.
    for rep in range(50):
        m, n = rng.integers(1, 60, 2)
        constant = np.full(m, float(rng.choice([0, 1, 2.5, 100])))
        varied = rounded(rng.normal(2.5, 2, n), 3)
        if rep % 2 == 0:
            add("constant-one", constant, varied)
        else:
            add("constant-one", varied, constant)
    # Both constant and equal: every value tied.
    for m, n in ((1, 1), (1, 2), (2, 1), (1, 5), (3, 3), (4, 7), (8, 8), (8, 9), (10, 10),
                 (9, 30), (50, 40), (200, 300), (2, 2), (5, 1), (6, 6), (12, 3), (20, 20),
                 (1, 40), (100, 100), (7, 7)):
        value = float(rng.choice([0, 1, 0.25, 42]))
        add("both-constant-equal", np.full(m, value), np.full(n, value))
    # Both constant, different values.
    for m, n in ((1, 1), (1, 3), (3, 1), (2, 2), (4, 4), (8, 8), (9, 9), (5, 40), (40, 5),
                 (30, 30), (100, 80), (1, 100), (3, 7), (6, 2), (10, 1), (15, 15), (2, 50),
                 (60, 60), (8, 100), (200, 150)):
        a, b = rng.choice([0, 1, 2, 5, 10], 2, replace=False)
        add("both-constant-different", np.full(m, float(a)), np.full(n, float(b)))
    # Latencies: log-normal, unshifted and shifted (scaled or offset), as the judge sees them.
    for rep in range(180):
        m, n = rng.integers(10, 401, 2)
        median = float(rng.choice([2, 15, 120]))
        kind = rep % 6
        baseline = lognormal_ms(m, median)
        if kind == 0 or kind == 1:
            canary = lognormal_ms(n, median)
        elif kind == 2:
            canary = lognormal_ms(n, median) * 1.05
        elif kind == 3:
            canary = lognormal_ms(n, median) * 1.2
        elif kind == 4:
            canary = lognormal_ms(n, median) * 2
        else:
            canary = lognormal_ms(n, median) + 5
        add("lognormal-unshifted" if kind < 2 else "lognormal-shifted", rounded(baseline, 4), rounded(canary, 4))
    # Errors as 0/1 per request: binomial-like data, all ties.
    for rep in range(100):
        m, n = rng.integers(20, 601, 2)
        p = float(rng.choice([0.001, 0.01, 0.05, 0.2, 0.5]))
        factor = float(rng.choice([1, 1.5, 3]))
        add("binary", rng.binomial(1, p, m), rng.binomial(1, min(1.0, p * factor), n))
    # Very unequal sizes.
    for m, n in ((1, 100), (2, 500), (3, 200), (5, 1000), (8, 2000), (100, 3), (1000, 8),
                 (40, 400), (400, 40)):
        for rep in range(3):
            add("unequal", rounded(lognormal_ms(m, 10), 4), rounded(lognormal_ms(n, 10 * (1 + 0.1 * rep)), 4))
    # Negative and mixed-sign values: deltas, not latencies.
    for rep in range(30):
        m, n = rng.integers(1, 120, 2)
        add("mixed-sign", rounded(rng.normal(-0.5, 3, m), 4), rounded(rng.normal(0.5, 3, n), 4))
    # Huge samples: what a judge sees over a long step, and the selection algorithm's workload.
    add("huge", rounded(lognormal_ms(1240, 40), 4), rounded(lognormal_ms(1310, 40) * 1.1, 4))
    add("huge", rounded(lognormal_ms(2000, 15), 4), rounded(lognormal_ms(2000, 15), 4))
    add("huge", rounded(lognormal_ms(5000, 80), 2), rounded(lognormal_ms(4000, 80) + 1, 2))
    add("huge", rng.binomial(1, 0.02, 3000), rng.binomial(1, 0.03, 3000))
    add("huge", rounded(rng.normal(0, 1, 8), 6), rounded(rng.normal(0.1, 1, 5000), 6))
    add("huge", rounded(rng.normal(0, 1, 4000), 6), rounded(rng.normal(0.02, 1, 4500), 6))

    assert len(cases) >= 1000, len(cases)
    zs = [round(-38 + 0.19 * i, 2) for i in range(401)]
    ps = [10.0 ** -e for e in range(300, 0, -7)] + [round(0.005 * i, 3) for i in range(1, 200)]
    golden = {
        "generator": "hack/judge-goldens.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "seed": SEED,
        "alternatives": ALTERNATIVES,
        "confidences": CONFIDENCES,
        "normal": {
            "cdf": [[z, float(special.ndtr(z))] for z in zs],
            "quantile": [[p, float(special.ndtri(p))] for p in ps],
        },
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(golden, separators=(",", ":"), allow_nan=False)
    OUT.write_text(text + "\n")
    print(f"judge-goldens: {len(cases)} cases, SciPy {scipy.__version__}, "
          f"{len(text) / 1e6:.1f} MB -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    if os.environ.get(INSIDE) == "1":
        generate()
    else:
        bootstrap()
