"""Feature scaling: statistics come from the training part only, transforms follow the formulas."""

import numpy as np
import pytest
import torch

from neurotwin.encoding import Encoder, fit_standard, fit_unit, standard, unit
from neurotwin.errors import ConfigError


def test_standard_has_zero_mean_unit_std_on_train():
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 3.0, size=(200, 4)) * np.array([1, 10, 0.1, 1])
    Z = standard(X, **fit_standard(X))
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, atol=1e-12)


def test_standard_uses_train_statistics_on_test():
    train = np.array([[0.0, 4.0], [2.0, 4.0]])  # mean (1, 4), std (1, 0 -> 1)
    stats = fit_standard(train)
    np.testing.assert_array_equal(stats["mean"], [1.0, 4.0])
    np.testing.assert_array_equal(stats["scale"], [1.0, 1.0])
    np.testing.assert_array_equal(standard(np.array([[3.0, 7.0]]), **stats), [[2.0, 3.0]])


def test_unit_maps_train_to_unit_interval_and_clips_test():
    train = np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 5.0]])  # range (1..3, 5..5 -> width 1)
    stats = fit_unit(train)
    np.testing.assert_array_equal(stats["low"], [1.0, 5.0])
    np.testing.assert_array_equal(stats["high"], [3.0, 6.0])
    np.testing.assert_array_equal(unit(train, **stats), [[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]])
    np.testing.assert_array_equal(
        unit(np.array([[0.0, 5.5], [9.0, 2.0]]), **stats), [[0, 0.5], [1, 0]]
    )


def test_functions_accept_tensors():
    X = np.array([[0.0, 1.0], [4.0, 3.0], [2.0, 2.0]])
    stats = fit_standard(X)
    out = standard(torch.tensor(X, dtype=torch.float32), **stats)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), standard(X, **stats), rtol=1e-6)
    out = unit(torch.tensor(X), **fit_unit(X))
    assert float(out.min()) == 0.0 and float(out.max()) == 1.0


@pytest.mark.parametrize("kind", ["standard", "unit"])
def test_encoder_module_matches_functions_and_saves_its_statistics(kind):
    rng = np.random.default_rng(1)
    X_train, X_test = rng.uniform(-3, 8, size=(50, 3)), rng.uniform(-5, 10, size=(10, 3))
    encoder = Encoder(kind, 3).fit(X_train)
    expected = (
        standard(X_test, **fit_standard(X_train))
        if kind == "standard"
        else unit(X_test, **fit_unit(X_train))
    )
    got = encoder(torch.tensor(X_test, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, atol=1e-6)
    clone = Encoder(kind, 3)
    clone.load_state_dict(encoder.state_dict())
    assert {"offset", "scale", "n_fit"} <= set(encoder.state_dict())
    torch.testing.assert_close(clone(torch.tensor(X_test)), got)


def test_encoder_rejects_unknown_kind_and_use_before_fit():
    with pytest.raises(ConfigError, match="'minmax' is not one of standard, unit"):
        Encoder("minmax", 3)
    with pytest.raises(RuntimeError, match="before fit"):
        Encoder("unit", 2)(torch.zeros(1, 2))
