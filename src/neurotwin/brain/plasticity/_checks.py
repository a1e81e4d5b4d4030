"""Checks every plasticity rule shares: learning rates, fractions, and the shapes of activities.

Bad values are :class:`~neurotwin.errors.ConfigError` (a rule's settings), bad tensors are
:class:`~neurotwin.errors.DataError` (what a network fed it); each message is one line naming the
argument and what was expected.
"""

from __future__ import annotations

import math

import torch

from neurotwin.brain.neurons.base import check_non_negative, check_positive
from neurotwin.errors import ConfigError, DataError, shown

__all__ = ["check_non_negative", "check_positive"]

INTERACTIONS = ("all_to_all", "nearest")


def check_fraction(name: str, value: float) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a number in [0, 1]."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be a number in [0, 1], got {shown(value)}")


def check_interaction(interaction: str) -> None:
    """Raise :class:`ConfigError` unless ``interaction`` is a trace interaction this package knows."""
    if interaction not in INTERACTIONS:
        raise ConfigError(
            f"unknown interaction {shown(interaction)}; choose one of: {', '.join(INTERACTIONS)}"
        )


def _shape(x) -> str:
    return str(tuple(x.shape)) if isinstance(x, torch.Tensor) else type(x).__name__


def activity(
    name: str, x, *, n: int | None = None, batch: int | None = None, what: str = "n"
) -> torch.Tensor:
    """``x`` as a floating-point (batch, n) tensor, or :class:`DataError` naming ``name``.

    ``n`` (when given) is the required second dimension, ``batch`` the required first one.
    Boolean spikes become 0/1 in the default float dtype.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 2:
        raise DataError(f"{name} has shape {_shape(x)}; expected (batch, {what})")
    if n is not None and x.shape[1] != n:
        raise DataError(f"{name} has shape {_shape(x)}; expected (batch, {what}) with {what} = {n}")
    if batch is not None and x.shape[0] != batch:
        raise DataError(f"{name} has batch {x.shape[0]}; expected {batch} (as the other inputs)")
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    return x


def weight_of(weight, post: int, pre: int) -> torch.Tensor:
    """``weight`` if it is a (post, pre) tensor, else :class:`DataError`."""
    if not isinstance(weight, torch.Tensor) or tuple(weight.shape) != (post, pre):
        raise DataError(
            f"weight has shape {_shape(weight)}; expected (post, pre) = ({post}, {pre})"
        )
    return weight


def matrix(name: str, x) -> torch.Tensor:
    """``x`` if it is a 2-D tensor (post, pre), else :class:`DataError`."""
    if not isinstance(x, torch.Tensor) or x.ndim != 2:
        raise DataError(f"{name} has shape {_shape(x)}; expected (post, pre)")
    return x


def vector(name: str, x, n: int, what: str) -> torch.Tensor:
    """``x`` if it is a floating-point tensor of shape (n,), else :class:`DataError`."""
    if not isinstance(x, torch.Tensor) or tuple(x.shape) != (n,):
        raise DataError(f"{name} has shape {_shape(x)}; expected ({what},) with {what} = {n}")
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def positive_int(name: str, value) -> int:
    """``value`` if it is an int >= 1, else :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {shown(value)}")
    return value
