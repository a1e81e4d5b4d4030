"""Statistics for comparing runs: confidence intervals over seeds and paired tests on one test set.

Every function is pure and returns plain Python numbers, ready for the results document.

References: McNemar (1947), Psychometrika 12:153, in its exact (binomial) form as recommended by
Dietterich (1998), Neural Computation 10:1895; Wilcoxon (1945), Biometrics Bulletin 1:80;
Nadeau & Bengio (2003), Machine Learning 52:239 (corrected resampled t-test over random splits);
Holm (1979), Scandinavian Journal of Statistics 6:65 (step-down multiple-test adjustment).
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


def mean_ci95(values: Iterable[float], *, ratio: float | None = None) -> dict:
    """Mean, sample standard deviation and Student-t 95 % confidence interval of the mean.

    For n values x_i with mean m and sample standard deviation s = sqrt(sum (x_i - m)^2 / (n - 1)):

        ci95 = m ± t_{0.975, n-1} · sqrt((1/n + ratio) · s²)

    which for ``ratio`` 0 (or not given) is the textbook m ± t_{0.975, n-1} · s / sqrt(n). A
    ``ratio`` = n_test / n_fit > 0 applies the Nadeau & Bengio (2003, Machine Learning 52:239)
    correction for values measured on n random train/test splits of one data set, whose
    overlapping training sets make the values correlated and the plain interval too narrow.

    Returns ``{"mean": m, "std": s, "ci95": [lo, hi], "n": n}``; with a single value the spread is
    unknown, so ``std`` is 0.0 and ``ci95`` is None. When ``ratio`` is given the dict also has
    ``"correction"``: ``"nadeau_bengio"`` for ratio > 0, ``"none"`` for ratio 0 (left out, the
    dict is exactly the uncorrected one without that key).
    """
    x = np.asarray(list(values), dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise DataError("mean_ci95 needs a flat, non-empty list of numbers")
    rho = 0.0 if ratio is None else _ratio(ratio, what="mean_ci95")
    extra = {} if ratio is None else {"correction": "nadeau_bengio" if rho > 0 else "none"}
    n = int(x.size)
    mean = float(x.mean())
    if n == 1:
        return {"mean": mean, "std": 0.0, "ci95": None, "n": 1, **extra}
    std = float(x.std(ddof=1))
    if rho > 0:
        se = math.sqrt((1.0 / n + rho) * std**2)
    else:
        se = std / math.sqrt(n)
    half = float(stats.t.ppf(0.975, df=n - 1)) * se
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half], "n": n, **extra}


def corrected_resampled_ttest(
    diffs: Iterable[float],
    *,
    n_test: float | None,
    n_fit: float | None,
    alpha: float = ALPHA,
    power: float = 0.8,
    fixed_split: bool = False,
) -> dict:
    """Nadeau & Bengio's corrected resampled t-test on per-seed differences of a metric.

    Two models are evaluated on the same k random train/test splits (one per seed), giving the
    differences d_1..d_k of a metric. Because the training sets overlap, the d_j are positively
    correlated and the plain paired t-test over seeds is anti-conservative; Nadeau & Bengio
    (2003, Machine Learning 52:239, "corrected resampled t-test") inflate the variance
    of the mean by the test/fit size ratio ρ = n_test / n_fit. With d̄ the mean and s² the sample
    variance (ddof = 1):

        SE   = sqrt((1/k + ρ) · s²)
        t    = d̄ / SE,  df = k − 1,  p = 2 · P[T_df >= |t|]          (two-sided Student t)
        ci95 = d̄ ± t_{0.975, df} · SE
        mdd  = (t_{1 − α/2, df} + t_{power, df}) · SE

    ``mdd`` is the minimum detectable difference: the smallest true difference a two-sided test
    at level α detects with probability ``power`` (the usual power approximation, e.g. Cohen
    1988, with Student quantiles in place of normal ones). For ρ = 0 (``n_test=0`` or
    ``fixed_split=True``, for data sets with their own fixed test set, where seeds vary the
    initialisation only) this is the ordinary one-sample t-test of the d_j against 0
    (Student 1908, Biometrika 6:1).

    Returns ``{"mean", "std", "n", "ratio", "se", "t", "df", "p", "ci95", "mdd", "alpha",
    "power", "correction"}`` with plain floats; ``correction`` is ``"nadeau_bengio"`` or
    ``"none (fixed split)"``. With one seed there is no spread: ``std``, ``se``, ``t``, ``p``,
    ``ci95`` and ``mdd`` are None. With s = 0, ``se`` and ``mdd`` are 0.0 and ``ci95`` is
    [d̄, d̄]; then d̄ = 0 gives t = 0.0 and p = 1.0, and d̄ != 0 gives p = 0.0 and t = None
    (infinite, which JSON cannot hold).
    """
    d = np.asarray(list(diffs), dtype=float)
    if d.ndim != 1 or d.size == 0:
        raise DataError("corrected_resampled_ttest needs a flat, non-empty list of differences")
    if not np.all(np.isfinite(d)):
        raise DataError("corrected_resampled_ttest got a NaN or infinite difference")
    alpha = _probability(alpha, what="alpha")
    power = _probability(power, what="power")
    if fixed_split:
        rho = 0.0
    else:
        if n_test is None or n_fit is None:
            raise DataError("corrected_resampled_ttest needs n_test and n_fit unless fixed_split")
        n_test = float(n_test)
        if not math.isfinite(n_test) or n_test < 0:
            raise DataError(f"corrected_resampled_ttest needs n_test >= 0, got {n_test}")
        rho = 0.0 if n_test == 0 else _ratio_of(n_test, n_fit)
    k = int(d.size)
    mean = float(d.mean())
    out = {
        "mean": mean,
        "std": None,
        "n": k,
        "ratio": rho,
        "se": None,
        "t": None,
        "df": k - 1,
        "p": None,
        "ci95": None,
        "mdd": None,
        "alpha": alpha,
        "power": power,
        "correction": "nadeau_bengio" if rho > 0 else "none (fixed split)",
    }
    if k < 2:
        return out
    df = k - 1
    # Identical differences: the variance is exactly 0, whatever rounding np.var would leave.
    std = 0.0 if np.all(d == d[0]) else float(d.std(ddof=1))
    if std == 0.0:
        mean = float(d[0])
        out.update(
            mean=mean,
            std=0.0,
            se=0.0,
            t=0.0 if mean == 0 else None,
            p=1.0 if mean == 0 else 0.0,
            ci95=[mean, mean],
            mdd=0.0,
        )
        return out
    se = math.sqrt((1.0 / k + rho) * std**2)
    t = mean / se
    half = float(stats.t.ppf(0.975, df)) * se
    mdd = (float(stats.t.ppf(1.0 - alpha / 2.0, df)) + float(stats.t.ppf(power, df))) * se
    out.update(
        std=std,
        se=se,
        t=t,
        p=float(2.0 * stats.t.sf(abs(t), df)),
        ci95=[mean - half, mean + half],
        mdd=mdd,
    )
    return out


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm (1979, Scandinavian Journal of Statistics 6:65) step-down adjusted p-values.

    With the m non-None p-values sorted ascending, p_(1) <= ... <= p_(m), the adjusted values are

        p̃_(i) = min(1, max_{j <= i} (m − j + 1) · p_(j))

    returned in the input order; rejecting where p̃ < α controls the family-wise error rate at α.
    None entries (no test) pass through as None and do not count towards m.
    """
    present = []
    for i, p in enumerate(p_values):
        if p is None:
            continue
        p = float(p)
        if not (0.0 <= p <= 1.0):
            raise DataError(f"holm needs p-values in [0, 1], got {p} at position {i}")
        present.append((p, i))
    out: list[float | None] = [None] * len(p_values)
    m = len(present)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def median_range(values: Iterable[float]) -> dict:
    """Median, minimum and maximum of a list of numbers (e.g. training times over seeds).

    The median of n sorted values is the middle one for odd n and the mean of the two middle
    ones for even n. Returns ``{"median", "min", "max", "n"}`` with plain floats and int n.
    """
    x = np.asarray(list(values), dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise DataError("median_range needs a flat, non-empty list of numbers")
    if not np.all(np.isfinite(x)):
        raise DataError("median_range got a NaN or infinite value")
    return {
        "median": float(np.median(x)),
        "min": float(x.min()),
        "max": float(x.max()),
        "n": int(x.size),
    }


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


def _ratio(ratio: float, *, what: str) -> float:
    """``ratio`` as a float, checked finite and non-negative."""
    rho = float(ratio)
    if not math.isfinite(rho) or rho < 0:
        raise DataError(f"{what} needs a finite ratio n_test/n_fit >= 0, got {ratio}")
    return rho


def _ratio_of(n_test: float, n_fit: float) -> float:
    """n_test / n_fit, checked: n_fit must be a finite positive count."""
    n_fit = float(n_fit)
    if not math.isfinite(n_fit) or n_fit <= 0:
        raise DataError(f"corrected_resampled_ttest needs n_fit > 0, got {n_fit}")
    return n_test / n_fit


def _probability(value: float, *, what: str) -> float:
    """``value`` as a float strictly between 0 and 1."""
    v = float(value)
    if not (0.0 < v < 1.0):
        raise DataError(f"corrected_resampled_ttest needs {what} strictly between 0 and 1, got {v}")
    return v
