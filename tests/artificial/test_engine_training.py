"""Training smoke test: on three concentric rings (not linearly separable, chance 1/3) the engine
learns with backprop, and with feedback alignment, whose updates come to lie within 90° of the true
gradient (Lillicrap et al., 2016)."""

import math

import pytest
import torch

from neurotwin.artificial.engine import Network, get_loss, make_optimiser

LOSS = get_loss("cross_entropy")


pytestmark = pytest.mark.usefixtures("one_thread")


def _rings(n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Points at radius 1 + class (± 0.25 noise) in the plane, classes 0, 1, 2."""
    label = torch.randint(0, 3, (n,), generator=gen)
    radius = 1.0 + label + 0.25 * torch.randn(n, generator=gen)
    angle = 2 * math.pi * torch.rand(n, generator=gen)
    return torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1), label


def _angle_deg(a: torch.Tensor, b: torch.Tensor) -> float:
    cos = (a * b).sum() / (a.norm() * b.norm())
    return math.degrees(math.acos(float(cos.clamp(-1, 1))))


def _train(pathway: str) -> tuple[float, float, float]:
    """(test accuracy, angle to backprop at the start, at the end) after 30 epochs of Adam."""
    data_gen = torch.Generator().manual_seed(0)
    X, y = _rings(600, data_gen)
    X_test, y_test = _rings(300, data_gen)
    gen = torch.Generator().manual_seed(1)
    net = Network.from_sizes([2, 32, 32, 3], pathway=pathway, generator=gen)
    opt = make_optimiser("adam", 0.01)

    def angle_now() -> float:
        net.backward(LOSS.gradient(net(X), y))
        return _angle_deg(net.raw_update(-2), net.raw_update(-2, reference=True))

    start = angle_now()
    for _ in range(30):
        order = torch.randperm(len(X), generator=gen)
        for first in range(0, len(X), 32):
            idx = order[first : first + 32]
            out = net(X[idx], train=True, generator=gen)
            net.apply_gradients_(net.backward(LOSS.gradient(out, y[idx])), opt)
    accuracy = float((net(X_test).argmax(1) == y_test).float().mean())
    return accuracy, start, angle_now()


def test_backprop_engine_learns_the_rings():
    accuracy, start, end = _train("backprop")
    assert accuracy > 0.9
    assert start < 0.1 and end < 0.1  # float32 rounding only


def test_feedback_alignment_learns_and_aligns_with_the_gradient():
    accuracy, start, end = _train("feedback_alignment")
    assert accuracy > 0.8  # chance is 1/3
    assert end < 80 and end < start - 5
