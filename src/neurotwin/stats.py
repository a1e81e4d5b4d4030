"""Statistics for comparing runs: confidence intervals over seeds and paired tests on one test set.

Every function is pure and returns plain Python numbers, ready for the results document.

References: McNemar (1947), Psychometrika 12:153, in its exact (binomial) form as recommended by
Dietterich (1998), Neural Computation 10:1895; Wilcoxon (1945), Biometrics Bulletin 1:80.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from neurotwin.errors import DataError

#: Significance level below which a difference is not "within noise".
ALPHA = 0.05


def mean_ci95(values: Iterable[float]) -> dict:
    """Mean, sample standard deviation and Student-t 95 % confidence interval of the mean.

    For n values x_i with mean m and sample standard deviation s = sqrt(sum (x_i - m)^2 / (n - 1)):

        ci95 = m ± t_{0.975, n-1} · s / sqrt(n)

    Returns ``{"mean": m, "std": s, "ci95": [lo, hi], "n": n}``; with a single value the spread is
    unknown, so ``std`` is 0.0 and ``ci95`` is None.
    """
    x = np.asarray(list(values), dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise DataError("mean_ci95 needs a flat, non-empty list of numbers")
    n = int(x.size)
    mean = float(x.mean())
    if n == 1:
        return {"mean": mean, "std": 0.0, "ci95": None, "n": 1}
    std = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.975, df=n - 1)) * std / math.sqrt(n)
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half], "n": n}


def mcnemar_exact(
    y_true: ArrayLike, pred_a: ArrayLike, pred_b: ArrayLike
) -> tuple[float, int, int]:
    """Exact two-sided McNemar test of two classifiers on the same test samples.

    Only the discordant samples count: n01 = a wrong and b right, n10 = a right and b wrong. Under
    the null hypothesis (equal error rates) each discordant sample is a fair coin flip, so with
    k = min(n01, n10) and N = n01 + n10:

        p = min(1, 2 · P[Binom(N, 1/2) <= k])

    and p = 1 when N = 0 (the classifiers never disagree on correctness).

    Returns ``(p, n01, n10)``.
    """
    y, a, b = (np.asarray(v).ravel() for v in (y_true, pred_a, pred_b))
    if not (y.shape == a.shape == b.shape):
        raise DataError(
            f"mcnemar_exact needs equally long arrays, got {y.size}, {a.size} and {b.size} samples"
        )
    correct_a = a == y
    correct_b = b == y
    n01 = int(np.sum(~correct_a & correct_b))
    n10 = int(np.sum(correct_a & ~correct_b))
    n = n01 + n10
    if n == 0:
        return 1.0, n01, n10
    p = min(1.0, 2.0 * float(stats.binom.cdf(min(n01, n10), n, 0.5)))
    return p, n01, n10


def wilcoxon_paired(err_a: ArrayLike, err_b: ArrayLike) -> float:
    """Two-sided Wilcoxon signed-rank test on paired per-sample errors (e.g. squared errors).

    With d_i = err_a_i - err_b_i, zero differences dropped (Wilcoxon's convention), the statistic
    is the smaller of the rank sums of positive and negative d_i, ranks taken over |d_i|; the
    p-value is scipy's (exact for small samples, normal approximation otherwise). p = 1 when every
    d_i is 0.
    """
    a = np.asarray(err_a, dtype=float).ravel()
    b = np.asarray(err_b, dtype=float).ravel()
    if a.shape != b.shape:
        raise DataError(f"wilcoxon_paired needs equally long arrays, got {a.size} and {b.size}")
    if not np.any(a - b):
        return 1.0
    return float(stats.wilcoxon(a, b).pvalue)


def within_noise(p_values: Sequence[float], alpha: float = ALPHA) -> bool | None:
    """True when no test rejects equality: p >= alpha for every p (one per seed).

    None when there is nothing to judge (no p-values).
    """
    if len(p_values) == 0:
        return None
    return all(float(p) >= alpha for p in p_values)
