"""Engine losses: values equal torch.nn.functional, per-sample errors equal batch × autograd and
central differences, the cross-entropies stay finite on huge logits, bad targets are rejected."""

import pytest
import torch
import torch.nn.functional as F

from neurotwin.artificial.engine import LOSSES, get_loss, numerical_gradient, relative_error
from neurotwin.errors import ConfigError, DataError, NumericalError

N, K = 7, 4


def _case(name: str, scale: float = 2.0):
    """``(output, target, torch_loss)`` for loss ``name``, float64."""
    gen = torch.Generator().manual_seed(0)
    out = torch.randn(N, K, generator=gen, dtype=torch.float64) * scale
    if name == "cross_entropy":
        return out, torch.randint(0, K, (N,), generator=gen), F.cross_entropy
    if name == "binary_cross_entropy":
        y = torch.rand(N, K, generator=gen, dtype=torch.float64).round()
        return out, y, F.binary_cross_entropy_with_logits
    return out, torch.randn(N, K, generator=gen, dtype=torch.float64), F.mse_loss


@pytest.mark.parametrize("name", LOSSES)
def test_loss_value_equals_torch_functional(name):
    out, y, reference = _case(name)
    torch.testing.assert_close(get_loss(name).value(out, y), reference(out, y), rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", LOSSES)
def test_per_sample_error_is_batch_times_the_autograd_and_central_gradient(name):
    loss = get_loss(name)
    out, y, reference = _case(name)
    leaf = out.clone().requires_grad_()
    (autograd,) = torch.autograd.grad(reference(leaf, y), leaf)
    central = numerical_gradient(lambda: loss.value(out, y), out)
    error = loss.gradient(out, y)
    assert relative_error(error / N, autograd) < 1e-12
    assert relative_error(error / N, central) < 1e-5


def test_softmax_cross_entropy_error_is_prediction_minus_one_hot():
    out, y, _ = _case("cross_entropy")
    loss = get_loss("cross_entropy")
    expected = torch.softmax(out, 1) - F.one_hot(y, K).double()
    torch.testing.assert_close(loss.gradient(out, y), expected, rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(loss.value(out, F.one_hot(y, K).double()), loss.value(out, y))


@pytest.mark.parametrize("name", ["cross_entropy", "binary_cross_entropy"])
def test_cross_entropies_of_huge_logits_are_finite_and_equal_torch(name):
    out, y, reference = _case(name, scale=1e4)
    loss = get_loss(name)
    value, error = loss.value(out, y), loss.gradient(out, y)
    assert torch.isfinite(value) and torch.isfinite(error).all()
    torch.testing.assert_close(value, reference(out, y), rtol=1e-12, atol=0)


def test_predict_gives_probabilities_for_the_cross_entropies():
    out, _, _ = _case("cross_entropy")
    torch.testing.assert_close(
        get_loss("cross_entropy").predict(out).sum(1), torch.ones(N).double()
    )
    torch.testing.assert_close(get_loss("binary_cross_entropy").predict(out), torch.sigmoid(out))


def test_bad_targets_and_outputs_are_one_line_errors():
    loss = get_loss("cross_entropy")
    out = torch.zeros(3, 2)
    cases = [
        (DataError, lambda: loss.value(out, torch.tensor([0, 2, 1]))),  # class 2 of 2
        (DataError, lambda: get_loss("mse").value(out, torch.zeros(3, 3))),
        (DataError, lambda: get_loss("mse").value(out, torch.tensor([[0.0, float("nan")]] * 3))),
        (DataError, lambda: get_loss("binary_cross_entropy").value(out, torch.full((3, 2), 2.0))),
        (
            NumericalError,
            lambda: loss.value(torch.full((3, 2), float("nan")), torch.zeros(3).long()),
        ),
        (ConfigError, lambda: get_loss("hinge")),
    ]
    for error, call in cases:
        with pytest.raises(error) as info:
            call()
        assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="mse, binary_cross_entropy, cross_entropy"):
        get_loss("hinge")
