"""Pair-based trace STDP: the learning window driven by single spike pairs fits back its time
constants and amplitudes; soft bounds, nearest-spike interactions and Diehl & Cook (2015)'s rule
against their closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import curve_fit

from neurotwin.brain.plasticity import STDP, DiehlCookParams, DiehlCookSTDP, STDPParams
from neurotwin.core import Synapses

DT_MS = 0.5


pytestmark = pytest.mark.usefixtures("one_thread")


def _trains(times_ms: list[list[float]], n_steps: int) -> torch.Tensor:
    """0/1 spikes (n_steps, n) of neurons firing at the given times (ms), in float64."""
    spikes = torch.zeros(n_steps, len(times_ms), dtype=torch.float64)
    for neuron, times in enumerate(times_ms):
        for t in times:
            spikes[round(t / DT_MS), neuron] = 1.0
    return spikes


def _run(rule, pre_times, post_times, weight: torch.Tensor, n_steps: int) -> torch.Tensor:
    """Σ over the steps of Δw (post, pre), with the weight held fixed (one sample)."""
    pre, post = _trains(pre_times, n_steps), _trains(post_times, n_steps)
    total = torch.zeros_like(weight)
    for t in range(n_steps):
        total += rule.step(pre[t : t + 1], post[t : t + 1], weight)
    return total


def _window(params: STDPParams, w0: float = 0.5):
    """Δw against Δt = t_post − t_pre from −100 to +100 ms: one presynaptic spike at 110 ms and one
    postsynaptic neuron per Δt, each firing once at 110 ms + Δt."""
    delta_t = np.array([d for d in np.arange(-100.0, 100.5, 2.0) if d != 0])
    rule = STDP(1, len(delta_t), params, dt_ms=DT_MS)
    weight = torch.full((len(delta_t), 1), w0, dtype=torch.float64)
    dw = _run(rule, [[110.0]], [[110.0 + d] for d in delta_t], weight, n_steps=450)
    return delta_t, dw[:, 0].numpy()


def _fit(delta_t: np.ndarray, dw: np.ndarray):
    def exp_decay(d, a, tau):
        return a * np.exp(-d / tau)

    (a_plus, tau_plus), _ = curve_fit(
        exp_decay, delta_t[delta_t > 0], dw[delta_t > 0], p0=(1e-3, 10)
    )
    (a_minus, tau_minus), _ = curve_fit(
        exp_decay, -delta_t[delta_t < 0], -dw[delta_t < 0], p0=(1e-3, 10)
    )
    return a_plus, tau_plus, a_minus, tau_minus


def test_the_learning_window_fits_back_its_time_constants_and_amplitudes():
    params = STDPParams(tau_plus_ms=16.8, tau_minus_ms=33.7, a_plus=0.01, a_minus=0.0051)
    delta_t, dw = _window(params)
    a_plus, tau_plus, a_minus, tau_minus = _fit(delta_t, dw)
    assert tau_plus == pytest.approx(16.8, rel=0.05)
    assert tau_minus == pytest.approx(33.7, rel=0.05)
    assert a_plus == pytest.approx(0.01, rel=0.05)
    assert a_minus == pytest.approx(0.0051, rel=0.05)
    assert (dw[delta_t > 0] > 0).all() and (dw[delta_t < 0] < 0).all()


def test_multiplicative_amplitudes_scale_with_the_distance_to_the_bounds():
    params = STDPParams.multiplicative(w_min=0.0, w_max=2.0, a_plus=0.01, a_minus=0.01)
    delta_t, dw = _window(params, w0=0.5)
    a_plus, tau_plus, a_minus, tau_minus = _fit(delta_t, dw)
    assert a_plus == pytest.approx(0.01 * (2.0 - 0.5), rel=0.05)  # A₊ (w_max − w)
    assert a_minus == pytest.approx(0.01 * (0.5 - 0.0), rel=0.05)  # A₋ (w − w_min)
    assert tau_plus == pytest.approx(20.0, rel=0.05) and tau_minus == pytest.approx(20.0, rel=0.05)


def test_soft_bounds_approach_w_max_geometrically_and_never_cross_it():
    params = STDPParams.multiplicative(a_plus=0.2, a_minus=0.0, w_max=1.0, interaction="nearest")
    syn = Synapses(1, 1, bias=False, init="zeros").double()
    rule = STDP(1, 1, params, dt_ms=1.0)
    pre, post, silent = (torch.tensor([[v]], dtype=torch.float64) for v in (1.0, 1.0, 0.0))
    for _ in range(30):  # 30 pairs, Δt = 5 ms, 100 ms apart
        rule.update_(syn, pre, silent)
        for t in range(1, 100):
            rule.update_(syn, silent, post if t == 5 else silent)
    gain = 0.2 * math.exp(-5 / 20)
    # each pair: w_max − w ← (w_max − w)(1 − A₊ e^{−Δt/τ₊}) (nearest: only its own pre spike counts)
    assert syn.weight.item() == pytest.approx(1.0 - (1 - gain) ** 30, rel=1e-6)
    assert syn.weight.item() < 1.0


@pytest.mark.parametrize(
    ("interaction", "expected"),
    [("all_to_all", math.exp(-20 / 20) + math.exp(-10 / 20)), ("nearest", math.exp(-10 / 20))],
)
def test_nearest_spike_pairs_only_with_the_latest_presynaptic_spike(interaction, expected):
    params = STDPParams(a_plus=1.0, a_minus=0.0, interaction=interaction)
    rule = STDP(1, 1, params, dt_ms=DT_MS)
    dw = _run(rule, [[10.0, 20.0]], [[30.0]], torch.zeros(1, 1, dtype=torch.float64), 80)
    assert dw.item() == pytest.approx(expected, rel=1e-9)


def test_simultaneous_spikes_do_not_pair():
    rule = STDP(1, 1, STDPParams(), dt_ms=DT_MS)
    dw = _run(rule, [[5.0]], [[5.0]], torch.zeros(1, 1, dtype=torch.float64), 20)
    assert dw.item() == 0.0


def test_a_batch_averages_the_changes_of_its_samples():
    params, n = STDPParams(), 60
    pre = _trains([[3.0], [9.0]], n).T.reshape(2, 1, n)  # sample 0: pre at 3 ms; 1: at 9 ms
    post = _trains([[9.0], [3.0]], n).T.reshape(2, 1, n)
    alone = []
    for s in range(2):
        rule = STDP(1, 1, params, dt_ms=DT_MS)
        alone.append(
            sum(rule.step(pre[s, :, t : t + 1].T, post[s, :, t : t + 1].T) for t in range(n))
        )
    rule = STDP(1, 1, params, dt_ms=DT_MS)
    both = sum(rule.step(pre[:, 0, t : t + 1], post[:, 0, t : t + 1]) for t in range(n))
    assert both.item() == pytest.approx((alone[0].item() + alone[1].item()) / 2, rel=1e-12)


def test_additive_stdp_respects_the_mask_and_the_hard_bound_of_the_synapses():
    syn = Synapses(2, 1, bias=False, init="zeros", w_min=0.0, w_max=0.01)
    with torch.no_grad():
        syn.mask[0, 1] = False
    rule = STDP(2, 1, STDPParams(a_plus=0.05, a_minus=0.0), dt_ms=1.0)
    rule.update_(syn, torch.ones(1, 2), torch.zeros(1, 1))
    rule.update_(syn, torch.zeros(1, 2), torch.ones(1, 1))  # Δw = 0.05 e^{−1/20} each
    assert syn.weight.tolist() == [[pytest.approx(0.01), 0.0]]


# --- Diehl & Cook (2015) ------------------------------------------------------------------------


def test_diehl_cook_pairs_follow_their_closed_form():
    p = DiehlCookParams(x_tar=0.1, mu=1.0, w_max=1.0)
    w = torch.full((1, 1), 0.4, dtype=torch.float64)
    before = _run(DiehlCookSTDP(1, 1, p, dt_ms=DT_MS), [[10.0]], [[25.0]], w, 80)
    after = _run(DiehlCookSTDP(1, 1, p, dt_ms=DT_MS), [[25.0]], [[10.0]], w, 80)
    # post spike: ν_post (x_pre − x_tar)(w_max − w)^μ; pre spike: −ν_pre x_post
    assert before.item() == pytest.approx(1e-2 * (math.exp(-15 / 20) - 0.1) * 0.6, rel=1e-9)
    # the post spike comes first, with x_pre = 0: the offset alone depresses
    expected = 1e-2 * (0.0 - 0.1) * 0.6 - 1e-4 * math.exp(-15 / 20)
    assert after.item() == pytest.approx(expected, rel=1e-9)


def test_diehl_cook_offset_depresses_inputs_silent_before_a_post_spike():
    rule = DiehlCookSTDP(2, 1, DiehlCookParams(x_tar=0.4), dt_ms=DT_MS)
    dw = _run(rule, [[5.0], []], [[10.0]], torch.zeros(1, 2, dtype=torch.float64), 30)
    assert dw[0, 0] > 0 and dw[0, 1].item() == pytest.approx(-1e-2 * 0.4)


def test_diehl_cook_triplet_term_needs_an_earlier_post_spike():
    p = DiehlCookParams(tau_post2_ms=40.0)
    w = torch.zeros(1, 1, dtype=torch.float64)
    one_post = _run(DiehlCookSTDP(1, 1, p, dt_ms=DT_MS), [[20.0]], [[25.0]], w, 80)
    two_post = _run(DiehlCookSTDP(1, 1, p, dt_ms=DT_MS), [[20.0]], [[15.0, 25.0]], w, 80)
    assert one_post.item() == 0.0  # the slow trace is 0 just before the only post spike
    # second post spike: ν_post · x_pre(5 ms) · x_post2(10 ms); the pre spike: −ν_pre · x_post(5 ms)
    expected = 1e-2 * math.exp(-5 / 20) * math.exp(-10 / 40) - 1e-4 * math.exp(-5 / 20)
    assert two_post.item() == pytest.approx(expected, rel=1e-9)
