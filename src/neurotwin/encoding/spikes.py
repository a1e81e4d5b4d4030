"""Spike encoders: values in [0, 1] to spike trains ``(n_steps, batch, n_features)`` of 0/1.

Rate coding draws independent Bernoulli spikes each step; latency coding fires one spike per input,
earlier for larger values. Both are pure functions; randomness comes from the caller's generator.
"""

from __future__ import annotations

from typing import Any

import torch

from neurotwin.errors import ConfigError, DataError


def _unit_tensor(x_unit: Any, n_steps: int) -> torch.Tensor:
    x = torch.as_tensor(x_unit)
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    if int(n_steps) < 1:
        raise ConfigError(f"n_steps must be at least 1, got {n_steps}")
    if x.numel() and (torch.isnan(x).any() or x.min() < 0 or x.max() > 1):
        raise DataError(
            "spike encoders take values in [0, 1]; scale the features first (encoding.unit)"
        )
    return x


def poisson_rate(
    x_unit: Any,
    n_steps: int,
    *,
    max_rate_hz: float = 100.0,
    dt_ms: float = 1.0,
    generator: torch.Generator,
) -> torch.Tensor:
    """Bernoulli (discrete Poisson) rate code.

    Each of the ``n_steps`` steps of ``dt_ms`` milliseconds spikes independently with probability
    ``p = x * max_rate_hz * dt_ms / 1000``, so an input ``x`` fires at ``x * max_rate_hz`` Hz on
    average. ``x_unit`` is ``(batch, n_features)`` (any shape works) in [0, 1]; returns 0/1 spikes
    ``(n_steps, *x_unit.shape)`` in ``x_unit``'s float dtype, drawn from ``generator`` (on
    ``x_unit``'s device). ``max_rate_hz * dt_ms / 1000 > 1`` raises :class:`ConfigError`.
    """
    x = _unit_tensor(x_unit, n_steps)
    p_max = max_rate_hz * dt_ms / 1000.0
    if p_max > 1.0 or p_max < 0.0:
        raise ConfigError(
            f"max_rate_hz * dt_ms / 1000 = {p_max:g} is not a probability in [0, 1]; lower "
            f"max_rate_hz ({max_rate_hz:g}) or dt_ms ({dt_ms:g})"
        )
    p = x * p_max
    draws = torch.rand(
        (int(n_steps), *x.shape), generator=generator, device=x.device, dtype=x.dtype
    )
    return (draws < p).to(x.dtype)


def latency(x_unit: Any, n_steps: int, *, threshold: float = 0.01) -> torch.Tensor:
    """Linear time-to-first-spike code: one spike per input, the larger the earlier.

    An input ``x >= threshold`` spikes once, at step ``t = round((1 - x) * (n_steps - 1))``
    (``x = 1`` at step 0, ``x = 0`` at the last step; ties round half to even); inputs below
    ``threshold`` never spike. This is the linear form of time-to-first-spike coding (Gütig &
    Sompolinsky, 2006) as in snnTorch's ``spikegen.latency(linear=True)``, here spread over the
    whole window for x in [0, 1] (snnTorch's ``normalize`` spreads [threshold, 1]). ``x_unit`` is
    ``(batch, n_features)`` (any shape works) in [0, 1]; returns ``(n_steps, *x_unit.shape)``.
    """
    x = _unit_tensor(x_unit, n_steps)
    steps = torch.round((1.0 - x) * (int(n_steps) - 1)).long()
    fires = (x >= threshold).to(x.dtype)
    spikes = torch.zeros((int(n_steps), *x.shape), dtype=x.dtype, device=x.device)
    return spikes.scatter_(0, steps.unsqueeze(0), fires.unsqueeze(0))
