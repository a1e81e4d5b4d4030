"""Monitors: exact records of small runs, and memory that stays at its cap over a million steps."""

from __future__ import annotations

import pytest
import torch

from neurotwin.brain.monitors import (
    MAX_SAMPLES,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
)
from neurotwin.brain.neurons.lif import LIF
from neurotwin.errors import ConfigError, DataError


def _pattern() -> torch.Tensor:
    """(T=4, batch=2, n=3) spikes with 5 known events."""
    x = torch.zeros(4, 2, 3)
    for step, sample, neuron in [(0, 0, 1), (1, 1, 2), (2, 0, 0), (2, 1, 1), (3, 0, 1)]:
        x[step, sample, neuron] = 1.0
    return x


def test_spike_monitor_records_step_sample_and_neuron():
    mon = SpikeMonitor(3, dt_ms=0.5)
    for step in _pattern():
        mon.record(step)
    assert mon.steps.tolist() == [0, 1, 2, 2, 3]
    assert mon.samples.tolist() == [0, 1, 0, 1, 0]
    assert mon.neurons.tolist() == [1, 2, 0, 1, 1]
    assert mon.t_ms.tolist() == [0.0, 0.5, 1.0, 1.0, 1.5]
    assert mon.counts.tolist() == [[1, 2, 0], [0, 1, 1]]
    assert not mon.truncated and mon.n_dropped == 0


def test_spike_monitor_selections_keep_the_original_indices():
    mon = SpikeMonitor(3, dt_ms=1.0, neurons=[1, 2], samples=[1])
    mon.record(_pattern())  # a block of steps in one call
    assert mon.steps.tolist() == [1, 2]
    assert mon.samples.tolist() == [1, 1]
    assert mon.neurons.tolist() == [2, 1]


def test_spike_monitor_keeps_the_first_events_and_says_how_many_it_dropped():
    mon = SpikeMonitor(3, dt_ms=1.0, max_events=3)
    mon.record(_pattern())
    assert mon.n_events == 3 and mon.n_dropped == 2 and mon.truncated
    assert mon.steps.tolist() == [0, 1, 2]
    assert int(mon.counts.sum()) == 5  # counts stay complete
    everything = SpikeMonitor(3, dt_ms=1.0, max_events=None)
    everything.record(_pattern())
    assert everything.n_events == 5


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_events": 0}, ConfigError, "max_events must be an integer >= 2"),
        ({"neurons": [3]}, ConfigError, "outside 0..2"),
        ({"dt_ms": -1.0}, ConfigError, "dt_ms must be a finite number > 0"),
    ],
)
def test_spike_monitor_refuses_bad_settings(kwargs, error, message):
    with pytest.raises(error, match=message):
        SpikeMonitor(3, **{"dt_ms": 1.0, **kwargs})


def test_spike_monitor_refuses_the_wrong_group_size():
    with pytest.raises(DataError, match="n = 3"):
        SpikeMonitor(3, dt_ms=1.0).record(torch.zeros(2, 4))


def test_state_monitor_records_every_kth_step_of_a_neuron_group():
    group = LIF(4, dt_ms=0.1)
    group.reset(2)
    mon = StateMonitor(["v_mV"], 4, dt_ms=0.1, neurons=[0, 3], samples=[1], every=3)
    trace = []
    for _ in range(10):
        group(torch.full((2, 4), 2.0))
        mon.record(group.state)
        trace.append(group.state.v_mV[1, [0, 3]].clone())
    assert mon.t_ms.tolist() == pytest.approx([0.0, 0.3, 0.6, 0.9])
    torch.testing.assert_close(mon.values["v_mV"][:, 0], torch.stack(trace[::3]))
    assert not mon.decimated


def test_state_monitor_decimates_at_its_cap_and_keeps_covering_the_run():
    mon = StateMonitor(["v"], 1, dt_ms=1.0, max_samples=8)
    for step in range(100):
        mon.record({"v": torch.tensor([[float(step)]])})
    steps = mon.t_ms.tolist()
    assert len(steps) <= 8 and mon.decimated and mon.every == 16
    assert steps == [0.0, 16.0, 32.0, 48.0, 64.0, 80.0, 96.0]
    assert mon.values["v"][:, 0, 0].tolist() == steps  # each value belongs to its time


def test_state_monitor_keeps_everything_only_when_asked():
    mon = StateMonitor(["v"], 1, dt_ms=1.0, record_all=True)
    for step in range(MAX_SAMPLES + 5):
        mon.record({"v": torch.tensor([[float(step)]])})
    assert len(mon.t_ms) == MAX_SAMPLES + 5 and not mon.decimated
    with pytest.raises(ConfigError, match="record_all=True"):
        StateMonitor(["v"], 1, dt_ms=1.0, max_samples=None)


def test_state_monitor_names_an_unknown_variable():
    mon = StateMonitor(["v_mV", "voltage"], 2, dt_ms=1.0)
    group = LIF(2, dt_ms=1.0)
    with pytest.raises(ConfigError, match="unknown state variable 'voltage'; choose from: v_mV"):
        mon.record(group.reset(1))


def test_population_rate_per_step_and_binned():
    x = _pattern()  # spikes per step: 1, 1, 2, 1 over 2 samples × 3 neurons
    per_step = PopulationRateMonitor(3, dt_ms=0.5)
    for step in x:
        per_step.record(step)
    expected = [1000.0 * k / (6 * 0.5) for k in (1, 1, 2, 1)]
    assert per_step.rate_hz.tolist() == pytest.approx(expected)
    assert per_step.t_ms.tolist() == [0.0, 0.5, 1.0, 1.5]
    binned = PopulationRateMonitor(3, dt_ms=0.5, bin_steps=3)
    binned.record(x)
    assert binned.rate_hz.tolist() == pytest.approx(
        [1000.0 * 4 / (6 * 1.5), 1000.0 * 1 / (6 * 0.5)]
    )
    t, r = binned.numpy()
    assert t.tolist() == [0.0, 1.5] and r.shape == (2,)


def test_population_rate_merges_bins_at_its_cap():
    mon = PopulationRateMonitor(1, dt_ms=1.0, max_bins=4)
    spikes = torch.tensor([1.0, 0, 0, 0, 1, 1, 1, 1, 0, 0]).reshape(10, 1, 1)
    mon.record(spikes)
    assert mon.bin_steps == 4  # 10 steps in at most 4 bins
    assert mon.rate_hz.tolist() == pytest.approx([250.0, 1000.0, 0.0])
    assert mon.t_ms.tolist() == [0.0, 4.0, 8.0]


def test_a_million_steps_stay_within_the_caps():
    steps, block = 1_000_000, 100_000
    spikes = torch.zeros(block, 1, 2)
    spikes[::10, 0, 0] = 1.0  # neuron 0 fires every 10th step: 100 000 events in all
    spike_mon = SpikeMonitor(2, dt_ms=0.1, max_events=1000)
    rate_mon = PopulationRateMonitor(2, dt_ms=0.1, max_bins=1000)
    for _ in range(steps // block):
        spike_mon.record(spikes)
        rate_mon.record(spikes)
    assert spike_mon._events.shape[0] == 1000 and spike_mon.n_dropped == 100_000 - 1000
    assert spike_mon.counts.tolist() == [[100_000, 0]]
    assert rate_mon._sums.numel() <= 1000 and rate_mon.n_bins <= 1000
    # every bin (1024 steps; the last 576) holds 57.6 to 102.4 spikes: 500 Hz within 2 %
    assert rate_mon.bin_steps == 1024
    assert (rate_mon.rate_hz - 1000.0 / (10 * 2 * 0.1)).abs().max() < 10.0

    state_mon = StateMonitor(["v"], 2, dt_ms=0.1, max_samples=1000)
    state = {"v": torch.zeros(1, 2)}
    for _ in range(steps):
        state_mon.record(state)
    assert state_mon._buffers["v"].shape[0] == 1000
    assert len(state_mon.t_ms) <= 1000 and state_mon.t_ms[-1] >= (steps - state_mon.every) * 0.1
