"""Engine activations: values against torch, derivatives against autograd and central differences."""

import pytest
import torch
import torch.nn.functional as F

from neurotwin.artificial.engine import ACTIVATIONS, get_activation, relative_error
from neurotwin.artificial.engine.activations import LeakyReLU, Softmax
from neurotwin.errors import ConfigError

TORCH_REFERENCE = {
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "softmax": lambda z: torch.softmax(z, dim=1),
}
H = 1e-6


def _z(seed: int = 0) -> torch.Tensor:
    """(6, 5) float64 pre-activations, none within 1e-3 of ReLU's kink at 0."""
    z = torch.randn(6, 5, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2
    return torch.where(z.abs() < 1e-3, z + 0.01, z)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_value_matches_torch(name):
    z = _z()
    torch.testing.assert_close(
        get_activation(name).forward(z), TORCH_REFERENCE[name](z), rtol=1e-14, atol=1e-15
    )


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "softmax"])
def test_elementwise_derivative_matches_autograd_and_central_difference(name):
    act, z = get_activation(name), _z(1)
    leaf = z.clone().requires_grad_()
    (autograd,) = torch.autograd.grad(TORCH_REFERENCE[name](leaf).sum(), leaf)
    central = (act.forward(z + H) - act.forward(z - H)) / (2 * H)
    derivative = act.derivative(z)
    assert relative_error(derivative, autograd) < 1e-12
    assert relative_error(derivative, central) < 1e-5


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_is_the_vector_jacobian_product_of_autograd(name):
    z, upstream = _z(2), _z(3)
    leaf = z.clone().requires_grad_()
    (autograd,) = torch.autograd.grad(TORCH_REFERENCE[name](leaf), leaf, upstream)
    assert relative_error(get_activation(name).backward(z, upstream), autograd) < 1e-12


def test_softmax_jacobian_matches_autograd_and_central_difference():
    z = _z(4)
    jac = Softmax().derivative(z)  # (batch, n, n)
    for row in range(z.shape[0]):
        auto = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, 0), z[row])
        central = torch.stack(
            [
                (Softmax().forward(z[row] + H * e) - Softmax().forward(z[row] - H * e)) / (2 * H)
                for e in torch.eye(z.shape[1], dtype=torch.float64)
            ],
            dim=1,
        )
        assert relative_error(jac[row], auto) < 1e-12
        assert relative_error(jac[row], central) < 1e-5


def test_softmax_of_huge_logits_is_finite_and_exact():
    s = Softmax().forward(torch.tensor([[1000.0, 0.0, -1000.0]], dtype=torch.float64))
    torch.testing.assert_close(s, torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64))


def test_leaky_relu_slope_sets_the_negative_side():
    act = LeakyReLU(slope=0.2)
    z = torch.tensor([-2.0, 3.0])
    torch.testing.assert_close(act.forward(z), torch.tensor([-0.4, 3.0]))
    torch.testing.assert_close(act.derivative(z), torch.tensor([0.2, 1.0]))


def test_unknown_activation_is_a_one_line_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match="unknown activation 'swish'") as info:
        get_activation("swish")
    assert "\n" not in str(info.value)
    assert all(name in str(info.value) for name in ACTIVATIONS)
    with pytest.raises(ConfigError, match="slope"):
        LeakyReLU(slope=1.5)
