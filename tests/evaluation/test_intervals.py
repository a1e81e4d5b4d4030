"""Split-conformal intervals: exact rank, coverage and width on generated data, the marginal
guarantee over random splits, metrics and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurotwin.errors import ConfigError, DataError
from neurotwin.evaluation import (
    conformal_quantile,
    interval_metrics,
    mean_absolute_error,
    split_conformal,
)


def test_quantile_rank_by_hand():
    r = np.array([5.0, -1.0, 3.0, -2.0, 4.0, 0.5, -6.0, 7.0, 8.0])  # |r| sorted: .5 1 2 3 4 5 6 7 8
    # n = 9, α = 0.2: ⌈10 · 0.8⌉ = 8 → the 8th smallest |r|
    assert conformal_quantile(r, 0.2) == 7.0
    # n = 9, α = 0.1: (n + 1)(1 − α) = 9 exactly (not 9.000000000000002) → the 9th, the largest
    assert conformal_quantile(r, 0.1) == 8.0
    # n = 9, α = 0.5: ⌈5⌉ = 5 → 4.0; α = 0.45: ⌈5.5⌉ = 6 → 5.0
    assert conformal_quantile(r, 0.5) == 4.0
    assert conformal_quantile(r, 0.45) == 5.0
    # n = 9, α = 0.05: ⌈9.5⌉ = 10 > n → unbounded
    assert conformal_quantile(r, 0.05) == math.inf


def test_unbounded_interval_metrics_are_none():
    lo, hi = split_conformal([1.0, 2.0, 3.0], [1.1, 2.2, 2.9], [0.0, 1.0], alpha=0.1)
    assert np.all(np.isinf(lo)) and np.all(np.isinf(hi))
    m = interval_metrics([0.5, 2.0], lo, hi, y_train=[0.0, 1.0, 2.0], alpha=0.1, n_calibration=3)
    assert m["coverage"] == 1.0 and m["mean_width"] is None and m["width_ratio"] is None


def test_coverage_and_width_with_a_perfect_mean_predictor():
    """y = x + N(0, 1), prediction x: the residuals are N(0, 1), so q → z_0.95 = 1.645.

    With n_cal = 1000 the expected coverage is ⌈1001 · 0.9⌉ / 1001 = 0.9001; the coverage of one
    repetition has sd ≈ sqrt(0.09 / 1000 + 0.09 / 500) ≈ 0.017, of the mean of 100 repetitions
    0.0017, so ±1.5 points is ~9 sd. The width 2q has sd ≈ 0.09 per repetition, 0.009 averaged.
    """
    rng = np.random.default_rng(0)
    coverage, width = [], []
    for _ in range(100):
        x_cal, x_test = rng.uniform(-3, 3, 1000), rng.uniform(-3, 3, 500)
        y_cal, y_test = x_cal + rng.normal(size=1000), x_test + rng.normal(size=500)
        lo, hi = split_conformal(y_cal, x_cal, x_test, alpha=0.1)
        m = interval_metrics(y_test, lo, hi, y_train=y_cal, alpha=0.1, n_calibration=1000)
        coverage.append(m["coverage"])
        width.append(m["mean_width"])
    assert abs(np.mean(coverage) - 0.90) < 0.015
    assert np.mean(width) == pytest.approx(2 * 1.645, abs=0.05)


def test_marginal_guarantee_over_random_splits():
    """Coverage ≥ 1 − α on average over 200 random train/calibration/test splits, for a wrong
    model (a straight line fitted to a sine with heteroscedastic noise): the guarantee needs only
    exchangeability.

    With n_cal = 20, α = 0.1 the expected coverage is ⌈21 · 0.9⌉ / 21 = 19/21 = 0.905. The
    coverage of one split has sd ≈ sqrt(0.905 · 0.095 / 22) ≈ 0.063 (the calibration draw
    dominates), so the mean of 200 has sd ≈ 0.0045. The test allows the mean to fall 0.015
    below 1 − α, i.e. 0.02 (≈ 4.4 sd) below its expectation: a chance failure has probability
    below 1e−4, while a method that under-covers by two points or more fails.
    """
    rng = np.random.default_rng(1)
    n_train, n_cal, n_test = 40, 20, 200
    covered = []
    for _ in range(200):
        x = rng.uniform(-3, 3, n_train + n_cal + n_test)
        y = np.sin(x) + (0.2 + 0.3 * np.abs(x)) * rng.normal(size=x.size)
        idx = rng.permutation(x.size)
        tr, cal, te = np.split(idx, [n_train, n_train + n_cal])
        coef = np.polyfit(x[tr], y[tr], 1)
        lo, hi = split_conformal(y[cal], np.polyval(coef, x[cal]), np.polyval(coef, x[te]))
        covered.append(interval_metrics(y[te], lo, hi, y_train=y[tr], alpha=0.1)["coverage"])
    assert np.mean(covered) >= 0.9 - 0.015


def test_interval_metrics_by_hand():
    y_train = np.arange(101, dtype=float)  # quantiles 0.05 and 0.95 are 5 and 95
    m = interval_metrics(
        [1.0, 2.0, 3.0, 10.0], [0.0, 2.5, 2.0, 9.0], [2.0, 3.5, 3.0, 13.0], y_train=y_train,
        alpha=0.1, n_calibration=50,
    )  # fmt: skip
    assert m == {
        "alpha": 0.1,
        "level": 0.9,
        "coverage": 0.75,
        "mean_width": pytest.approx(2.0),
        "reference_width": pytest.approx(90.0),
        "width_ratio": pytest.approx(2.0 / 90.0),
        "n_calibration": 50,
    }
    assert mean_absolute_error([1.0, 2.0, 4.0], [2.0, 2.0, 1.0]) == pytest.approx(4 / 3)


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.2, float("nan")])
def test_alpha_outside_open_unit_interval(alpha):
    with pytest.raises(ConfigError, match=r"alpha must be between 0 and 1 \(exclusive\)"):
        conformal_quantile([1.0, 2.0], alpha)
    with pytest.raises(ConfigError):
        split_conformal([1.0], [1.0], [1.0], alpha=alpha)
    with pytest.raises(ConfigError):
        interval_metrics([1.0], [0.0], [2.0], y_train=[1.0], alpha=alpha)


def test_mismatched_lengths_are_data_errors():
    with pytest.raises(DataError, match="equal length"):
        split_conformal([1.0, 2.0], [1.0], [0.0])
    with pytest.raises(DataError, match="equal length"):
        interval_metrics([1.0, 2.0], [0.0], [2.0, 3.0], y_train=[1.0], alpha=0.1)
    with pytest.raises(DataError, match="equal length"):
        mean_absolute_error([1.0], [1.0, 2.0])
    with pytest.raises(DataError, match="NaN"):
        conformal_quantile([1.0, np.nan], 0.1)
    with pytest.raises(DataError, match="lower <= upper"):
        interval_metrics([1.0], [2.0], [0.0], y_train=[1.0], alpha=0.1)
