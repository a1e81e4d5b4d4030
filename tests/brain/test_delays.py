"""Transmission delays: whole steps through a ring buffer, a spike at step t arrives at t + d."""

from __future__ import annotations

import math

import pytest
import torch

from neurotwin.brain.synapses import CurrentProjection, propagate
from neurotwin.core import count_ops
from neurotwin.errors import ConfigError


def _arrival_steps(proj, spike_step: int, steps: int) -> list[int]:
    """The steps at which a single presynaptic spike sent at ``spike_step`` is delivered."""
    arrived = []
    for t in range(steps):
        spikes = torch.zeros(1, proj.pre)
        if t == spike_step:
            spikes[0, 0] = 1.0
        if proj.step(spikes).abs().sum() > 0:
            arrived.append(t)
    return arrived


@pytest.mark.parametrize(
    ("delay_ms", "dt_ms", "steps"),
    [(1.0, 1.0, 1), (3.0, 1.0, 3), (1.0, 0.1, 10), (0.3, 0.1, 3), (2.5, 0.5, 5), (None, 0.1, 1)],
)
def test_a_single_spike_arrives_exactly_d_steps_later(delay_ms, dt_ms, steps):
    proj = CurrentProjection(1, 2, weight=1.0, dt_ms=dt_ms, delay_ms=delay_ms, tau_syn_ms=None)
    assert proj.delay == steps
    assert _arrival_steps(proj, spike_step=4, steps=4 + steps + 5) == [4 + steps]


@pytest.mark.parametrize(("delay_ms", "steps"), [(0.26, 3), (0.24, 2), (0.149, 1), (1.04, 10)])
def test_delays_round_to_the_nearest_step(delay_ms, steps):
    proj = CurrentProjection(1, 1, weight=1.0, dt_ms=0.1, delay_ms=delay_ms)
    assert proj.delay == steps


@pytest.mark.parametrize("delay_ms", [0.05, 0.099])
def test_a_delay_shorter_than_a_step_is_refused(delay_ms):
    with pytest.raises(
        ConfigError, match=rf"delay_ms = {delay_ms:g} is shorter than one step dt_ms = 0.1"
    ):
        CurrentProjection(1, 1, weight=1.0, dt_ms=0.1, delay_ms=delay_ms)


@pytest.mark.parametrize("delay_ms", [-1.0, 0.0, math.nan, math.inf])
def test_a_delay_that_is_not_a_positive_number_is_refused(delay_ms):
    with pytest.raises(ConfigError, match="delay_ms must be a finite number > 0"):
        CurrentProjection(1, 1, weight=1.0, dt_ms=0.1, delay_ms=delay_ms)


def test_the_ring_buffer_holds_max_delay_steps_of_every_sample():
    proj = CurrentProjection(3, 4, weight=1.0, dt_ms=0.1, delay_ms=0.7)
    proj.reset(5)
    assert tuple(proj.buffer.shape) == (7, 5, 4)


def test_a_random_train_arrives_shifted_by_the_delay():
    g = torch.Generator().manual_seed(0)
    train = (torch.rand(60, 3, 5, generator=g) < 0.2).float()  # (T, batch, pre)
    proj = CurrentProjection(
        5, 4, weight=(0.1, 1.0), dt_ms=1.0, delay_ms=4.0, tau_syn_ms=None, generator=g
    )
    arrived = torch.stack([proj.step(train[t]) for t in range(60)])
    expected = torch.stack([propagate(proj.synapses, train[t]) for t in range(56)])
    assert arrived[:4].abs().sum() == 0
    torch.testing.assert_close(arrived[4:], expected)


def test_per_synapse_delays_deliver_each_synapse_at_its_own_step():
    delays = torch.tensor([[1, 2, 3], [4, 5, 6]])
    proj = CurrentProjection(
        3,
        2,
        weight=(0.1, 1.0),
        dt_ms=1.0,
        delay_steps=delays,
        tau_syn_ms=None,
        generator=torch.Generator().manual_seed(1),
    )
    w = proj.synapses.weight.detach()
    arrived = torch.stack(
        [proj.step(torch.ones(1, 3) if t == 2 else torch.zeros(1, 3))[0] for t in range(10)]
    )
    expected = torch.zeros(10, 2)
    for i in range(2):
        for j in range(3):
            expected[2 + int(delays[i, j]), i] += w[i, j]
    torch.testing.assert_close(arrived, expected)
    assert tuple(proj.buffer.shape) == (6, 1, 2)


def test_per_synapse_delays_count_the_same_ops_as_one_delay():
    kwargs = {"weight": 1.0, "dt_ms": 1.0, "connectivity": "all_but_self"}
    spikes = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    one = CurrentProjection(3, 3, delay_ms=2.0, **kwargs)
    many = CurrentProjection(3, 3, delay_steps=torch.full((3, 3), 2), **kwargs)
    counts = []
    for proj in (one, many):
        with count_ops() as ops:
            proj.step(spikes)
        counts.append((ops.dense_ac, ops.ac))
    assert counts[0] == counts[1] == (2 * 3 * 3, 3 * 2)


@pytest.mark.parametrize(
    ("delay_steps", "message"),
    [
        (torch.ones(2, 3), "integer tensor"),
        (torch.zeros(3, 2, dtype=torch.long), "steps >= 1"),
        (torch.ones(2, 2, dtype=torch.long), r"\(post, pre\) = \(3, 2\)"),
        (torch.ones(3, 2, dtype=torch.bool), "integer tensor"),
        ([[1, 1], [1, 1], [1, 1]], "integer tensor"),
    ],
)
def test_bad_per_synapse_delays_are_refused(delay_steps, message):
    with pytest.raises(ConfigError, match=message):
        CurrentProjection(2, 3, weight=1.0, dt_ms=1.0, delay_steps=delay_steps)


def test_one_delay_and_per_synapse_delays_together_are_refused():
    with pytest.raises(ConfigError, match="not both"):
        CurrentProjection(
            2,
            3,
            weight=1.0,
            dt_ms=1.0,
            delay_ms=2.0,
            delay_steps=torch.ones(3, 2, dtype=torch.long),
        )
