"""Rate neurons: the exact exponential step, the three nonlinearities, the rate as output, and
validation."""

import math

import numpy as np
import pytest
import torch

from neurotwin.brain.neurons import RateNeuron, RateParams, RateState, rate_step
from neurotwin.errors import ConfigError


@pytest.mark.parametrize(
    ("activation", "f"),
    [
        ("relu", lambda x: np.maximum(x, 0.0)),
        ("sigmoid", lambda x: 1.0 / (1.0 + np.exp(-x))),
        ("tanh", np.tanh),
    ],
)
def test_steady_rate_is_the_nonlinearity_of_gain_times_input_minus_threshold(activation, f):
    p = RateParams(activation=activation, gain=2.0, threshold=0.5)
    current = np.array([[-3.0, 0.0, 0.5, 0.8, 4.0]])
    expected = f(2.0 * (current - 0.5))
    np.testing.assert_allclose(p.f(torch.tensor(current)).numpy(), expected, rtol=1e-12)
    # after many time constants the rate sits at f(I)
    group = RateNeuron(5, p, dt_ms=1.0, step_mode="m")
    group.reset(1, dtype=torch.float64)
    rates = group(torch.tensor(current).expand(400, 1, 5)).numpy()
    np.testing.assert_allclose(rates[-1], expected, rtol=1e-8, atol=1e-12)


def test_rate_relaxes_as_exp_minus_t_over_tau_at_any_step():
    """τ dr/dt = −r + f(I) from r = 0 under a constant input: r(t) = f(I)(1 − exp(−t/τ)), exactly,
    whatever the step (the step is the exact solution, not an approximation)."""
    p = RateParams(tau_ms=20.0)
    for dt in (0.1, 1.0, 20.0):
        group = RateNeuron(1, p, dt_ms=dt, step_mode="m")
        group.reset(1, dtype=torch.float64)
        steps = round(60.0 / dt)
        rates = group(torch.full((steps, 1, 1), 3.0, dtype=torch.float64))[:, 0, 0].numpy()
        t = dt * np.arange(1, steps + 1)
        np.testing.assert_allclose(rates, 3.0 * (1.0 - np.exp(-t / 20.0)), rtol=1e-12)


def test_forward_returns_the_rate_itself_not_spikes():
    group = RateNeuron(2, RateParams(tau_ms=10.0), dt_ms=1.0)
    group.reset(1, dtype=torch.float64)
    out = group(torch.tensor([[1.0, 2.0]], dtype=torch.float64))
    decay = math.exp(-0.1)
    np.testing.assert_allclose(out.numpy(), [[1.0 - decay, 2.0 * (1.0 - decay)]], rtol=1e-12)
    torch.testing.assert_close(out, group.state.r)


def test_resting_state_is_the_rate_at_zero_input():
    group = RateNeuron(3, RateParams(activation="sigmoid"))
    assert isinstance(group.reset(2), RateState)
    torch.testing.assert_close(group.state.r, torch.full((2, 3), 0.5))
    state, r = rate_step(group.state, torch.zeros(2, 3), group.params, 1.0)
    torch.testing.assert_close(r, torch.full((2, 3), 0.5))  # rest is a fixed point


@pytest.mark.parametrize(
    ("params", "dt_ms", "message"),
    [
        (
            RateParams(activation="softplus"),
            1.0,
            "unknown activation 'softplus'.*relu, sigmoid, tanh",
        ),
        (RateParams(tau_ms=0.0), 1.0, "tau_ms must be a finite number > 0, got 0.0"),
        (RateParams(gain=-1.0), 1.0, "gain must be a finite number > 0"),
        (RateParams(threshold=float("inf")), 1.0, "threshold must be a finite number"),
        (RateParams(tau_ms=5.0), 10.0, r"dt_ms = 10 is too large.*tau_ms = 5 needs dt_ms <= 5"),
    ],
)
def test_bad_parameters_are_refused(params, dt_ms, message):
    with pytest.raises(ConfigError, match=message):
        RateNeuron(1, params, dt_ms=dt_ms)
