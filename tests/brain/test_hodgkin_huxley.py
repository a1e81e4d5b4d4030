"""Hodgkin–Huxley (1952) neurons: rest, the action potential, the all-or-none threshold, the onset of
repetitive firing (a type II neuron: it starts at a finite rate), and numerical safety."""

import numpy as np
import pytest
import torch

from neurotwin.brain.neurons import HodgkinHuxley, HodgkinHuxleyParams, hodgkin_huxley_step
from neurotwin.brain.neurons.hodgkin_huxley import MAX_DT_MS, rates
from neurotwin.errors import ConfigError

DT = 0.01


def _run(currents, dt_ms=DT, start_v_mV=None, dtype=torch.float64):
    """Run one neuron per column of ``currents`` (T, batch) in µA/cm²; returns spikes and v, both
    (T, batch) numpy arrays."""
    currents = torch.as_tensor(currents, dtype=dtype)
    group = HodgkinHuxley(1, dt_ms=dt_ms)
    state = group.reset(currents.shape[1], dtype=dtype)
    if start_v_mV is not None:
        state = state._replace(v_mV=torch.as_tensor(start_v_mV, dtype=dtype).reshape(-1, 1))
    spikes, v = torch.empty_like(currents), torch.empty_like(currents)
    for t in range(currents.shape[0]):
        state, s = hodgkin_huxley_step(state, currents[t, :, None], group.params, dt_ms)
        spikes[t], v[t] = s[:, 0], state.v_mV[:, 0]
    return spikes.numpy(), v.numpy()


def test_rests_within_1_mV_of_minus_65():
    # start at, below and a little above rest (gates at their steady state for -65 mV)
    spikes, v = _run(np.zeros((round(30 / DT), 3)), start_v_mV=[-70.0, -65.0, -62.0])
    assert spikes.sum() == 0
    assert np.abs(v[-1] + 65.0).max() < 1.0


def test_a_brief_pulse_has_a_threshold_and_the_spike_peaks_above_30_mV():
    """1 ms pulses: none below 6 µA/cm² fires, every one from 7 µA/cm² fires exactly once."""
    amplitudes = np.array([1.0, 3.0, 5.0, 6.0, 7.0, 10.0, 20.0, 40.0])
    currents = np.zeros((round(20 / DT), len(amplitudes)))
    currents[: round(1 / DT)] = amplitudes
    spikes, v = _run(currents)
    np.testing.assert_array_equal(spikes.sum(0), [0, 0, 0, 0, 1, 1, 1, 1])
    fired = spikes.sum(0) == 1
    assert (v.max(0)[fired] > 30.0).all() and (v.max(0)[fired] < 50.0).all()  # below E_Na
    assert (v.max(0)[~fired] < -50.0).all()


def _onset(dt_ms, duration_ms, currents):
    """For each step current: is the neuron still firing in the last 50 ms, and its first rate (Hz,
    from the first inter-spike interval)."""
    spikes, _ = _run(np.tile(currents, (round(duration_ms / dt_ms), 1)), dt_ms=dt_ms)
    sustained, first_rate = [], []
    for b in range(len(currents)):
        times = np.flatnonzero(spikes[:, b]) * dt_ms
        sustained.append(len(times) > 0 and times[-1] > duration_ms - 50.0)
        first_rate.append(1000.0 / (times[1] - times[0]) if len(times) > 1 else 0.0)
    return np.array(sustained), np.array(first_rate)


def _check_type_ii_onset(currents, sustained, first_rate):
    onset = currents[np.argmax(sustained)]
    assert sustained.any() and sustained[np.argmax(sustained) :].all()  # once on, stays on
    assert 6.0 <= onset <= 6.6
    assert (first_rate[sustained] >= 45.0).all()  # type II: no low rates
    assert 45.0 <= first_rate[np.argmax(sustained)] <= 60.0


def test_repetitive_firing_starts_near_6_3_uA_at_about_50_Hz():
    """A cheap version of the 550 ms scan below: 200 ms steps at the largest dt, 0.05 ms."""
    currents = np.round(np.arange(6.0, 6.61, 0.05), 2)
    sustained, first_rate = _onset(MAX_DT_MS, 200.0, currents)
    _check_type_ii_onset(currents, sustained, first_rate)


@pytest.mark.slow
def test_550_ms_scan_puts_the_onset_of_repetitive_firing_between_6_and_6_6_uA():
    currents = np.round(np.arange(5.0, 7.01, 0.05), 2)
    sustained, first_rate = _onset(DT, 550.0, currents)
    _check_type_ii_onset(currents, sustained, first_rate)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_no_nan_and_gates_stay_in_0_1_under_extreme_currents(dtype):
    group = HodgkinHuxley(6)
    state = group.reset(1, dtype=dtype)
    current = torch.tensor([[-100.0, 0.0, 6.3, 50.0, 200.0, 1000.0]], dtype=dtype)
    for k in range(round(10 / DT)):
        state, _ = hodgkin_huxley_step(state, current, group.params, DT)
        if k % 25 == 0 or k == round(10 / DT) - 1:  # a NaN, once in v, spreads to every field
            assert all(torch.isfinite(x).all() for x in state)
            assert all(((gate >= 0) & (gate <= 1)).all() for gate in state[1:])


def test_opening_rates_are_continuous_through_their_removable_singularities():
    """α_m(V) = 0.1 (V+40)/(1 − exp(−(V+40)/10)) → 1 at V = −40; α_n → 0.1 at V = −55."""
    for dtype in (torch.float32, torch.float64):
        v = torch.tensor([-40.0, -40.0 + 1e-6, -40.0 - 1e-3, -55.0, -55.0 + 1e-6], dtype=dtype)
        alpha_m, _, _, _, alpha_n, _ = rates(v)
        assert torch.isfinite(alpha_m).all() and torch.isfinite(alpha_n).all()
        np.testing.assert_allclose(alpha_m[:3].numpy(), [1.0, 1.0, 1.0 - 5e-5], rtol=1e-6)
        np.testing.assert_allclose(alpha_n[3:].numpy(), [0.1, 0.1], rtol=1e-6)
    # away from it, the textbook formula
    v = torch.tensor([-70.0, -20.0, 10.0], dtype=torch.float64)
    alpha_m, *_ = rates(v)
    textbook = 0.1 * (v + 40) / (1 - torch.exp(-(v + 40) / 10))
    torch.testing.assert_close(alpha_m, textbook, rtol=1e-12, atol=0)


def test_bad_parameters_are_refused():
    with pytest.raises(ConfigError, match=r"dt_ms = 0.1 is too large.*dt_ms <= 0.05"):
        HodgkinHuxley(1, dt_ms=0.1)
    assert MAX_DT_MS == 0.05
    with pytest.raises(ConfigError, match="g_k_mS_per_cm2 must be a finite number > 0"):
        HodgkinHuxley(1, HodgkinHuxleyParams(g_k_mS_per_cm2=-36.0))
    with pytest.raises(ConfigError, match="e_k_mV < v_spike_mV < e_na_mV"):
        HodgkinHuxley(1, HodgkinHuxleyParams(v_spike_mV=60.0))
