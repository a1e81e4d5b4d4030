"""BCM with a sliding threshold turns a neuron that answers two input patterns equally into one
that answers only one of them."""

from __future__ import annotations

import pytest
import torch

from neurotwin.brain.plasticity import BCM, bcm_dw, bcm_theta_step
from neurotwin.core import Synapses

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("seed", [0, 4])
def test_bcm_from_a_symmetric_start_becomes_selective(seed):
    patterns = torch.tensor([[1.0, 0.3], [0.3, 1.0]], dtype=torch.float64)
    syn = Synapses(2, 1, bias=False, init="zeros").double()
    with torch.no_grad():
        syn.weight.fill_(0.5)  # both patterns give y = 0.65
    bcm = BCM(1, lr=0.02, tau_theta_ms=20.0, dt_ms=1.0).double()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(2500):
        x = patterns[torch.randint(0, 2, (1,), generator=gen)]
        bcm.update_(syn, x, torch.relu(syn(x)))
    responses = torch.relu(syn(patterns)).squeeze(1).detach()
    assert responses.max() >= 3 * responses.min()
    assert responses.max() > 0.5  # selective, not silent


def test_bcm_potentiates_above_the_threshold_and_depresses_below():
    x = torch.tensor([[1.0, 2.0]])
    theta = torch.tensor([1.0, 1.0])
    y = torch.tensor([[2.0, 0.5]])  # φ = y(y − θ): 2·1 = 2 and 0.5·(−0.5) = −0.25
    expected = 0.1 * torch.tensor([[2.0, 4.0], [-0.25, -0.5]])
    assert torch.allclose(bcm_dw(x, y, theta, lr=0.1), expected)


def test_threshold_relaxes_exactly_to_the_mean_squared_response():
    theta, y = torch.tensor([0.0]), torch.tensor([[2.0], [0.0]])  # ⟨y²⟩ = 2
    for _ in range(10):
        theta = bcm_theta_step(theta, y, tau_theta_ms=5.0, dt_ms=1.0)
    assert theta.item() == pytest.approx(2.0 * (1 - torch.exp(torch.tensor(-2.0)).item()))
