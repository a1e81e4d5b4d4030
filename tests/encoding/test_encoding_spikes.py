"""Spike codes: Poisson rate statistics and the latency timing formula."""

import numpy as np
import pytest
import torch

from neurotwin.encoding import latency, poisson_rate
from neurotwin.errors import ConfigError, DataError


def gen(seed=0):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def test_poisson_rate_matches_probability_within_binomial_tolerance():
    x = torch.tensor([[0.0, 0.25, 0.5, 1.0]])
    n_steps = 4000
    spikes = poisson_rate(x, n_steps, max_rate_hz=200.0, dt_ms=1.0, generator=gen(3))
    assert spikes.shape == (n_steps, 1, 4)
    assert set(torch.unique(spikes).tolist()) <= {0.0, 1.0}
    p = np.array([0.0, 0.05, 0.1, 0.2])  # x * 200 Hz * 1 ms
    counts = spikes.sum(dim=0)[0].numpy()
    sigma = np.sqrt(n_steps * p * (1 - p))
    assert counts[0] == 0
    assert np.all(np.abs(counts - n_steps * p) <= 5 * sigma)


def test_poisson_rate_is_reproducible_from_the_generator():
    x = torch.full((3, 5), 0.5)
    a = poisson_rate(x, 50, generator=gen(1))
    b = poisson_rate(x, 50, generator=gen(1))
    c = poisson_rate(x, 50, generator=gen(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_poisson_rate_rejects_probability_above_one_and_unscaled_input():
    with pytest.raises(ConfigError, match="max_rate_hz"):
        poisson_rate(torch.ones(1, 1), 10, max_rate_hz=500.0, dt_ms=5.0, generator=gen())
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        poisson_rate(torch.tensor([[1.5]]), 10, generator=gen())


def test_latency_fires_once_at_the_linear_time():
    # n_steps = 11 -> t = round((1 - x) * 10)
    x = torch.tensor([[1.0, 0.5, 0.3, 0.01, 0.0, 0.005]])
    spikes = latency(x, 11)
    assert spikes.shape == (11, 1, 6)
    times = [torch.nonzero(spikes[:, 0, i]).flatten().tolist() for i in range(6)]
    assert times == [[0], [5], [7], [10], [], []]


def test_latency_brighter_is_earlier_on_a_batch():
    x = torch.linspace(0.1, 1.0, 10).reshape(2, 5)
    spikes = latency(x, 25)
    assert torch.all(spikes.sum(dim=0) == 1)
    first = spikes.argmax(dim=0).flatten()
    assert torch.all(first[1:] <= first[:-1])
