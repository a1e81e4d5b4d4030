"""The classical Hopfield network (Hopfield 1982): N binary units s_i ∈ {−1, +1}, symmetric
weights with a zero diagonal, and attractors that store patterns ξ^μ ∈ {−1, +1}^N.

**Hebbian rule** (:func:`hebbian_weights`; Hopfield 1982)::

    W = (1/N) Σ_μ ξ^μ ξ^μᵀ,   W_ii = 0

**Storkey rule** (:func:`storkey_weights`; Storkey 1997, "Increasing the capacity of a Hopfield
network without sacrificing functionality"), one pattern ξ at a time, with the local fields
h_ij = Σ_{k≠i,j} W_ik ξ_k::

    W_ij ← W_ij + (1/N) (ξ_i ξ_j − ξ_i h_ji − h_ij ξ_j),   W_ii = 0

It is local and incremental like Hebb's rule and stores about N / √(2 ln N) patterns, against
0.138 N for Hebb's (Amit, Gutfreund & Sompolinsky 1985).

**Dynamics**: the local field of unit i is h_i = Σ_j W_ij s_j, and s_i ← sign(h_i), a unit with
h_i = 0 keeping its state. *Synchronous* (:func:`sync_update`): every unit at once (may end in a
2-cycle). *Asynchronous* (:func:`async_sweep`): one unit at a time in a random order; with W
symmetric and W_ii ≥ 0 each such update never raises the energy (Hopfield 1982)::

    E(s) = −½ sᵀ W s

so the network settles in a fixed point. Shapes are batch first: states (batch, N), so many cues
are recalled at once (each asynchronous sweep visits the units in one order shared by the batch).

:class:`Hopfield` holds W in a :class:`~neurotwin.core.Synapses` (``kind="recurrent"``), so
lesions (its mask), op counting and ``apply_dw_`` act on it as on any other connection.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from neurotwin.core.synapses import Synapses
from neurotwin.errors import ConfigError

RULES = ("hebbian", "storkey")
MODES = ("async", "sync")


def check_patterns(patterns: torch.Tensor, n: int | None = None) -> torch.Tensor:
    """``patterns`` as a float tensor (P, N) of ±1 values; :class:`ConfigError` otherwise."""
    patterns = torch.as_tensor(patterns)
    if patterns.dim() == 1:
        patterns = patterns.unsqueeze(0)
    if patterns.dim() != 2:
        raise ConfigError(f"patterns must have shape (P, N), got {tuple(patterns.shape)}")
    if n is not None and patterns.shape[1] != n:
        raise ConfigError(f"patterns have {patterns.shape[1]} units, expected N = {n}")
    if not bool(((patterns == 1) | (patterns == -1)).all()):
        raise ConfigError("patterns must hold only -1 and +1")
    return patterns if patterns.is_floating_point() else patterns.to(torch.get_default_dtype())


def hebbian_weights(patterns: torch.Tensor) -> torch.Tensor:
    """W = (1/N) Σ_μ ξ^μ ξ^μᵀ with W_ii = 0, for ``patterns`` (P, N) of ±1; returns (N, N)."""
    n = patterns.shape[1]
    weight = patterns.T @ patterns / n
    return weight.fill_diagonal_(0.0)


def storkey_weights(patterns: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Storkey's (1997) rule: the weights after learning ``patterns`` (P, N) one by one, starting
    from ``weight`` (N, N) (zeros when None); returns a new (N, N) tensor with a zero diagonal.

    With h = W ξ and W_ii = 0, h_ij = h_i − W_ij ξ_j, so for ±1 patterns the step is
    ΔW = (1/N) (ξξᵀ − ξhᵀ − hξᵀ + W + Wᵀ).
    """
    n = patterns.shape[1]
    w = torch.zeros(n, n, dtype=patterns.dtype) if weight is None else weight.clone()
    w.fill_diagonal_(0.0)
    for xi in patterns:
        h = w @ xi
        dw = torch.outer(xi, xi) - torch.outer(xi, h) - torch.outer(h, xi) + w + w.T
        w += dw / n
        w.fill_diagonal_(0.0)
    return w


def hopfield_energy(state: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """E = −½ sᵀ W s for ``state`` (batch, N) and ``weight`` (N, N); returns (batch,)."""
    return -0.5 * ((state @ weight.T) * state).sum(-1)


def _sign_keep(field: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
    """sign(field), where the field is exactly 0 the current state."""
    return torch.where(field > 0, 1.0, torch.where(field < 0, -1.0, state)).to(state.dtype)


def sync_update(state: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """One synchronous step s ← sign(W s) of every unit; ``state`` (batch, N)."""
    return _sign_keep(state @ weight.T, state)


def update_unit(state: torch.Tensor, weight: torch.Tensor, i: int) -> torch.Tensor:
    """A copy of ``state`` (batch, N) with unit ``i`` set to sign(h_i) (kept where h_i = 0)."""
    new = state.clone()
    new[:, i] = _sign_keep(state @ weight[i], state[:, i])
    return new


def async_sweep(
    state: torch.Tensor, weight: torch.Tensor, order: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Update the units one at a time in ``order`` (a permutation of 0…N−1), each from the
    current state; returns (new state (batch, N), changed (batch,) bool)."""
    if state.device.type != "cpu" or weight.requires_grad:
        s = state.clone()
        for i in order.tolist():
            s[:, i] = _sign_keep(s @ weight[i], s[:, i])
    else:  # the same loop in numpy: a quarter of torch's per-call overhead on a CPU
        s_np, w_np = state.numpy().copy(), weight.numpy()
        for i in order.tolist():
            h = s_np @ w_np[i]
            s_np[:, i] = np.where(h > 0, 1.0, np.where(h < 0, -1.0, s_np[:, i]))
        s = torch.from_numpy(s_np)
    return s, (s != state).any(-1)


class Recall(NamedTuple):
    """What :meth:`Hopfield.recall` returns.

    Attributes:
        states: the final states (batch, N).
        energy: E after each sweep or step (steps + 1, batch); row 0 is the cue's; a row that
            has converged repeats its last value.
        steps: sweeps (async) or steps (sync) each row took until it stopped changing (batch,).
        converged: whether each row reached a fixed point within the bound (batch,).
    """

    states: torch.Tensor
    energy: torch.Tensor
    steps: torch.Tensor
    converged: torch.Tensor


def overlap(states: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """m = (1/N) s · ξ per row for ``states`` and ``targets`` (batch, N): 1 is a perfect recall."""
    return (states * targets).sum(-1) / states.shape[-1]


class Hopfield(nn.Module):
    """A Hopfield network of ``n`` ±1 units that learns with ``rule`` (``"hebbian"`` or
    ``"storkey"``); its weights (n, n) live in ``self.synapses``.

    >>> net = Hopfield(100).store(patterns)          # patterns (P, 100) of ±1
    >>> out = net.recall(noisy, generator=g)          # noisy (batch, 100)
    >>> out.states, out.energy[-1]
    """

    def __init__(self, n: int, rule: str = "hebbian") -> None:
        super().__init__()
        if rule not in RULES:
            raise ConfigError(f"unknown rule {rule!r}; choose one of: {', '.join(RULES)}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ConfigError(f"n must be a whole number >= 2, got {n!r}")
        self.n, self.rule = n, rule
        self.synapses = Synapses(n, n, kind="recurrent", bias=False, init="zeros")
        self.n_stored = 0

    @property
    def weight(self) -> torch.Tensor:
        """The effective weights W (n, n): the learned ones times the mask."""
        return self.synapses.effective_weight().detach()

    @torch.no_grad()
    def store(self, patterns: torch.Tensor) -> Hopfield:
        """Learn ``patterns`` (P, n) of ±1 on top of what is stored (through ``apply_dw_``, so a
        masked synapse stays as it is); returns ``self``."""
        xi = check_patterns(patterns, self.n).to(self.synapses.weight.dtype)
        w = self.synapses.weight
        new = hebbian_weights(xi) + w if self.rule == "hebbian" else storkey_weights(xi, w)
        self.synapses.apply_dw_(new - w)
        self.n_stored += xi.shape[0]
        return self

    def energy(self, states: torch.Tensor) -> torch.Tensor:
        """E = −½ sᵀ W s per row of ``states`` (batch, n)."""
        return hopfield_energy(states.to(self.weight.dtype), self.weight)

    @torch.no_grad()
    def recall(
        self,
        cues: torch.Tensor,
        *,
        mode: str = "async",
        max_steps: int = 50,
        generator: torch.Generator | None = None,
    ) -> Recall:
        """Run from ``cues`` (batch, n) (±1; 0 for an unknown unit) until no unit changes or
        ``max_steps`` sweeps (``mode="async"``, a fresh random order from ``generator`` each
        sweep) or synchronous steps (``mode="sync"``) have passed."""
        if mode not in MODES:
            raise ConfigError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ConfigError(f"max_steps must be a whole number >= 1, got {max_steps!r}")
        w = self.weight
        s = torch.as_tensor(cues).to(w.dtype).reshape(-1, self.n)
        energies = [hopfield_energy(s, w)]
        steps = torch.zeros(s.shape[0], dtype=torch.long)
        active = torch.ones(s.shape[0], dtype=torch.bool)
        for _ in range(max_steps):
            rows = active.nonzero().squeeze(1)  # rows at a fixed point stay there: skip them
            if mode == "async":
                order = torch.randperm(self.n, generator=generator)
                new, changed = async_sweep(s[rows], w, order)
            else:
                new = _sign_keep(self.synapses(s[rows]), s[rows])  # ops counted
                changed = (new != s[rows]).any(-1)
            s = s.clone()
            s[rows] = new
            active = torch.zeros_like(active)
            active[rows] = changed
            steps += active.long()
            energies.append(hopfield_energy(s, w))
            if not active.any():
                break
        return Recall(s, torch.stack(energies), steps, ~active)
