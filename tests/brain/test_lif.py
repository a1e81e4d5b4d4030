"""Leaky integrate-and-fire neurons, current- and conductance-based: closed forms (rate, decay),
the refractory period, the adaptive threshold, convergence of the integrators, and validation."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from neurotwin.brain.neurons import (
    LIF,
    ConductanceLIF,
    LIFConductanceParams,
    LIFParams,
    LIFState,
    lif_step,
)
from neurotwin.errors import ConfigError, DataError


def _current_for_rate(p: LIFParams, rate_hz: float) -> float:
    """The constant current (nA) that fires at ``rate_hz``: the closed form solved for I."""
    x = math.exp((1000.0 / rate_hz - p.refractory_ms) / p.tau_m_ms)
    v_inf = (x * p.v_thresh_mV - p.v_reset_mV) / (x - 1.0)
    return (v_inf - p.v_rest_mV) / p.r_m_Mohm


def _run(group, currents):
    """Spikes and v of a multi-step run on ``currents`` (T, batch, n), in float64."""
    group.reset(currents.shape[1], dtype=torch.float64)
    vs, spikes = [], []
    for t in range(currents.shape[0]):
        spikes.append(group.single_step(currents[t]))
        vs.append(group.state.v_mV)
    return torch.stack(spikes).numpy(), torch.stack(vs).numpy()


def test_rate_under_constant_current_matches_the_closed_form_within_1_percent():
    p, dt = LIFParams(), 0.01
    targets = np.array([5.0, 10.0, 20.0, 50.0, 100.0, 200.0])
    currents = np.array([_current_for_rate(p, f) for f in targets])
    np.testing.assert_allclose([p.rate_hz(i) for i in currents], targets, rtol=1e-6)
    group = LIF(len(targets), p, dt_ms=dt, step_mode="m")
    # start just after a spike at step -1: v at reset and the refractory count set, as _fire leaves it
    state = group.reset(1, dtype=torch.float64)
    group.state = state._replace(
        refractory_steps=torch.full_like(state.v_mV, round(p.refractory_ms / dt) - 1)
    )
    duration = 1000.0 / targets.min() + 5.0  # one interval at 5 Hz, ~40 at 200 Hz
    current = torch.tensor(currents, dtype=torch.float64).expand(round(duration / dt), 1, -1)
    spikes = group(current)[:, 0].numpy()
    for j, f in enumerate(targets):
        times = np.concatenate([[-dt], np.flatnonzero(spikes[:, j]) * dt])
        assert len(times) >= 2
        assert 1000.0 / np.diff(times).mean() == pytest.approx(f, rel=0.01)


@pytest.mark.parametrize(
    ("dtype", "duration_ms", "tolerance"),
    # float32 holds v near -60 mV to about 4e-6 mV, so a relative 1e-5 holds while v - v_rest > ~3 mV
    [(torch.float64, 50.0, 1e-6), (torch.float32, 10.0, 1e-5)],
)
def test_without_input_v_relaxes_to_rest_as_exp_minus_t_over_tau(dtype, duration_ms, tolerance):
    p, dt = LIFParams(refractory_ms=0.0), 0.1
    offsets = torch.tensor([[10.0, -20.0]], dtype=torch.float64)  # above and below rest
    state = LIF(2, p, dt_ms=dt).reset(1, dtype=dtype)
    state = state._replace(v_mV=(p.v_rest_mV + offsets).to(dtype))
    zero = torch.zeros(1, 2, dtype=dtype)
    for k in range(1, round(duration_ms / dt) + 1):
        state, spikes = lif_step(state, zero, p, dt)
        expected = offsets * math.exp(-k * dt / p.tau_m_ms)
        got = state.v_mV.double() - p.v_rest_mV
        assert spikes.sum() == 0
        assert ((got - expected).abs() / expected.abs()).max() <= tolerance


def test_refractory_period_holds_v_at_reset():
    p, dt = LIFParams(refractory_ms=2.0), 0.1
    spikes, v = _run(LIF(1, p, dt_ms=dt), torch.full((300, 1, 1), 5.0, dtype=torch.float64))
    steps = np.flatnonzero(spikes[:, 0, 0])
    assert len(steps) >= 3
    hold = round(p.refractory_ms / dt)
    for k in steps[:-1]:
        # v at the end of steps k .. k+hold-1, i.e. over [t_k, t_k + 2 ms], is the reset value
        np.testing.assert_array_equal(v[k : k + hold, 0, 0], p.v_reset_mV)
        assert v[k + hold, 0, 0] > p.v_reset_mV  # then integrates again, as Brian2
    # with a 5 nA drive v would cross threshold in < 1 ms; the hold sets the inter-spike interval
    assert (np.diff(steps) > hold).all()


def test_adaptive_threshold_rises_by_theta_plus_per_spike_and_lowers_the_rate():
    plain, dt = LIFParams(), 0.1
    adaptive = plain.with_(theta_plus_mV=2.0, tau_theta_ms=1e7)
    current = torch.full((2000, 1, 1), 2.5, dtype=torch.float64)
    group = LIF(1, adaptive, dt_ms=dt)
    group.reset(1, dtype=torch.float64)
    theta, counts = [], 0
    for t in range(current.shape[0]):
        counts += group.single_step(current[t]).item()
        theta.append(group.state.theta_mV.item())
    decay = math.exp(-dt / adaptive.tau_theta_ms)  # ~1: theta barely decays over 200 ms
    assert theta[-1] == pytest.approx(counts * 2.0, rel=1e-4)
    assert max(np.diff(theta)) == pytest.approx(2.0, rel=1e-4) and decay > 0.99999
    plain_spikes, _ = _run(LIF(1, plain, dt_ms=dt), current)
    assert 0 < counts < 0.7 * plain_spikes.sum()


def test_conductance_pulse_follows_the_exponential_euler_recurrence_and_converges():
    """g_exc = 5 at t = 0, decaying with τ_exc; v from the recurrence written out in numpy, and as
    dt shrinks, towards scipy's solution of the ODE."""
    p = LIFConductanceParams.diehl_cook_excitatory()
    g0, duration = 5.0, 10.0

    def simulate(dt):
        group = ConductanceLIF(1, p, dt_ms=dt)
        group.reset(1, dtype=torch.float64)
        group.receive(g_exc=g0)
        zero = torch.zeros(1, 1, dtype=torch.float64)
        vs = [group.state.v_mV.item()]
        for _ in range(round(duration / dt)):
            assert group.single_step(zero).item() == 0
            vs.append(group.state.v_mV.item())
        return np.array(vs)

    dt = 0.1
    v, expected = simulate(dt), [p.v_rest_mV]
    for k in range(round(duration / dt)):
        g = g0 * math.exp(-k * dt / p.tau_exc_ms)
        v_inf = (p.v_rest_mV + g * p.e_exc_mV) / (1 + g)
        expected.append(v_inf + (expected[-1] - v_inf) * math.exp(-dt * (1 + g) / p.tau_m_ms))
    np.testing.assert_allclose(v, expected, rtol=0, atol=1e-10)
    assert v.max() > p.v_rest_mV + 2.0  # the pulse did depolarise the cell

    def rhs(t, y):
        g = g0 * math.exp(-t / p.tau_exc_ms)
        return [((p.v_rest_mV - y[0]) + g * (p.e_exc_mV - y[0])) / p.tau_m_ms]

    ode = solve_ivp(rhs, (0, duration), [p.v_rest_mV], rtol=1e-12, atol=1e-12, dense_output=True)
    errors = [abs(simulate(dt)[-1] - ode.sol(duration)[0]) for dt in (0.1, 0.05, 0.025)]
    # first order: the conductance is frozen over each step
    assert 1.8 < errors[0] / errors[1] < 2.2 and 1.8 < errors[1] / errors[2] < 2.2


def test_euler_converges_to_the_exact_step_as_dt_shrinks():
    """Below threshold, v(10 ms) under 1 nA: exact = the closed form, Euler's error halves with dt."""
    p = LIFParams()
    v_inf = p.v_rest_mV + p.r_m_Mohm * 1.0
    closed_form = v_inf + (p.v_rest_mV - v_inf) * math.exp(-10.0 / p.tau_m_ms)
    errors = []
    for dt in (0.1, 0.05, 0.025):
        currents = torch.ones((round(10.0 / dt), 1, 1), dtype=torch.float64)
        _, exact = _run(LIF(1, p, dt_ms=dt), currents)
        _, euler = _run(LIF(1, p.with_(integration="euler"), dt_ms=dt), currents)
        assert exact[-1, 0, 0] == pytest.approx(closed_form, abs=1e-12)
        errors.append(abs(euler[-1, 0, 0] - closed_form))
    assert 1.9 < errors[0] / errors[1] < 2.1 and 1.9 < errors[1] / errors[2] < 2.1


@pytest.mark.parametrize(
    ("params", "dt_ms", "message"),
    [
        (LIFParams(tau_m_ms=-10.0), 0.1, "tau_m_ms must be a finite number > 0, got -10.0"),
        (LIFParams(), 0.0, "dt_ms must be a finite number > 0, got 0.0"),
        (LIFParams(), 20.0, r"dt_ms = 20 is too large.*tau_m_ms = 10 needs dt_ms <= 10"),
        (LIFParams(v_reset_mV=-50.0), 0.1, r"v_reset_mV \(-50\) must be below v_thresh_mV \(-50\)"),
        (LIFParams(refractory_ms=0.05), 0.1, "refractory_ms = 0.05 is shorter than one step"),
        (LIFParams(integration="rk4"), 0.1, "unknown integration 'rk4'.*exact, euler"),
        (LIFConductanceParams(e_inh_mV=-40.0), 0.1, "e_inh_mV < v_thresh_mV < e_exc_mV"),
    ],
)
def test_bad_parameters_are_refused_with_the_value(params, dt_ms, message):
    group = ConductanceLIF if isinstance(params, LIFConductanceParams) else LIF
    with pytest.raises(ConfigError, match=message):
        group(3, params, dt_ms=dt_ms)


def test_bad_input_is_refused_with_the_shape_or_the_values():
    group = LIF(3)
    with pytest.raises(DataError, match="NaN or infinite"):
        group(torch.tensor([[0.0, float("nan"), 1.0]]))
    with pytest.raises(DataError, match=r"shape \(1, 4\); expected \(batch, n\) with n = 3"):
        group(torch.zeros(1, 4))
    with pytest.raises(DataError, match=r"expected \(T, batch, n\)"):
        LIF(3, step_mode="m")(torch.zeros(2, 3))
    with pytest.raises(DataError, match="floating-point"):
        group(torch.zeros(1, 3, dtype=torch.int64))
    with pytest.raises(ConfigError, match="n >= 1 neurons"):
        LIF(0)
    with pytest.raises(ConfigError, match="unknown step_mode 'x'"):
        LIF(1, step_mode="x")


def test_state_fields_are_batch_by_n():
    state = LIF(4).reset(3)
    assert isinstance(state, LIFState)
    assert all(field.shape == (3, 4) for field in state)
