"""Rate neurons: a leaky integrator of a static nonlinearity of the input (Wilson & Cowan 1972;
Dayan & Abbott, *Theoretical Neuroscience*, 2001, ch. 7.2), the firing-rate model::

    τ dr/dt = −r + f(I),        f(I) = φ(gain · (I − threshold)),   φ ∈ {relu, sigmoid, tanh}

t and τ in ms. The rate r and the input I are **dimensionless**: r is an activity in the range of φ
(relu: [0, ∞), sigmoid: (0, 1), tanh: (−1, 1)), to be multiplied by a maximum rate (e.g. 100 Hz)
where a rate in Hz is wanted; I is in whatever unit ``gain`` and ``threshold`` are given in (for
instance the output of a weight matrix).

**A step of dt**: with I constant over the step the equation is linear in r and is solved exactly::

    r ← f(I) + (r − f(I)) · exp(−dt/τ)

**Output.** A rate neuron does not spike: :func:`rate_step` returns ``(state, r)`` and
:class:`RateNeuron`'s ``forward`` returns the new rate r ``(batch, n)`` (``(T, batch, n)`` in
multi-step mode) where a spiking model returns its 0/1 spikes, so a rate layer can stand in for a
spiking one in the same network code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import torch

from neurotwin.brain.neurons.base import NeuronGroup, check_dt, check_finite, check_positive
from neurotwin.errors import ConfigError

ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


@dataclass(frozen=True)
class RateParams:
    """Rate-neuron parameters: time constant (ms), nonlinearity φ (``"relu"``, ``"sigmoid"`` or
    ``"tanh"``), its gain (per unit of input) and threshold (in units of input)."""

    tau_ms: float = 10.0
    activation: str = "relu"
    gain: float = 1.0
    threshold: float = 0.0

    def validate(self, dt_ms: float) -> None:
        """Raise :class:`ConfigError` on a value out of range or a ``dt_ms`` this model can't take."""
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"unknown activation {self.activation!r} for RateParams; choose one of: "
                + ", ".join(ACTIVATIONS)
            )
        check_positive("tau_ms", self.tau_ms)
        check_positive("gain", self.gain)
        check_finite("threshold", self.threshold)
        # the step is exact for any dt, but an input held for longer than τ is not resolved
        check_dt(dt_ms, max_dt_ms=self.tau_ms, why=f"the time constant tau_ms = {self.tau_ms:g}")

    def f(self, current: torch.Tensor) -> torch.Tensor:
        """The steady-state rate f(I) = φ(gain · (I − threshold)) for an input ``current``."""
        return ACTIVATIONS[self.activation](self.gain * (current - self.threshold))

    def with_(self, **changes) -> RateParams:
        """A copy with ``changes`` applied (e.g. ``RateParams().with_(activation="tanh")``)."""
        return replace(self, **changes)


class RateState(NamedTuple):
    """Rate-neuron state: the rate r (dimensionless), ``(batch, n)``."""

    r: torch.Tensor


def rate_step(
    state: RateState, current: torch.Tensor, params: RateParams, dt_ms: float
) -> tuple[RateState, torch.Tensor]:
    """One exact step of rate neurons: ``current`` (batch, n); returns (state, r) — the new rate,
    not spikes."""
    r_inf = params.f(current)
    r = r_inf + (state.r - r_inf) * math.exp(-dt_ms / params.tau_ms)
    return RateState(r), r


class RateNeuron(NeuronGroup):
    """``n`` rate neurons (:func:`rate_step`); ``forward`` returns the rate r, not spikes.

    Input: dimensionless current, ``(batch, n)`` per step (``step_mode="s"``) or
    ``(T, batch, n)`` (``"m"``); output of the same shape.
    """

    step_fn = staticmethod(rate_step)

    def __init__(
        self, n: int, params: RateParams | None = None, *, dt_ms: float = 1.0, step_mode: str = "s"
    ) -> None:
        super().__init__(n, params or RateParams(), dt_ms=dt_ms, step_mode=step_mode)

    def initial_state(self, batch: int, *, device=None, dtype=None) -> RateState:
        """Every neuron at its resting rate f(0)."""
        zeros = torch.zeros((batch, self.n), device=device, dtype=dtype)
        return RateState(self.params.f(zeros))
