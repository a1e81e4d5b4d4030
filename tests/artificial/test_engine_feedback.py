"""Feedback pathways: FA with B = W is backprop, sign symmetry feeds back sign(W), DFA with one
hidden layer is FA, DFA sends the output error straight down, B is seeded, scaled and fixed."""

import math

import pytest
import torch

from neurotwin.artificial.engine import (
    PATHWAYS,
    FeedbackAlignment,
    Network,
    get_loss,
    make_optimiser,
    make_pathway,
)
from neurotwin.errors import ConfigError

LOSS = get_loss("cross_entropy")


def _net(sizes, pathway="backprop", *, seed=0, activation="tanh"):
    gen = torch.Generator().manual_seed(seed)
    return Network.from_sizes(sizes, activation=activation, pathway=pathway, generator=gen).double()


def _data(sizes, n=16):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(n, sizes[0], generator=gen, dtype=torch.float64)
    return x, torch.randint(0, sizes[-1], (n,), generator=gen)


def _grads(net, x, y):
    return net.backward(LOSS.gradient(net(x), y))


def _assert_same_grads(a, b, rtol=1e-13):
    for ga, gb in zip(a, b, strict=True):
        torch.testing.assert_close(ga.weight, gb.weight, rtol=rtol, atol=1e-15)
        torch.testing.assert_close(ga.bias, gb.bias, rtol=rtol, atol=1e-15)


def test_feedback_alignment_with_b_equal_to_w_is_backprop():
    sizes = (5, 7, 6, 3)
    x, y = _data(sizes)
    bp, fa = _net(sizes), _net(sizes, "feedback_alignment")  # same seed: same forward weights
    fa.pathway.set_matrices_([layer.synapses.effective_weight() for layer in fa.layers[1:]])
    _assert_same_grads(_grads(fa, x, y), _grads(bp, x, y))


def test_random_feedback_alignment_is_not_backprop():
    sizes = (5, 7, 6, 3)
    x, y = _data(sizes)
    fa_grads, bp_grads = _grads(_net(sizes, "feedback_alignment"), x, y), _grads(_net(sizes), x, y)
    assert not torch.allclose(fa_grads[0].weight, bp_grads[0].weight)
    torch.testing.assert_close(fa_grads[-1].weight, bp_grads[-1].weight)  # output layer: exact


def test_sign_symmetry_feeds_back_the_sign_of_w():
    sizes = (4, 6, 3)
    x, y = _data(sizes)
    net = _net(sizes, "sign_symmetry")
    grads = _grads(net, x, y)
    w1, b1 = net.layers[0].synapses.weight, net.layers[0].synapses.bias
    w2, b2 = net.layers[1].synapses.weight, net.layers[1].synapses.bias
    # written out by hand: δ_out = softmax(ŷ) − y, δ_h = (δ_out · sign(W2)) ⊙ tanh′(z1)
    z1 = x @ w1.T + b1
    out = torch.tanh(z1) @ w2.T + b2
    delta_out = torch.softmax(out, 1) - torch.nn.functional.one_hot(y, 3)
    delta_h = (delta_out @ torch.sign(w2)) * (1 - torch.tanh(z1) ** 2)
    torch.testing.assert_close(grads[0].weight, delta_h.T @ x / len(x))
    torch.testing.assert_close(grads[0].bias, delta_h.mean(0))


def test_with_one_hidden_layer_dfa_draws_and_uses_the_same_b_as_fa():
    sizes = (5, 8, 3)
    x, y = _data(sizes)
    fa, dfa = _net(sizes, "feedback_alignment"), _net(sizes, "direct_feedback_alignment")
    # one hidden layer: both feed δ_out back through one (n_out, n_hidden) matrix
    assert fa.pathway.shapes() == dfa.pathway.shapes() == [(3, 8)]
    torch.testing.assert_close(fa.pathway.B0, dfa.pathway.B0, rtol=0, atol=0)
    _assert_same_grads(_grads(fa, x, y), _grads(dfa, x, y), rtol=0)


def test_dfa_sends_the_output_error_straight_to_every_hidden_layer():
    sizes = (5, 7, 6, 3)
    x, y = _data(sizes)
    net = _net(sizes, "direct_feedback_alignment")
    assert net.pathway.shapes() == [(3, 7), (3, 6)]
    _grads(net, x, y)
    delta_out = net.deltas_[-1]
    z0 = net.traces_[0].z
    expected = (delta_out @ net.pathway.B0) * (1 - torch.tanh(z0) ** 2)  # δ_out, not δ_1
    torch.testing.assert_close(net.deltas_[0], expected)


def test_feedback_matrices_are_seeded_scaled_and_fixed_during_training():
    sizes = (10, 400, 300, 50)
    b1 = make_pathway("feedback_alignment", sizes, generator=torch.Generator().manual_seed(3))
    b2 = make_pathway("feedback_alignment", sizes, generator=torch.Generator().manual_seed(3))
    for m1, m2, (n_err, _) in zip(b1.matrices, b2.matrices, b1.shapes(), strict=True):
        assert torch.equal(m1, m2)
        bound = 1 / math.sqrt(n_err)  # U[−1/√n_err, 1/√n_err]: std = bound / √3
        assert m1.abs().max() <= bound
        assert float(m1.std()) == pytest.approx(bound / math.sqrt(3), rel=0.02)
    small = (4, 6, 3)
    net, (x, y) = _net(small, "feedback_alignment"), _data(small)
    before = [b.clone() for b in net.pathway.matrices]
    opt = make_optimiser("sgd", 0.1)
    for _ in range(3):
        net.apply_gradients_(_grads(net, x, y), opt)
    assert all(torch.equal(b, m) for b, m in zip(before, net.pathway.matrices, strict=True))


def test_raw_update_under_backprop_is_its_own_reference():
    sizes = (5, 7, 6, 3)
    net, (x, y) = _net(sizes), _data(sizes)
    grads = _grads(net, x, y)
    torch.testing.assert_close(net.raw_update(-2), net.raw_update(-2, reference=True))
    torch.testing.assert_close(net.raw_update(1), grads[1].weight)  # no penalties here
    fa = _net(sizes, "feedback_alignment")
    _grads(fa, x, y)
    assert not torch.allclose(fa.raw_update(-2), fa.raw_update(-2, reference=True))
    with pytest.raises(ConfigError, match="layer must index one of the 3 layers, got 3"):
        fa.raw_update(3)


def test_unknown_pathway_and_mismatched_sizes_are_one_line_config_errors():
    with pytest.raises(ConfigError, match="unknown feedback pathway 'target_prop'") as info:
        Network.from_sizes([3, 4, 2], pathway="target_prop")
    assert "\n" not in str(info.value)
    assert all(name in str(info.value) for name in PATHWAYS)
    with pytest.raises(ConfigError, match="built for sizes"):
        Network.from_sizes([3, 4, 2], pathway=FeedbackAlignment([3, 5, 2]))
    with pytest.raises(ConfigError, match="shapes"):
        FeedbackAlignment([3, 4, 2]).set_matrices_([torch.zeros(4, 2)])
    with pytest.raises(ConfigError, match="sizes"):
        FeedbackAlignment([3])
