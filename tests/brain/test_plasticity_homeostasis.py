"""Homeostasis: synaptic scaling holds LIF neurons at a target rate from far below and far above
it; the adaptive threshold follows its closed form and drives an LIF exactly as the LIF's own θ."""

from __future__ import annotations

import math

import pytest
import torch

from neurotwin.brain.neurons import LIF, LIFParams
from neurotwin.brain.plasticity import AdaptiveThreshold, SynapticScaling, synaptic_scaling_dw
from neurotwin.brain.synapses import connect
from neurotwin.core import Synapses

TARGET_HZ, DT_MS = 20.0, 1.0


pytestmark = pytest.mark.usefixtures("one_thread")


def _poisson_driven_rates(scaling: bool, settle_steps: int, measure_steps: int) -> list[float]:
    """Rates (Hz) of two LIF neurons, each driven by about 30 of 60 Poisson inputs at 10 Hz through
    weights of 2 nA (too weak for 20 Hz) and 10 nA (too strong), over the last ``measure_steps``
    steps of 8 parallel trials."""
    gen = torch.Generator().manual_seed(0)
    n_in, batch = 60, 8
    syn = Synapses(n_in, 2, bias=False, init="zeros", w_min=0.0)
    with torch.no_grad():
        syn.mask.copy_(connect("fixed_probability", n_in, 2, p=0.5, generator=gen))
        syn.weight.copy_(torch.tensor([[2.0], [10.0]]).expand(2, n_in))
    lif = LIF(2, LIFParams(), dt_ms=DT_MS)
    lif.reset(batch)
    homeostasis = SynapticScaling(
        2, target_rate_hz=TARGET_HZ, tau_rate_ms=200.0, tau_scaling_ms=1000.0, dt_ms=DT_MS
    )
    counts = torch.zeros(2)
    with torch.no_grad():
        for step in range(settle_steps + measure_steps):
            pre = (torch.rand(batch, n_in, generator=gen) < 10.0 * DT_MS / 1000).float()
            spikes = lif(syn(pre))
            if scaling:
                homeostasis.update_(syn, spikes)
            if step >= settle_steps:
                counts += spikes.sum(0)
    return (counts / (batch * measure_steps * DT_MS / 1000)).tolist()


def test_synaptic_scaling_holds_lif_rates_within_ten_percent_of_the_target():
    weak, strong = _poisson_driven_rates(scaling=False, settle_steps=0, measure_steps=1000)
    assert weak < 0.5 * TARGET_HZ and strong > 2 * TARGET_HZ  # the control is far off
    for rate in _poisson_driven_rates(scaling=True, settle_steps=5000, measure_steps=3000):
        assert rate == pytest.approx(TARGET_HZ, rel=0.10)


def test_scaling_is_multiplicative_and_signed_by_the_rate_error():
    weight = torch.tensor([[1.0, 2.0], [4.0, 0.0]])
    rate = torch.tensor([10.0, 30.0])  # target 20 Hz: 50 % below, 50 % above
    dw = synaptic_scaling_dw(weight, rate, target_rate_hz=20.0, tau_scaling_ms=100.0, dt_ms=1.0)
    assert torch.allclose(dw, torch.tensor([[0.005, 0.01], [-0.02, 0.0]]))


def test_adaptive_threshold_accumulates_and_decays_as_its_closed_form():
    theta = AdaptiveThreshold(1, theta_plus_mV=0.5, tau_theta_ms=100.0, dt_ms=1.0)
    for t in range(50):  # a spike every 10 steps, at t = 0, 10, …, 40
        theta.step(torch.tensor([[1.0 if t % 10 == 0 else 0.0]]))
    a = math.exp(-1 / 100)
    expected = 0.5 * sum(a ** (49 - s) for s in range(0, 50, 10))
    assert theta.theta_mV.item() == pytest.approx(expected, rel=1e-6)


def test_adaptive_threshold_drives_an_lif_as_its_built_in_theta():
    params = LIFParams(theta_plus_mV=2.0, tau_theta_ms=50.0)
    built_in, plain = (
        LIF(1, params, dt_ms=DT_MS),
        LIF(1, params.with_(theta_plus_mV=0.0), dt_ms=DT_MS),
    )
    built_in.reset(1)
    plain.reset(1)
    theta = AdaptiveThreshold(1, theta_plus_mV=2.0, tau_theta_ms=50.0, dt_ms=DT_MS)
    current = torch.full((1, 1), 2.5)  # v_inf = −40 mV
    a, b = [], []
    for _ in range(500):
        a.append(built_in(current).item())
        plain.state = plain.state._replace(theta_mV=theta.theta_mV.expand(1, 1).clone())
        b.append(plain(current).item())
        theta.step(torch.tensor([[b[-1]]]))
    assert a == b
    assert 0 < sum(a) < 0.8 * params.rate_hz(2.5) * 0.5  # slower than without θ (closed form)
