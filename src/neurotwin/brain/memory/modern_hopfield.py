"""Dense associative memories: the modern continuous Hopfield network (Ramsauer et al. 2020,
"Hopfield networks is all you need") and Krotov & Hopfield's (2016) dense associative memory.

**Modern Hopfield** (:func:`modern_hopfield_step`). The stored patterns are the rows of X (P, d);
a state (query) ξ ∈ ℝ^d is updated with inverse temperature β as::

    ξ_new = Xᵀ softmax(β X ξ)                     (the paper's X softmax(β Xᵀ ξ), X as columns)

which never raises the energy (:func:`modern_hopfield_energy`, M the largest pattern norm)::

    E(ξ) = −β⁻¹ log Σ_μ exp(β x_μ · ξ) + ½ ξ · ξ + β⁻¹ log P + ½ M²

For large β and well-separated patterns one step lands on the stored pattern nearest the query
(exponentially many patterns can be stored in d); for small β the softmax spreads over many
patterns and the update returns their weighted average, a *metastable* state.

**Dense associative memory** (:func:`dense_associative_step`; Krotov & Hopfield 2016). Binary
units σ ∈ {−1, +1}^N, energy E = −Σ_μ F(ξ^μ · σ), with F(x) = xⁿ (``"polynomial"``, n = 2 is
the classical Hopfield network) or F(x) = eˣ (``"exponential"``; Demircigil et al. 2017). Unit i
takes the sign that gives the lower energy, the others fixed::

    σ_i ← sign Σ_μ [F(ξ^μ_i + Σ_{j≠i} ξ^μ_j σ_j) − F(−ξ^μ_i + Σ_{j≠i} ξ^μ_j σ_j)]

Here every unit is updated at once from the same state (synchronous). Capacity grows as N^{n−1}
(polynomial) or exponentially (exponential).

:class:`ModernHopfield` holds X in a :class:`~neurotwin.core.Synapses` (pre = d, post = P), so
``X ξ`` goes through it (ops counted) and a lesion (its mask) removes components of memories.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from neurotwin.core.synapses import Synapses
from neurotwin.errors import ConfigError

INTERACTIONS = ("polynomial", "exponential")


def _check_beta(beta: float) -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float)):
        raise ConfigError(f"beta must be a number > 0, got {beta!r}")
    if not (math.isfinite(beta) and beta > 0):
        raise ConfigError(f"beta must be a finite number > 0, got {beta!r}")
    return float(beta)


def modern_hopfield_step(state: torch.Tensor, patterns: torch.Tensor, beta: float) -> torch.Tensor:
    """ξ_new = Xᵀ softmax(β X ξ) for ``state`` (batch, d) and ``patterns`` X (P, d)."""
    return torch.softmax(beta * state @ patterns.T, dim=-1) @ patterns


def modern_hopfield_energy(
    state: torch.Tensor, patterns: torch.Tensor, beta: float
) -> torch.Tensor:
    """E(ξ) = −β⁻¹ lse(β X ξ) + ½ ξ·ξ + β⁻¹ log P + ½ M² per row of ``state`` (batch, d)."""
    lse = torch.logsumexp(beta * state @ patterns.T, dim=-1) / beta
    m = patterns.norm(dim=-1).max()
    return -lse + 0.5 * (state * state).sum(-1) + math.log(patterns.shape[0]) / beta + 0.5 * m**2


def dense_associative_step(
    state: torch.Tensor, patterns: torch.Tensor, *, interaction: str = "polynomial", n: int = 3
) -> torch.Tensor:
    """One synchronous update of Krotov & Hopfield's (2016) dense associative memory for
    ``state`` (batch, N) of ±1 and ``patterns`` (P, N) of ±1; F(x) = xⁿ or eˣ."""
    if interaction not in INTERACTIONS:
        raise ConfigError(
            f"unknown interaction {interaction!r}; choose one of: {', '.join(INTERACTIONS)}"
        )
    overlaps = state @ patterns.T  # (batch, P): ξ^μ · σ
    # Σ_{j≠i} ξ^μ_j σ_j for every i: (batch, P, N)
    rest = overlaps[:, :, None] - patterns[None] * state[:, None, :]
    up, down = rest + patterns[None], rest - patterns[None]
    if interaction == "polynomial":
        diff = (up.pow(n) - down.pow(n)).sum(1)
    else:
        top = torch.maximum(up, down).amax(1, keepdim=True)  # a common scale: no overflow
        diff = (torch.exp(up - top) - torch.exp(down - top)).sum(1)
    return torch.where(diff > 0, 1.0, torch.where(diff < 0, -1.0, state)).to(state.dtype)


class ModernRecall(NamedTuple):
    """What :meth:`ModernHopfield.recall` returns: the final ``states`` (batch, d), the
    ``energy`` after each step (steps + 1, batch), and ``weights`` (batch, P), the softmax over
    the stored patterns at the last step (one-hot: a single pattern retrieved)."""

    states: torch.Tensor
    energy: torch.Tensor
    weights: torch.Tensor


class ModernHopfield(nn.Module):
    """A modern Hopfield memory in ``d`` dimensions with inverse temperature ``beta``; the
    patterns (P, d) it stores are the weights of ``self.synapses`` (created by :meth:`store`)."""

    def __init__(self, d: int, beta: float = 1.0) -> None:
        super().__init__()
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise ConfigError(f"d must be a whole number >= 1, got {d!r}")
        self.d, self.beta = d, _check_beta(beta)
        self.synapses: Synapses | None = None

    @property
    def patterns(self) -> torch.Tensor:
        """The stored patterns X (P, d) as the effective weights (a lesion zeroes components)."""
        if self.synapses is None:
            raise ConfigError("no patterns stored yet; call store(patterns) first")
        return self.synapses.effective_weight().detach()

    @torch.no_grad()
    def store(self, patterns: torch.Tensor) -> ModernHopfield:
        """Append ``patterns`` (P, d), finite real values, to the memory; returns ``self``."""
        x = torch.as_tensor(patterns, dtype=torch.get_default_dtype())
        x = x.unsqueeze(0) if x.dim() == 1 else x
        if x.dim() != 2 or x.shape[1] != self.d or x.shape[0] < 1:
            raise ConfigError(f"patterns must have shape (P, {self.d}), got {tuple(x.shape)}")
        if not torch.isfinite(x).all():
            raise ConfigError("patterns must be finite (no NaN or infinity)")
        old = self.synapses
        new = Synapses(
            self.d, (0 if old is None else old.post) + x.shape[0], bias=False, init="zeros"
        )
        if old is not None:
            new.mask[: old.post] = old.mask
            new.weight[: old.post] = old.weight
        new.apply_dw_(torch.cat([torch.zeros(new.post - x.shape[0], self.d), x]))
        self.synapses = new
        return self

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """:func:`modern_hopfield_energy` of each row of ``states`` (batch, d)."""
        return modern_hopfield_energy(states, self.patterns, self.beta)

    @torch.no_grad()
    def recall(self, cues: torch.Tensor, *, steps: int = 1) -> ModernRecall:
        """``steps`` updates ξ ← Xᵀ softmax(β X ξ) from ``cues`` (batch, d)."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ConfigError(f"steps must be a whole number >= 1, got {steps!r}")
        x = self.patterns
        state = torch.as_tensor(cues, dtype=x.dtype).reshape(-1, self.d)
        energies = [modern_hopfield_energy(state, x, self.beta)]
        for _ in range(steps):
            weights = torch.softmax(self.beta * self.synapses(state), dim=-1)  # ops counted
            state = weights @ x
            energies.append(modern_hopfield_energy(state, x, self.beta))
        return ModernRecall(state, torch.stack(energies), weights)
