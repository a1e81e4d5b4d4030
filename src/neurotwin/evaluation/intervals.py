"""Split-conformal prediction intervals for regression, and how good they are.

Split conformal prediction (Vovk, Gammerman & Shafer 2005, *Algorithmic Learning in a Random
World*; Papadopoulos et al. 2002; Lei, G'Sell, Rinaldo, Tibshirani & Wasserman 2018, JASA
113:1094) wraps any fitted regressor: the absolute residuals on a calibration set the model was
not fitted on give a half-width q, and [ŷ − q, ŷ + q] covers a new exchangeable test point with
probability at least 1 − α, whatever the model and the noise.

Every function is pure and returns plain Python numbers (the interval bounds are numpy arrays).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from neurotwin.errors import ConfigError, DataError, open_unit, shown


def conformal_quantile(residuals_cal: ArrayLike, alpha: float) -> float:
    """The split-conformal half-width q from n calibration residuals r_i = y_i − ŷ_i.

    With the absolute residuals sorted, |r|_(1) ≤ … ≤ |r|_(n), and the rank

        m = ⌈(n + 1)(1 − α)⌉,

    q = |r|_(m), the m-th smallest. Then P[|y − ŷ| ≤ q] ≥ 1 − α for a new exchangeable point
    (and ≤ 1 − α + 1/(n + 1) when the residuals have no ties). When m > n — fewer than
    1/α − 1 calibration points — no finite q has that guarantee: the result is ``math.inf`` and
    the interval is unbounded. (The rank is computed with a 1e−9 relative tolerance, so that e.g.
    n = 9, α = 0.1 gives m = 9, not the 10 that the float 10 · 0.9 = 9.000000000000002 would.)
    """
    a = open_unit(alpha, "alpha")
    r = _vector(residuals_cal, "conformal_quantile", "residuals_cal")
    n = r.size
    x = (n + 1) * (1.0 - a)
    m = math.ceil(x - 1e-9 * max(1.0, x))
    if m > n:
        return math.inf
    return float(np.sort(np.abs(r))[max(m, 1) - 1])


def split_conformal(
    y_cal: ArrayLike, pred_cal: ArrayLike, pred_test: ArrayLike, *, alpha: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Split-conformal ``(lower, upper)`` bounds for the test predictions: with q =
    :func:`conformal_quantile` (y_cal − pred_cal, α), the interval of test point j is
    [ŷ_j − q, ŷ_j + q] (infinite when q is). The model must not have been fitted on the
    calibration points."""
    a = open_unit(alpha, "alpha")
    y = _vector(y_cal, "split_conformal", "y_cal")
    p = _vector(pred_cal, "split_conformal", "pred_cal")
    _same_length(y, p, "split_conformal", "y_cal", "pred_cal")
    t = _vector(pred_test, "split_conformal", "pred_test")
    q = conformal_quantile(y - p, a)
    return t - q, t + q


def interval_metrics(
    y_test: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    *,
    y_train: ArrayLike,
    alpha: float,
    n_calibration: int | None = None,
) -> dict:
    """Coverage and width of prediction intervals on a test set, beside a reference width.

    Returns

    - ``alpha`` and ``level`` = 1 − α (the promised coverage);
    - ``coverage``: fraction of test targets with lower_j ≤ y_j ≤ upper_j;
    - ``mean_width``: mean of upper_j − lower_j (None when infinite: too few calibration points);
    - ``reference_width``: Q_{1−α/2}(y_train) − Q_{α/2}(y_train), numpy's linear-interpolation
      quantiles of the training targets — the width of an interval that ignores the inputs and
      covers about 1 − α of the targets;
    - ``width_ratio``: mean_width / reference_width (below 1: the model's inputs narrow the
      interval; None when either width is infinite/None or the reference width is 0);
    - ``n_calibration``: echoed (the number of calibration points behind the intervals), None
      when not given.
    """
    a = open_unit(alpha, "alpha")
    y = _vector(y_test, "interval_metrics", "y_test")
    lo = _vector(lower, "interval_metrics", "lower", finite=False)
    hi = _vector(upper, "interval_metrics", "upper", finite=False)
    _same_length(y, lo, "interval_metrics", "y_test", "lower")
    _same_length(y, hi, "interval_metrics", "y_test", "upper")
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)) or np.any(hi < lo):
        raise DataError("interval_metrics needs lower <= upper for every test point (and no NaN)")
    tr = _vector(y_train, "interval_metrics", "y_train")
    if n_calibration is not None and (
        isinstance(n_calibration, bool)
        or not isinstance(n_calibration, (int, np.integer))
        or n_calibration < 1
    ):
        raise ConfigError(f"n_calibration must be a positive integer, got {shown(n_calibration)}")
    width = float(np.mean(hi - lo))
    mean_width = width if math.isfinite(width) else None
    q_lo, q_hi = np.quantile(tr, [a / 2, 1 - a / 2])
    reference = float(q_hi - q_lo)
    ratio = mean_width / reference if mean_width is not None and reference > 0 else None
    return {
        "alpha": a,
        "level": 1.0 - a,
        "coverage": float(np.mean((lo <= y) & (y <= hi))),
        "mean_width": mean_width,
        "reference_width": reference,
        "width_ratio": ratio,
        "n_calibration": None if n_calibration is None else int(n_calibration),
    }


def mean_absolute_error(y: ArrayLike, pred: ArrayLike) -> float:
    """MAE = (1/n) Σ_i |y_i − ŷ_i|."""
    t = _vector(y, "mean_absolute_error", "y")
    p = _vector(pred, "mean_absolute_error", "pred")
    _same_length(t, p, "mean_absolute_error", "y", "pred")
    return float(np.mean(np.abs(t - p)))


# --------------------------------------------------------------------------- checks


def _vector(values: ArrayLike, what: str, name: str, *, finite: bool = True) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{what} needs numbers in {name}, got {shown(values)}") from None
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1 or a.size == 0:
        raise DataError(f"{what} needs {name} as a flat, non-empty array, got shape {a.shape}")
    if finite and not np.all(np.isfinite(a)):
        bad = int(np.argwhere(~np.isfinite(a))[0, 0])
        raise DataError(f"{what} got a NaN or infinite value in {name} at position {bad}")
    return a


def _same_length(a: np.ndarray, b: np.ndarray, what: str, name_a: str, name_b: str) -> None:
    if a.size != b.size:
        raise DataError(
            f"{what} needs {name_a} and {name_b} of equal length, got {a.size} and {b.size}"
        )
