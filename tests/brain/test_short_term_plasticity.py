"""Tsodyks–Markram short-term plasticity: closed-form steady states, exact recovery, the switch
that turns facilitation off, and release scaling the transmitted weight."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
import torch

from neurotwin.brain.short_term import ShortTermPlasticity, TsodyksMarkramParams
from neurotwin.brain.synapses import CurrentProjection
from neurotwin.core import count_ops
from neurotwin.errors import ConfigError


def _regular_train_releases(params, rate_hz: float, dt_ms: float, n_spikes: int) -> list[float]:
    isi_steps = round(1000.0 / rate_hz / dt_ms)
    stp = ShortTermPlasticity(1, params, dt_ms=dt_ms)
    stp.reset(1, dtype=torch.float64)
    releases = []
    for t in range(isi_steps * (n_spikes - 1) + 1):
        spike = torch.tensor([[1.0 if t % isi_steps == 0 else 0.0]], dtype=torch.float64)
        r = stp.release(spike)
        if t % isi_steps == 0:
            releases.append(r.item())
    return releases


def _steady_state_release(
    U: float, tau_d_ms: float, tau_f_ms: float | None, isi_ms: float
) -> float:
    """u*·x* of a regular train, from the fixed point of the spike-to-spike recursion.

    Between spikes u⁻ = U + (u⁺_prev − U)a and x⁻ = 1 − (1 − x⁺_prev)b, a = e^{−T/τ_F},
    b = e^{−T/τ_D}; at a spike u⁺ = u⁻ + U(1 − u⁻) and x⁺ = x⁻(1 − u⁺). Setting u⁺ = u*:
    u* = U + (1 − U)(U + (u* − U)a)  ⇒  u* = U(1 + (1 − U)(1 − a)) / (1 − (1 − U)a);
    setting x⁻ = x*: x* = 1 − (1 − x*(1 − u*))b  ⇒  x* = (1 − b) / (1 − (1 − u*)b).
    Without facilitation u* = U. The release is u*·x*.
    """
    b = math.exp(-isi_ms / tau_d_ms)
    if tau_f_ms is None:
        u_star = U
    else:
        a = math.exp(-isi_ms / tau_f_ms)
        u_star = U * (1 + (1 - U) * (1 - a)) / (1 - (1 - U) * a)
    x_star = (1 - b) / (1 - (1 - u_star) * b)
    return u_star * x_star


@pytest.mark.parametrize("rate_hz", [5.0, 20.0, 50.0])
@pytest.mark.parametrize("preset", ["facilitating", "depressing"])
def test_steady_state_release_of_a_regular_train_matches_the_closed_form(preset, rate_hz):
    params = getattr(TsodyksMarkramParams, preset)()
    releases = _regular_train_releases(params, rate_hz, dt_ms=1.0, n_spikes=60)
    tau_f = params.tau_f_ms if params.facilitation else None
    expected = _steady_state_release(params.U, params.tau_d_ms, tau_f, 1000.0 / rate_hz)
    assert releases[-1] == pytest.approx(expected, rel=0.01)


def test_facilitating_synapses_grow_at_low_rates_and_depressing_ones_only_fall():
    fac = _regular_train_releases(TsodyksMarkramParams.facilitating(), 5.0, 1.0, 6)
    dep = _regular_train_releases(TsodyksMarkramParams.depressing(), 20.0, 1.0, 6)
    assert fac[0] == pytest.approx(0.2 + 0.2 * 0.8)  # u⁺ = U + U(1 − U), x = 1
    assert fac[1] > fac[0]
    assert dep[0] == pytest.approx(0.5)
    assert all(later < earlier for earlier, later in pairwise(dep))


def test_resources_recover_exactly_between_two_spikes():
    params = TsodyksMarkramParams.depressing()  # u ≡ U = 0.5
    for gap_steps in (1, 37, 800):
        stp = ShortTermPlasticity(1, params, dt_ms=1.0)
        stp.reset(1, dtype=torch.float64)
        first = stp.release(torch.ones(1, 1, dtype=torch.float64)).item()
        for _ in range(gap_steps - 1):
            stp.release(torch.zeros(1, 1, dtype=torch.float64))
        second = stp.release(torch.ones(1, 1, dtype=torch.float64)).item()
        x_minus = 1 - (1 - (1 - 0.5)) * math.exp(-gap_steps / 800.0)
        assert first == 0.5
        assert second == pytest.approx(0.5 * x_minus, rel=1e-12)


def test_event_driven_updates_equal_a_step_by_step_integration():
    params = TsodyksMarkramParams(U=0.3, tau_d_ms=40.0, tau_f_ms=90.0)
    dt, steps = 0.5, 400
    train = (torch.rand(steps, 3, 4, generator=torch.Generator().manual_seed(0)) < 0.05).double()
    stp = ShortTermPlasticity(4, params, dt_ms=dt)
    stp.reset(3, dtype=torch.float64)
    u = torch.full((3, 4), 0.3, dtype=torch.float64)
    x = torch.ones(3, 4, dtype=torch.float64)
    got, expected = [], []
    for t in range(steps):
        # independent reference: relax every synapse every step, then apply the spikes
        if t:
            u = 0.3 + (u - 0.3) * math.exp(-dt / 90.0)
            x = 1 - (1 - x) * math.exp(-dt / 40.0)
        s = train[t]
        u = torch.where(s > 0, u + 0.3 * (1 - u), u)
        expected.append(s * u * x)
        x = torch.where(s > 0, x - u * x, x)
        got.append(stp.release(s))
    torch.testing.assert_close(torch.stack(got), torch.stack(expected), rtol=1e-10, atol=1e-12)


def test_switching_facilitation_off_keeps_u_at_U():
    params = TsodyksMarkramParams.facilitating().without_facilitation()
    releases = _regular_train_releases(params, 20.0, 1.0, 10)
    assert releases[0] == pytest.approx(0.2)  # U x with x = 1: no jump
    assert all(later < earlier for earlier, later in pairwise(releases))
    stp = ShortTermPlasticity(2, params, dt_ms=1.0)
    stp.reset(1)
    stp.release(torch.ones(1, 2))
    assert torch.equal(stp.relaxed()[0], torch.full((1, 2), 0.2))


def test_samples_of_a_batch_are_independent():
    params = TsodyksMarkramParams.facilitating()
    stp = ShortTermPlasticity(1, params, dt_ms=1.0)
    stp.reset(2, dtype=torch.float64)
    stp.release(torch.tensor([[1.0], [0.0]], dtype=torch.float64))
    second = stp.release(torch.tensor([[1.0], [1.0]], dtype=torch.float64))
    assert second[1].item() == pytest.approx(0.36)  # sample 1's first spike
    assert second[0].item() != pytest.approx(0.36)


def test_release_scales_the_transmitted_weight_and_counts_macs():
    params = TsodyksMarkramParams.depressing()
    proj = CurrentProjection(2, 1, weight=2.0, dt_ms=1.0, tau_syn_ms=None, stp=params)
    with count_ops() as ops:
        proj.step(torch.tensor([[1.0, 0.0]]))
    second = proj.step(torch.tensor([[1.0, 0.0]])).item()
    assert second == pytest.approx(2.0 * 0.5)
    third = proj.step(torch.zeros(1, 2)).item()
    x_minus = 1 - 0.5 * math.exp(-1 / 800.0)
    assert third == pytest.approx(2.0 * 0.5 * x_minus, rel=1e-6)
    assert (ops.dense_mac, ops.effective_mac, ops.ac) == (2, 1, 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"U": 0.0}, r"U must be in \(0, 1\]"),
        ({"U": 1.5}, r"U must be in \(0, 1\]"),
        ({"tau_d_ms": -1.0}, "tau_d_ms must be a finite number > 0"),
        ({"tau_f_ms": math.nan}, "tau_f_ms must be a finite number > 0"),
    ],
)
def test_bad_parameters_are_refused(changes, message):
    with pytest.raises(ConfigError, match=message):
        ShortTermPlasticity(3, TsodyksMarkramParams().with_(**changes), dt_ms=1.0)
