"""What every neuron model shares: parameter checks, and a module with two step modes.

A neuron model is three pieces, as in PyTorch's functional/module split:

- a parameter dataclass with units in its field names (``tau_m_ms``, ``v_thresh_mV``) and presets
  that read like a methods section; ``validate(dt_ms)`` checks every range and the step size;
- a *pure* step function ``model_step(state, current, params, dt_ms) -> (state, spikes)`` of
  batch-first tensors ``(batch, n)``: the specification, tested against closed forms;
- a :class:`NeuronGroup` module holding ``n`` neurons, their parameters and their state, with a
  single-step path (``step_mode="s"``: one step per call, input ``(batch, n)``) and a multi-step path
  (``"m"``: the whole sequence ``(T, batch, n)`` in one call), which tests hold equal, as
  SpikingJelly's step modes.

Spikes are 0/1 tensors in the state's float dtype. Every step adds ``batch × n`` neuron updates to
the op counter (:func:`neurotwin.core.ops.add_neuron_updates`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import nn

from neurotwin.core.ops import add_neuron_updates
from neurotwin.errors import ConfigError, DataError, shown

STEP_MODES = ("s", "m")


def check_positive(name: str, value: float) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number > 0."""
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a finite number > 0, got {shown(value)}")


def check_finite(name: str, value: float) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number."""
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {shown(value)}")


def check_non_negative(name: str, value: float) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number >= 0."""
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a finite number >= 0, got {shown(value)}")


def check_dt(dt_ms: float, *, max_dt_ms: float, why: str) -> None:
    """Raise :class:`ConfigError` unless 0 < ``dt_ms`` <= ``max_dt_ms``; ``why`` names the limit."""
    check_positive("dt_ms", dt_ms)
    if dt_ms > max_dt_ms:
        raise ConfigError(
            f"dt_ms = {dt_ms:g} is too large for this model: {why} needs dt_ms <= {max_dt_ms:g}"
        )


def steps_of(duration_ms: float, dt_ms: float) -> int:
    """The whole number of steps of ``dt_ms`` in ``duration_ms`` (rounded to the nearest)."""
    return int(round(duration_ms / dt_ms))


class NeuronGroup(nn.Module):
    """``n`` neurons of one model, batch-first state, with single- and multi-step paths.

    Subclasses set :attr:`step_fn` (the pure step function) and implement :meth:`initial_state`.
    The state is a ``NamedTuple`` of ``(batch, n)`` tensors in :attr:`state`, created by
    :meth:`reset` (or on the first call, at the input's batch size, device and dtype).

    Args:
        n: number of neurons.
        params: the model's parameter dataclass (validated here against ``dt_ms``).
        dt_ms: the integration step, in ms.
        step_mode: ``"s"``: ``forward`` takes one step, input ``(batch, n)``; ``"m"``: ``forward``
            takes ``(T, batch, n)`` and returns the spikes of every step ``(T, batch, n)``.
    """

    #: the pure step function ``(state, current, params, dt_ms) -> (state, spikes)``
    step_fn: Callable[..., tuple[Any, torch.Tensor]]

    def __init__(self, n: int, params: Any, *, dt_ms: float, step_mode: str = "s") -> None:
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"a neuron group needs n >= 1 neurons, got {shown(n)}")
        if step_mode not in STEP_MODES:
            raise ConfigError(f"unknown step_mode {step_mode!r}; choose one of: s, m")
        params.validate(dt_ms)
        self.n, self.params, self.dt_ms, self.step_mode = n, params, float(dt_ms), step_mode
        self.state: NamedTuple | None = None

    def initial_state(self, batch: int, *, device=None, dtype=None) -> NamedTuple:
        """The resting state of ``batch`` copies of the group (each field ``(batch, n)``)."""
        raise NotImplementedError

    def reset(self, batch: int = 1, *, device=None, dtype=None) -> NamedTuple:
        """Put every neuron at rest for a batch of ``batch`` samples; returns the new state."""
        self.state = self.initial_state(
            int(batch), device=device, dtype=dtype or torch.get_default_dtype()
        )
        return self.state

    def forward(self, current: torch.Tensor) -> torch.Tensor:
        """One step (``step_mode="s"``) or a whole sequence (``"m"``); returns 0/1 spikes."""
        if self.step_mode == "s":
            return self.single_step(current)
        return self.multi_step(current)

    def _check_input(self, current: torch.Tensor, ndim: int, layout: str) -> None:
        if not isinstance(current, torch.Tensor) or not current.is_floating_point():
            raise DataError(f"neuron input must be a floating-point tensor {layout}")
        if current.ndim != ndim or current.shape[-1] != self.n:
            raise DataError(
                f"neuron input has shape {tuple(current.shape)}; expected {layout} with "
                f"n = {self.n} (step_mode={self.step_mode!r})"
            )
        if not torch.isfinite(current).all():
            raise DataError("neuron input contains NaN or infinite values; check the currents")

    def _ensure_state(self, batch: int, like: torch.Tensor) -> None:
        s = self.state
        if s is None or s[0].shape[0] != batch or s[0].device != like.device:
            self.reset(batch, device=like.device, dtype=like.dtype)

    def single_step(self, current: torch.Tensor) -> torch.Tensor:
        """Advance one step of ``dt_ms`` with input ``current`` (batch, n); returns spikes (batch, n)."""
        self._check_input(current, 2, "(batch, n)")
        self._ensure_state(current.shape[0], current)
        self.state, spikes = type(self).step_fn(self.state, current, self.params, self.dt_ms)
        add_neuron_updates(current.shape[0] * self.n)
        return spikes

    def multi_step(self, currents: torch.Tensor) -> torch.Tensor:
        """Advance ``T`` steps with inputs ``(T, batch, n)``; returns spikes ``(T, batch, n)``."""
        self._check_input(currents, 3, "(T, batch, n)")
        self._ensure_state(currents.shape[1], currents)
        step, state, params, dt = type(self).step_fn, self.state, self.params, self.dt_ms
        out = torch.empty_like(currents)
        for t in range(currents.shape[0]):
            state, out[t] = step(state, currents[t], params, dt)
        self.state = state
        add_neuron_updates(currents.shape[0] * currents.shape[1] * self.n)
        return out

    def extra_repr(self) -> str:
        return f"n={self.n}, dt_ms={self.dt_ms:g}, step_mode={self.step_mode!r}, {self.params}"
