"""Izhikevich (2003) neurons: each preset's firing pattern (the paper's fig. 2), the integrators'
accuracy against a converged run, and parameter validation."""

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from neurotwin.brain.neurons import Izhikevich, IzhikevichParams, IzhikevichState, izhikevich_step
from neurotwin.brain.neurons.izhikevich import DEFAULT_DT_MS, MAX_DT_MS, PRESETS
from neurotwin.errors import ConfigError

DT = 0.1  # the patterns are the same at the default 0.05 ms; 0.1 ms keeps these tests fast
BURST_ISI_MS = 10.0  # spikes closer than this belong to one burst


def _spike_times(params, currents, dt_ms=DT):
    """Spike times (ms) of one neuron per column of ``currents`` (T, batch), in float64."""
    group = Izhikevich(1, params, dt_ms=dt_ms, step_mode="m")
    group.reset(currents.shape[1], dtype=torch.float64)
    spikes = group(torch.as_tensor(currents, dtype=torch.float64)[:, :, None])[:, :, 0].numpy()
    return [np.flatnonzero(spikes[:, b]) * dt_ms for b in range(currents.shape[1])]


def _step_current(amplitude, duration_ms, dt_ms=DT):
    return np.full((round(duration_ms / dt_ms), 1), amplitude)


def _bursts(times):
    """Sizes of the groups of spikes separated by less than BURST_ISI_MS."""
    sizes = [1]
    for isi in np.diff(times):
        if isi < BURST_ISI_MS:
            sizes[-1] += 1
        else:
            sizes.append(1)
    return sizes


@pytest.fixture(scope="module")
def at_10():
    """Spike times of every preset under I = 10 for 300 ms (the paper's fig. 2 protocol)."""
    return {
        name: _spike_times(IzhikevichParams.preset(name), _step_current(10.0, 300.0))[0]
        for name in PRESETS
    }


def test_regular_spiking_fires_single_spikes_whose_rate_adapts(at_10):
    isi = np.diff(at_10["regular_spiking"])
    assert len(isi) >= 5
    assert isi.min() > BURST_ISI_MS  # no bursts
    assert isi[-1] > 1.5 * isi[0]  # the rate adapts...
    late = isi[2:]
    assert late.std() / late.mean() < 0.05  # ...to a regular train


def test_fast_spiking_fires_fast_with_little_adaptation(at_10):
    fs, rs = np.diff(at_10["fast_spiking"]), np.diff(at_10["regular_spiking"])
    assert 1000.0 / fs[-1] > 100.0  # > 100 Hz
    assert 1000.0 / fs[-1] > 4 * 1000.0 / rs[-1]
    assert fs.max() < 2 * fs.min()  # no bursts, no pauses
    late = fs[3:]
    assert late.std() / late.mean() < 0.05


def test_chattering_fires_repeated_bursts(at_10):
    sizes = _bursts(at_10["chattering"])
    assert len(sizes) >= 4
    assert all(size >= 2 for size in sizes[:-1])  # the last may be cut by the end of the run
    isi = np.diff(at_10["chattering"])
    assert isi[isi < BURST_ISI_MS].max() < 6.0 and isi[isi >= BURST_ISI_MS].min() > 30.0


def test_intrinsically_bursting_fires_one_burst_then_single_spikes(at_10):
    sizes = _bursts(at_10["intrinsically_bursting"])
    assert sizes[0] >= 2
    assert len(sizes) >= 5 and all(size == 1 for size in sizes[1:])


def test_low_threshold_spiking_fires_where_regular_spiking_is_silent():
    lts = IzhikevichParams.low_threshold_spiking()
    rs = IzhikevichParams.regular_spiking()
    current = _step_current(2.0, 300.0)
    assert len(_spike_times(rs, current)[0]) == 0
    assert len(_spike_times(lts, current)[0]) >= 4


def test_low_threshold_spiking_adapts_and_rebounds_from_inhibition(at_10):
    isi = np.diff(at_10["low_threshold_spiking"])
    assert isi[-1] > 2 * isi[0]
    # 100 ms of inhibition (I = -10) from t = 20 ms, then release: a rebound spike, within 20 ms
    current = np.zeros((round(200 / DT), 1))
    current[round(20 / DT) : round(120 / DT)] = -10.0
    lts_times = _spike_times(IzhikevichParams.low_threshold_spiking(), current)[0]
    rs_times = _spike_times(IzhikevichParams.regular_spiking(), current)[0]
    assert len(lts_times) >= 1 and 120.0 < lts_times[0] < 140.0
    assert len(rs_times) == 0


def _converged_spike_times(params, current, n_spikes, duration_ms):
    """Forward Euler at dt = 0.001 ms in numpy: a reference independent of the torch step."""
    dt = 0.001
    v, times = params.v_init_mV, []
    u = params.b * v
    for k in range(round(duration_ms / dt)):
        dv = 0.04 * v * v + 5 * v + 140 - u + current
        v, u = v + dt * dv, u + dt * params.a * (params.b * v - u)
        if v >= params.v_peak_mV:
            times.append(k * dt)
            v, u = params.c_mV, u + params.d
            if len(times) == n_spikes:
                break
    return np.array(times)


@pytest.mark.slow
@pytest.mark.parametrize("name", PRESETS)
def test_default_integrator_is_within_half_a_millisecond_of_a_converged_run(name):
    params = IzhikevichParams.preset(name)
    expected = _converged_spike_times(params, 10.0, 5, 200.0)
    current = _step_current(10.0, 200.0, DEFAULT_DT_MS)
    got = _spike_times(params, current, DEFAULT_DT_MS)[0][:5]
    assert np.abs(got - expected).max() < 0.5


def test_euler_is_first_order_and_rk4_fourth_order_below_threshold():
    """v after 5 ms from (v, u) = (-60, -14) at I = 3, against scipy's solve_ivp at rtol 1e-12:
    halving dt divides Euler's error by 2 and RK4's by 16."""
    params = IzhikevichParams.regular_spiking()

    def rhs(_t, y):
        v, u = y
        return [0.04 * v * v + 5 * v + 140 - u + 3.0, params.a * (params.b * v - u)]

    exact = solve_ivp(rhs, (0.0, 5.0), [-60.0, -14.0], method="DOP853", rtol=1e-12, atol=1e-12)
    errors = {}
    for integration in ("euler", "rk4"):
        for dt in (0.1, 0.05):
            state = IzhikevichState(
                torch.full((1, 1), -60.0, dtype=torch.float64),
                torch.full((1, 1), -14.0, dtype=torch.float64),
            )
            current = torch.full((1, 1), 3.0, dtype=torch.float64)
            p = params.with_(integration=integration)
            for _ in range(round(5.0 / dt)):
                state, _ = izhikevich_step(state, current, p, dt)
            errors[integration, dt] = abs(state.v_mV.item() - exact.y[0, -1])
    assert 1.8 < errors["euler", 0.1] / errors["euler", 0.05] < 2.2
    assert 13.0 < errors["rk4", 0.1] / errors["rk4", 0.05] < 19.0


def test_spike_resets_v_and_bumps_u():
    params = IzhikevichParams.chattering()
    state = Izhikevich(1, params).reset(1, dtype=torch.float64)
    state = state._replace(v_mV=torch.full((1, 1), 29.99, dtype=torch.float64))
    new, spikes = izhikevich_step(state, torch.full((1, 1), 10.0).double(), params, DEFAULT_DT_MS)
    assert spikes.item() == 1.0 and new.v_mV.item() == params.c_mV
    assert new.u.item() > state.u.item() + params.d - 0.5  # d, plus a little recovery


def test_preset_by_name_and_unknown_name():
    assert IzhikevichParams.preset("fast_spiking") == IzhikevichParams(a=0.1, d=2.0)
    with pytest.raises(ConfigError, match="unknown Izhikevich preset 'burst'.*chattering"):
        IzhikevichParams.preset("burst")


@pytest.mark.parametrize(
    ("change", "dt_ms", "message"),
    [
        ({}, MAX_DT_MS * 2, r"dt_ms = 1 is too large.*dt_ms <= 0.5"),
        ({}, 0.0, "dt_ms must be a finite number > 0"),
        ({"a": -0.02}, DT, "a must be a finite number > 0"),
        ({"c_mV": 35.0}, DT, r"c_mV \(35\) must be below v_peak_mV \(30\)"),
        ({"d": float("nan")}, DT, "d must be a finite number"),
        ({"integration": "rk45"}, DT, "unknown integration 'rk45'.*rk4, euler"),
    ],
)
def test_bad_parameters_are_refused_with_the_value_and_the_limit(change, dt_ms, message):
    with pytest.raises(ConfigError, match=message):
        Izhikevich(3, IzhikevichParams().with_(**change), dt_ms=dt_ms)
