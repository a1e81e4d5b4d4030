"""Optimisers as small classes over a list of (parameter, gradient) pairs.

Each optimiser turns gradients g = ∂L/∂θ into changes Δθ (:meth:`Optimiser.updates`), keeping its
state per parameter; :meth:`Optimiser.step` adds them in place. A network that must respect a mask
or weight bounds applies the changes itself (``Synapses.apply_dw_``). The steps equal
``torch.optim``'s SGD and Adam (no dampening, no weight decay; penalties belong to the loss).

- SGD: Δθ = −η g.
- Momentum (Polyak, 1964; as in Sutskever et al., 2013): v ← μ v + g, Δθ = −η v.
  Nesterov's form: Δθ = −η (g + μ v), with v already updated.
- Adam (Kingma & Ba, 2015, Algorithm 1): at step t,
  m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,
  m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ),   Δθ = −η m̂ / (√v̂ + ε).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from neurotwin.errors import ConfigError, pick, shown

Pairs = Sequence[tuple[torch.Tensor, torch.Tensor]]


def _number(name: str, value: float, low: float, high: float, *, low_open: bool) -> float:
    """``value`` as a float in (low, high) or [low, high), or a ConfigError naming ``name``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {shown(value)}") from None
    above = value > low if low_open else value >= low
    if not (math.isfinite(value) and above and value < high):
        interval = f"{'(' if low_open else '['}{low}, {high})"
        raise ConfigError(f"{name} must be in {interval}, got {value}")
    return value


class Optimiser:
    """The interface: ``updates(pairs) -> [Δθ, …]`` and ``step(pairs)``; η is ``lr`` > 0."""

    name = ""

    def __init__(self, lr: float) -> None:
        self.lr = _number("learning rate", lr, 0.0, math.inf, low_open=True)
        self.state: dict[torch.Tensor, dict[str, torch.Tensor | int]] = {}

    def updates(self, pairs: Pairs) -> list[torch.Tensor]:
        """Δθ for every ``(θ, g)`` pair, in order; advances the optimiser's state by one step."""
        with torch.no_grad():
            return [
                self._update(param, grad, self.state.setdefault(param, {})) for param, grad in pairs
            ]

    @torch.no_grad()
    def step(self, pairs: Pairs) -> None:
        """θ ← θ + Δθ in place for every ``(θ, g)`` pair."""
        for (param, _), change in zip(pairs, self.updates(pairs), strict=True):
            param.add_(change)

    def _update(self, param: torch.Tensor, grad: torch.Tensor, state: dict) -> torch.Tensor:
        raise NotImplementedError


class SGD(Optimiser):
    """Gradient descent, with classical momentum μ (μ = 0: none) and optionally Nesterov's form
    (see the module docstring)."""

    name = "sgd"

    def __init__(self, lr: float, *, momentum: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(lr)
        self.momentum = _number("momentum", momentum, 0.0, 1.0, low_open=False)
        if nesterov and self.momentum == 0:
            raise ConfigError("nesterov momentum needs momentum > 0")
        self.nesterov = bool(nesterov)

    def _update(self, param, grad, state):
        if self.momentum == 0:
            return -self.lr * grad
        v = state["velocity"] = self.momentum * state.get("velocity", 0.0) + grad
        return -self.lr * (grad + self.momentum * v if self.nesterov else v)

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov})"


class Adam(Optimiser):
    """Adam with bias correction (Kingma & Ba, 2015; the equations in the module docstring)."""

    name = "adam"

    def __init__(
        self,
        lr: float = 1e-3,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(lr)
        beta1, beta2 = betas
        self.beta1 = _number("beta1", beta1, 0.0, 1.0, low_open=False)
        self.beta2 = _number("beta2", beta2, 0.0, 1.0, low_open=False)
        self.eps = _number("eps", eps, 0.0, math.inf, low_open=True)

    def _update(self, param, grad, state):
        t = state["t"] = state.get("t", 0) + 1
        m = state["m"] = self.beta1 * state.get("m", 0.0) + (1.0 - self.beta1) * grad
        v = state["v"] = self.beta2 * state.get("v", 0.0) + (1.0 - self.beta2) * grad**2
        m_hat = m / (1.0 - self.beta1**t)
        v_hat = v / (1.0 - self.beta2**t)
        return -self.lr * m_hat / (torch.sqrt(v_hat) + self.eps)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas=({self.beta1}, {self.beta2}), eps={self.eps})"


def _momentum(lr: float, *, momentum: float = 0.9) -> SGD:
    return SGD(lr, momentum=momentum)


def _nesterov(lr: float, *, momentum: float = 0.9) -> SGD:
    return SGD(lr, momentum=momentum, nesterov=True)


#: Optimiser names → factories taking ``lr`` and the optimiser's keyword options.
OPTIMISERS = {"sgd": SGD, "momentum": _momentum, "nesterov": _nesterov, "adam": Adam}


def make_optimiser(name: str, lr: float, **options) -> Optimiser:
    """The optimiser called ``name`` (one of :data:`OPTIMISERS`) with learning rate ``lr``;
    ``momentum`` and ``nesterov`` are SGD with μ = 0.9 unless ``momentum=`` says otherwise."""
    cls = pick(OPTIMISERS, name, "optimiser")
    try:
        return cls(lr, **options)
    except TypeError as exc:
        raise ConfigError(f"optimiser {name!r}: {exc}") from None
