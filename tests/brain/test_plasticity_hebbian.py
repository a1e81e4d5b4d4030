"""Hebbian and error-modulated weight changes: a hand-computed case, and the delta rule reaching the
least-squares solution of a linear regression."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurotwin.brain.plasticity import error_modulated_dw, hebbian_dw
from neurotwin.core import Synapses

pytestmark = pytest.mark.usefixtures("one_thread")


def test_hebbian_change_is_the_batch_mean_of_post_times_pre():
    pre = torch.tensor([[1.0, 0.0, 2.0], [1.0, 1.0, 0.0]])
    post = torch.tensor([[2.0, 1.0], [0.0, 3.0]])
    # ⟨y_i x_j⟩: row 0 = (2·[1, 0, 2] + 0·[1, 1, 0]) / 2, row 1 = (1·[1, 0, 2] + 3·[1, 1, 0]) / 2
    expected = 0.5 * torch.tensor([[1.0, 0.0, 2.0], [2.0, 1.5, 1.0]])
    assert torch.allclose(hebbian_dw(pre, post, lr=0.5), expected)


def test_delta_rule_reaches_the_least_squares_weights():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 4))
    true_w = np.array([[0.5, -1.0, 2.0, 0.0], [1.5, 0.3, -0.7, 1.0]])
    Y = X @ true_w.T + 0.1 * rng.standard_normal((500, 2))
    lstsq = np.linalg.lstsq(X, Y, rcond=None)[0].T
    x, y = torch.tensor(X), torch.tensor(Y)
    syn = Synapses(4, 2, bias=False, init="zeros").double()
    for _ in range(300):
        error = y - syn(x)  # δ = target − output
        syn.apply_dw_(error_modulated_dw(x, error, lr=0.2).detach())
    assert syn.weight.detach().numpy() == pytest.approx(lstsq, abs=1e-6)
