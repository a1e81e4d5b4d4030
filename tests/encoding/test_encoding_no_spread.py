"""Features with no spread to speak of are constant (scale 1): rounding noise, or a spread too
small for float32, never a division that blows up."""

import warnings

import numpy as np
import pytest
import torch

from neurotwin.encoding import Encoder, fit_standard, fit_unit, standard, unit


def features(seed=0, n=200):
    return np.random.default_rng(seed).normal(size=(n, 3))


@pytest.mark.parametrize("tiny", [1e-310, 1e-100, 1e-40])
def test_tiny_spread_is_constant_and_encodes_to_finite_values(tiny):
    X = features()
    X[:, 1] *= tiny  # subnormal in float64 (1e-310), zero (1e-100) or subnormal (1e-40) in float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats = fit_standard(X)
        assert stats["scale"][1] == 1.0 and stats["scale"][0] == X[:, 0].std()
        np.testing.assert_allclose(standard(X, **stats)[:, 1], 0.0, atol=1e-30)
        assert fit_unit(X)["high"][1] == fit_unit(X)["low"][1] + 1.0
        x = torch.tensor(X, dtype=torch.float32)
        for kind in ("standard", "unit"):
            for image in (False, True):
                out = Encoder(kind, 3).fit(X, image=image)(x)
                assert torch.isfinite(out).all()


def test_rounding_noise_is_no_spread():
    X = np.full((1000, 1), 0.1)
    assert X.std() > 0  # numpy's mean of 0.1s is not exactly 0.1 …
    stats = fit_standard(X)  # … but the column is constant: shifted to 0, not blown up to ±1
    assert stats["scale"][0] == 1.0
    assert np.abs(standard(X, **stats)).max() < 1e-15


def test_small_but_real_spread_is_kept():
    X = features(1) * 1e-20 + 3e-20  # values of 1e-20, well within float32's range
    stats = fit_standard(X)
    np.testing.assert_array_equal(stats["scale"], X.std(axis=0))
    np.testing.assert_allclose(standard(X, **stats).std(axis=0), 1.0, rtol=1e-12)
    stats = fit_unit(X)
    np.testing.assert_array_equal(stats["high"], X.max(axis=0))
    assert unit(X, **stats).min() == 0.0 and unit(X, **stats).max() == 1.0


def test_constant_large_feature_encodes_to_zero():
    X = features(2)
    X[:, 2] = -1e20  # low + 1 == low in float64: the range must still not be 0
    x = torch.tensor(X, dtype=torch.float32)
    for kind in ("standard", "unit"):
        out = Encoder(kind, 3).fit(X)(x)
        assert torch.isfinite(out).all() and (out[:, 2] == 0).all()
