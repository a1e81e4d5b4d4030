"""Top-label ECE with equal-mass bins: hand example, the floor of a perfect model, an
over-confident model, the bootstrap, reliability diagrams."""

from __future__ import annotations

import numpy as np
import pytest

from neurotwin.errors import ConfigError, DataError
from neurotwin.evaluation import (
    ece_with_ci,
    expected_calibration_error,
    reliability_diagram,
    reliability_png,
)


def _model(n: int, k: int, seed: int, *, sharpen: float = 1.0):
    """Labels drawn from a softmax model's own probabilities (so it is perfectly calibrated), and
    the probabilities it reports: its own, or sharpened (logits × ``sharpen``: over-confident)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=1.5, size=(n, k))
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    y = (rng.random((n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)  # one Categorical draw per row
    q = np.exp(logits * sharpen)
    return y, q / q.sum(axis=1, keepdims=True)


def test_hand_computed_ece():
    proba = [[0.4, 0.6], [0.1, 0.9], [0.3, 0.7], [0.8, 0.2]]
    y = [1, 0, 1, 0]
    # confidences sorted: 0.6 ✓, 0.7 ✓ | 0.8 ✓, 0.9 ✗ → bins (conf 0.65, acc 1), (0.85, 0.5)
    assert expected_calibration_error(y, proba, n_bins=2) == pytest.approx(0.5 * 0.35 + 0.5 * 0.35)
    # a fifth sample (conf 0.5, correct): array_split sizes 3 and 2
    # bins: 0.5 ✓, 0.6 ✓, 0.7 ✓ (conf 0.6, acc 1) | 0.8 ✓, 0.9 ✗ (conf 0.85, acc 0.5)
    proba5 = [*proba, [0.5, 0.5]]
    assert expected_calibration_error([*y, 0], proba5, n_bins=2) == pytest.approx(
        3 / 5 * 0.4 + 2 / 5 * 0.35
    )
    # more bins than samples: empty bins are ignored, each sample is its own bin
    assert expected_calibration_error(y, proba, n_bins=15) == pytest.approx(
        (0.4 + 0.3 + 0.2 + 0.9) / 4
    )


def test_perfect_model_sits_at_the_floor_which_shrinks_like_one_over_sqrt_n():
    small = ece_with_ci(*_model(500, 3, 0), n_boot=50, n_sim=200)
    large = ece_with_ci(*_model(2000, 3, 0), n_boot=50, n_sim=200)
    assert 0 < large["floor"] < small["floor"]
    # 4× the samples: floor halves (1/sqrt(n)); the simulated means are within a few % of theirs
    assert small["floor"] / large["floor"] == pytest.approx(2.0, rel=0.2)
    # a perfect model's ECE is a draw from the very distribution the floor summarises
    eces = [expected_calibration_error(*_model(2000, 3, s)) for s in range(20)]
    assert np.mean(eces) == pytest.approx(large["floor"], rel=0.15)
    assert large["floor_ci95"][0] < large["floor"] < large["floor_ci95"][1]


def test_over_confident_model_is_well_above_the_floor():
    y, p = _model(2000, 3, 1, sharpen=4.0)
    r = ece_with_ci(y, p, n_boot=200)
    assert r["ece"] > 3 * r["floor"]
    assert r["ci95"][0] > r["floor_ci95"][1]
    # the bootstrap interval holds the estimate (for a clearly miscalibrated model, see docstring)
    assert r["ci95"][0] <= r["ece"] <= r["ci95"][1]
    assert r["ece"] == pytest.approx(expected_calibration_error(y, p))
    assert (r["n_bins"], r["n"]) == (15, 2000)


def test_same_seed_same_result_and_plain_json():
    y, p = _model(300, 4, 2, sharpen=2.0)
    a = ece_with_ci(y, p, n_boot=100, seed=3)
    assert a == ece_with_ci(y, p, n_boot=100, seed=3)
    assert a["ci95"] != ece_with_ci(y, p, n_boot=100, seed=4)["ci95"]
    assert set(a) == {"ece", "ci95", "floor", "floor_ci95", "n_bins", "n"}
    assert all(type(v) is float for v in [a["ece"], a["floor"], *a["ci95"], *a["floor_ci95"]])


def test_reliability_diagram_bins():
    y, p = _model(103, 3, 4)
    d = reliability_diagram(y, p, n_bins=10)
    assert sum(d["count"]) == 103 and max(d["count"]) - min(d["count"]) == 1
    assert d["confidence"] == sorted(d["confidence"])
    assert all(0 <= a <= 1 for a in d["accuracy"])
    assert d["ece"] == pytest.approx(expected_calibration_error(y, p, n_bins=10))
    assert (d["n_bins"], d["n"]) == (10, 103)


def test_reliability_png():
    curves = {
        "mlp": reliability_diagram(*_model(200, 3, 5, sharpen=3.0)),
        "snn": reliability_diagram(*_model(200, 3, 6)),
    }
    png = reliability_png(curves, title="digits")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(DataError):
        reliability_png({}, title="none")


def test_bad_arguments():
    y, p = _model(20, 2, 0)
    with pytest.raises(ConfigError, match="n_bins"):
        expected_calibration_error(y, p, n_bins=0)
    with pytest.raises(ConfigError, match="level"):
        ece_with_ci(y, p, level=1.0)
    with pytest.raises(DataError, match="NaN"):
        expected_calibration_error(y, np.full((20, 2), np.nan))
