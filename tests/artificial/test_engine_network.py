"""Engine network: hand-written ∂L/∂W and ∂L/∂b of a 3-layer network (L1/L2, dropout, a lesion)
against autograd and central differences; op counts; sizes that do not chain and bad inputs."""

import pytest
import torch
import torch.nn.functional as F

from neurotwin.artificial.engine import (
    Dense,
    Network,
    get_loss,
    make_optimiser,
    numerical_gradient,
    relative_error,
)
from neurotwin.core.ops import count_ops
from neurotwin.errors import ConfigError, DataError

SIZES = (5, 6, 4, 3)
BATCH = 8
TORCH_F = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "softmax": lambda z: torch.softmax(z, dim=1),
    "identity": None,
}
TORCH_LOSS = {
    "cross_entropy": F.cross_entropy,
    "mse": F.mse_loss,
    "binary_cross_entropy": F.binary_cross_entropy_with_logits,
}


def _network(acts=("tanh", "sigmoid", "identity"), *, dropout=0.25, l1=0.003, l2=0.01, seed=0):
    """A float64 5-6-4-3 network with random biases and four lesioned synapses in layer 1."""
    gen = torch.Generator().manual_seed(seed)
    layers = [
        Dense(pre, post, act, init="xavier_uniform", dropout=dropout if i < 2 else 0.0, l1=l1,
              l2=l2, generator=gen)
        for i, (pre, post, act) in enumerate(zip(SIZES[:-1], SIZES[1:], acts, strict=True))
    ]  # fmt: skip
    net = Network(layers).double()
    with torch.no_grad():
        for layer in net.layers:
            layer.synapses.bias.normal_(0.0, 0.5, generator=gen)
        net.layers[1].synapses.mask[[0, 1, 2, 3], [0, 2, 4, 5]] = False
    return net


def _data(loss: str):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(BATCH, SIZES[0], generator=gen, dtype=torch.float64)
    if loss == "cross_entropy":
        y = torch.randint(0, SIZES[-1], (BATCH,), generator=gen)
    elif loss == "binary_cross_entropy":
        y = torch.rand(BATCH, SIZES[-1], generator=gen, dtype=torch.float64).round()
    else:
        y = torch.randn(BATCH, SIZES[-1], generator=gen, dtype=torch.float64)
    return x, y


def _dropout_generator() -> torch.Generator:
    return torch.Generator().manual_seed(7)  # the same keep masks on every call


def _engine_grads(net, loss, x, y):
    out = net(x, train=True, generator=_dropout_generator())
    return net.backward(get_loss(loss).gradient(out, y))


def _autograd_grads(net, loss, x, y, acts):
    """∂L/∂W, ∂L/∂b by torch autograd of the same function, written with torch ops and the
    engine's dropout masks; L = loss + Σ λ₁|W ⊙ M| + (λ₂/2)(W ⊙ M)²."""
    leaves, a, total = [], x, 0.0
    for layer, trace, act in zip(net.layers, net.traces_, acts, strict=True):
        w = layer.synapses.weight.detach().clone().requires_grad_()
        b = layer.synapses.bias.detach().clone().requires_grad_()
        leaves.append((w, b))
        w_eff = w * layer.synapses.mask
        z = a @ w_eff.T + b
        a = z if TORCH_F[act] is None else TORCH_F[act](z)
        if trace.keep is not None:
            a = a * trace.keep / (1 - layer.dropout)
        total = total + layer.l1 * w_eff.abs().sum() + layer.l2 / 2 * (w_eff**2).sum()
    total = total + TORCH_LOSS[loss](a, y)
    grads = torch.autograd.grad(total, [t for pair in leaves for t in pair])
    return list(zip(grads[::2], grads[1::2], strict=True))


def _assert_matches_autograd(net, loss, x, y, acts, tol):
    """The engine's gradients (dropout masks fixed) against :func:`_autograd_grads`; returns them."""
    grads = _engine_grads(net, loss, x, y)
    reference = _autograd_grads(net, loss, x, y, acts)
    for grad, (ref_w, ref_b) in zip(grads, reference, strict=True):
        assert relative_error(grad.weight, ref_w) < tol
        assert relative_error(grad.bias, ref_b) < tol
    return grads


@pytest.mark.parametrize("loss", TORCH_LOSS)
def test_three_layer_gradients_match_autograd_and_central_differences(loss):
    acts = ("tanh", "sigmoid", "identity")
    net, (x, y) = _network(acts), _data(loss)
    grads = _assert_matches_autograd(net, loss, x, y, acts, tol=1e-12)
    assert any(t.keep is not None and not t.keep.all() for t in net.traces_)  # dropout is on

    def total_loss():
        out = net(x, train=True, generator=_dropout_generator())
        return get_loss(loss).value(out, y) + net.penalty()

    for layer, grad in zip(net.layers, grads, strict=True):
        central_w = numerical_gradient(total_loss, layer.synapses.weight)
        assert relative_error(grad.weight, central_w) < 1e-5
        assert relative_error(grad.bias, numerical_gradient(total_loss, layer.synapses.bias)) < 1e-5
    assert (grads[1].weight[~net.layers[1].synapses.mask] == 0).all()  # lesioned: no gradient


def test_softmax_output_layer_with_mse_matches_autograd():
    acts = ("tanh", "tanh", "softmax")
    net, (x, y) = _network(acts, dropout=0.0), _data("mse")
    _assert_matches_autograd(net, "mse", x, y, acts, tol=1e-12)


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-13), (torch.float32, 1e-5)])
def test_backprop_relu_network_equals_autograd_up_to_rounding(dtype, tol):
    acts = ("relu", "relu", "identity")
    net, (x, y) = _network(acts, dropout=0.0, l1=0.0, l2=0.0), _data("cross_entropy")
    net, x = net.to(dtype), x.to(dtype)
    _assert_matches_autograd(net, "cross_entropy", x, y, acts, tol)


def test_forward_and_backward_build_no_autograd_graph():
    net, (x, y) = _network(), _data("cross_entropy")
    out = net(x, train=True)
    grads = net.backward(get_loss("cross_entropy").gradient(out, y))
    assert out.grad_fn is None and all(g.weight.grad_fn is None for g in grads)


def test_op_counts_are_batch_times_pre_times_post_per_layer():
    net, (x, _) = _network(), _data("mse")
    with count_ops() as ops:
        net(x)
    assert ops.dense_mac == BATCH * (5 * 6 + 6 * 4 + 4 * 3)
    # tanh/sigmoid outputs are never exactly 0, so every unmasked synapse does work
    assert ops.effective_mac == BATCH * (5 * 6 + (6 * 4 - 4) + 4 * 3)
    assert ops.neuron_updates == BATCH * (6 + 4 + 3)


def test_optimiser_steps_leave_lesioned_weights_unchanged():
    net, (x, y) = _network(), _data("cross_entropy")
    synapses = net.layers[1].synapses
    before = synapses.weight.detach().clone()
    opt = make_optimiser("adam", 0.05)
    for _ in range(3):
        net.apply_gradients_(_engine_grads(net, "cross_entropy", x, y), opt)
    assert torch.equal(synapses.weight[~synapses.mask], before[~synapses.mask])
    assert not torch.equal(synapses.weight[synapses.mask], before[synapses.mask])


def test_from_sizes_builds_hidden_and_output_layers():
    net = Network.from_sizes([4, 8, 3], activation="tanh", dropout=0.5, l2=0.1)
    assert net.sizes == (4, 8, 3)
    assert [layer.activation.name for layer in net.layers] == ["tanh", "identity"]
    assert [layer.dropout for layer in net.layers] == [0.5, 0.0]


def _one_line_error(error, call, match):
    with pytest.raises(error, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_bad_configuration_and_inputs_are_one_line_errors():
    net = Network.from_sizes([4, 8, 3])
    chain = "layer 0 has 4 outputs but layer 1 takes 5 inputs"
    _one_line_error(ConfigError, lambda: Network([Dense(3, 4), Dense(5, 2)]), chain)
    _one_line_error(ConfigError, lambda: Dense(3, 4, "swish"), "unknown activation")
    _one_line_error(ConfigError, lambda: Dense(3, 4, dropout=1.0), "dropout")
    _one_line_error(ConfigError, lambda: Dense(3, 4, l2=-1), "l2")
    _one_line_error(ConfigError, lambda: Network.from_sizes([4]), "sizes")
    nan = torch.zeros(2, 4)
    nan[1, 2] = float("nan")
    _one_line_error(DataError, lambda: net(nan), "NaN or infinite values in 1 of 2 rows")
    _one_line_error(DataError, lambda: net(torch.zeros(2, 5)), r"inputs must be \(batch, 4\)")
    _one_line_error(
        ConfigError, lambda: Network.from_sizes([4, 3]).backward(torch.zeros(2, 3)), "forward"
    )
    net(torch.zeros(2, 4))
    _one_line_error(ConfigError, lambda: net.backward(torch.zeros(2, 4)), "shape")
