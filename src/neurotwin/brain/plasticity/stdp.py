"""Pair-based spike-timing-dependent plasticity with traces (Song, Miller & Abbott 2000,
"Competitive Hebbian learning through spike-timing-dependent synaptic plasticity", Nat. Neurosci.
3:919–926; the trace formulation and the variants as reviewed by Morrison, Diesmann & Gerstner 2008,
"Phenomenological models of synaptic plasticity based on spike timing", Biol. Cybern. 98:459–478).

A pair of spikes, pre at t_pre and post at t_post, Δt = t_post − t_pre (ms), changes the weight by::

    Δw = +F₊(w) · exp(−Δt / τ₊)     for Δt > 0   (pre before post: potentiation)
    Δw = −F₋(w) · exp(+Δt / τ₋)     for Δt < 0   (post before pre: depression)

computed online with a presynaptic trace x_j and a postsynaptic trace y_i (dimensionless)::

    τ₊ dx_j/dt = −x_j,   at a pre spike   x_j ← x_j + 1 (all-to-all) or x_j ← 1 (nearest)
    τ₋ dy_i/dt = −y_i,   at a post spike  y_i ← y_i + 1 (all-to-all) or y_i ← 1 (nearest)
    at a post spike of i:  Δw_ij = +F₊(w_ij) · x_j       at a pre spike of j:  Δw_ij = −F₋(w_ij) · y_i

**Weight dependence** (A₊, A₋ > 0 in the weight's unit):
``"additive"`` (Song et al. 2000): F₊ = A₊, F₋ = A₋, with hard bounds from the
:class:`~neurotwin.core.Synapses`' ``w_min``/``w_max`` (``apply_dw_`` clamps);
``"multiplicative"`` (soft bounds, Rubin, Lee & Sompolinsky 2001; with the exponent μ of Gütig et
al. 2003): F₊ = A₊ (w_max − w)^μ, F₋ = A₋ (w − w_min)^μ, μ = 1 by default.

**Interactions**: ``"all_to_all"`` — every earlier spike of the other side counts (the traces add
up); ``"nearest"`` — a trace is reset to 1 at a spike, so only the most recent spike of the other
side counts (the symmetric nearest-spike scheme of Morrison et al. 2008, sec. 4.1.2).

**A step of dt** (:meth:`STDP.step`): both traces decay exactly, x ← x · exp(−dt/τ₊); the weight
changes of the step's spikes are computed from those traces, before this step's spikes are added to
them (:func:`stdp_dw`); then the traces take this step's spikes (:func:`trace_step`). A pre and a post
spike in the same step therefore do not pair (Δt = 0 gives Δw = 0), and a pair Δt = n·dt apart gives
exactly A₊ exp(−n·dt/τ₊). Spikes are 0/1 (batch, n); each sample has its own traces, and the weight
change is averaged over the batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import nn

from neurotwin.brain.plasticity._checks import (
    activity,
    check_interaction,
    check_non_negative,
    check_positive,
    positive_int,
    weight_of,
)
from neurotwin.brain.plasticity.hebbian import outer_mean
from neurotwin.core.synapses import Synapses
from neurotwin.errors import ConfigError, shown

WEIGHT_DEPENDENCES = ("additive", "multiplicative")


@dataclass(frozen=True)
class STDPParams:
    """Pair-based STDP parameters (module docstring): time constants in ms, amplitudes A₊ and A₋
    in the weight's unit, the weight dependence and its soft bounds, the trace interaction."""

    tau_plus_ms: float = 20.0
    tau_minus_ms: float = 20.0
    a_plus: float = 0.005
    a_minus: float = 0.00525
    weight_dependence: str = "additive"
    mu: float = 1.0
    w_min: float = 0.0
    w_max: float = 1.0
    interaction: str = "all_to_all"

    @classmethod
    def song_2000(cls) -> STDPParams:
        """Song, Miller & Abbott (2000): τ₊ = τ₋ = 20 ms, A₊ = 0.005 (of w_max), A₋/A₊ = 1.05,
        additive with hard bounds [0, w_max], all-to-all."""
        return cls()

    @classmethod
    def multiplicative(cls, **changes) -> STDPParams:
        """Soft-bounded STDP (Rubin et al. 2001): F₊ = A₊ (w_max − w), F₋ = A₋ (w − w_min)."""
        return replace(cls(weight_dependence="multiplicative"), **changes)

    def validate(self) -> None:
        """Raise :class:`ConfigError` on a value out of range (one line naming it)."""
        check_positive("tau_plus_ms", self.tau_plus_ms)
        check_positive("tau_minus_ms", self.tau_minus_ms)
        check_non_negative("a_plus", self.a_plus)
        check_non_negative("a_minus", self.a_minus)
        check_non_negative("mu", self.mu)
        if self.weight_dependence not in WEIGHT_DEPENDENCES:
            raise ConfigError(
                f"unknown weight_dependence {shown(self.weight_dependence)}; choose one of: "
                + ", ".join(WEIGHT_DEPENDENCES)
            )
        check_interaction(self.interaction)
        lo, hi = self.w_min, self.w_max
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (lo, hi)) or lo >= hi:
            raise ConfigError(f"STDP needs finite w_min < w_max, got {shown(lo)}, {shown(hi)}")

    def with_(self, **changes) -> STDPParams:
        """A copy with ``changes`` applied (e.g. ``STDPParams().with_(interaction="nearest")``)."""
        return replace(self, **changes)


def trace_step(
    trace: torch.Tensor, spikes: torch.Tensor, *, interaction: str = "all_to_all"
) -> torch.Tensor:
    """A (decayed) trace after this step's spikes: ``trace + spikes`` (all-to-all) or 1 where a
    spike is, else ``trace`` (nearest). Shapes (batch, n)."""
    check_interaction(interaction)
    if interaction == "all_to_all":
        return trace + spikes
    return torch.where(spikes > 0, torch.ones_like(trace), trace)


def checked_pair(
    pre_spikes: torch.Tensor,
    post_spikes: torch.Tensor,
    pre_trace: torch.Tensor,
    post_trace: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The spikes (batch, pre), (batch, post) and traces of the same shapes, checked against each
    other (:class:`~neurotwin.errors.DataError` naming the first that does not fit)."""
    pre_spikes = activity("pre_spikes", pre_spikes, what="pre")
    batch, pre = pre_spikes.shape
    post_spikes = activity("post_spikes", post_spikes, batch=batch, what="post")
    post = post_spikes.shape[1]
    pre_trace = activity("pre_trace", pre_trace, n=pre, batch=batch, what="pre")
    post_trace = activity("post_trace", post_trace, n=post, batch=batch, what="post")
    return pre_spikes, post_spikes, pre_trace, post_trace


def stdp_dw(
    pre_spikes: torch.Tensor,
    post_spikes: torch.Tensor,
    pre_trace: torch.Tensor,
    post_trace: torch.Tensor,
    params: STDPParams,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Δw (post, pre) of one step: F₊(w) ⊙ ⟨post_spikes ⊗ x⟩ − F₋(w) ⊙ ⟨y ⊗ pre_spikes⟩.

    Args:
        pre_spikes: this step's presynaptic spikes (batch, pre).
        post_spikes: this step's postsynaptic spikes (batch, post).
        pre_trace: x (batch, pre), decayed to this step, before this step's spikes.
        post_trace: y (batch, post), likewise.
        params: the rule (:class:`STDPParams`).
        weight: W (post, pre); needed by the multiplicative rule only.
    """
    pre_spikes, post_spikes, pre_trace, post_trace = checked_pair(
        pre_spikes, post_spikes, pre_trace, post_trace
    )
    potentiation = outer_mean(post_spikes, pre_trace)
    depression = outer_mean(post_trace, pre_spikes)
    if params.weight_dependence == "additive":
        return params.a_plus * potentiation - params.a_minus * depression
    if weight is None:
        raise ConfigError("the multiplicative STDP rule needs the weight (post, pre)")
    w = weight_of(weight, post_spikes.shape[1], pre_spikes.shape[1]).detach()
    f_plus = params.a_plus * (params.w_max - w).clamp_min(0.0) ** params.mu
    f_minus = params.a_minus * (w - params.w_min).clamp_min(0.0) ** params.mu
    return f_plus * potentiation - f_minus * depression


class TraceRule(nn.Module):
    """What a trace-based rule module shares: sizes, the checked parameters and step, the spike
    checks that (re)create the traces at the spikes' batch size, device and dtype, and
    :meth:`update_`. Subclasses set :attr:`params_type` and write ``reset`` and ``step``."""

    params_type: type

    def __init__(self, pre: int, post: int, params, *, dt_ms: float) -> None:
        super().__init__()
        self.params = params or self.params_type()
        if not isinstance(self.params, self.params_type):
            raise ConfigError(
                f"params must be {self.params_type.__name__}, got {type(self.params).__name__}"
            )
        self.params.validate()
        check_positive("dt_ms", dt_ms)
        self.pre, self.post = positive_int("pre", pre), positive_int("post", post)
        self.dt_ms = float(dt_ms)

    def reset(self, batch: int = 1, *, device=None, dtype=None) -> None:  # pragma: no cover
        raise NotImplementedError

    def _spikes(
        self, pre_spikes: torch.Tensor, post_spikes: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Checked, detached spikes; the traces are reset when the batch or device changed."""
        pre_spikes = activity("pre_spikes", pre_spikes, n=self.pre, what="pre").detach()
        batch = pre_spikes.shape[0]
        post_spikes = activity("post_spikes", post_spikes, n=self.post, batch=batch, what="post")
        trace = self.pre_trace
        if trace is None or trace.shape[0] != batch or trace.device != pre_spikes.device:
            self.reset(batch, device=pre_spikes.device, dtype=pre_spikes.dtype)
        return pre_spikes, post_spikes.detach()

    @torch.no_grad()
    def update_(
        self, synapses: Synapses, pre_spikes: torch.Tensor, post_spikes: torch.Tensor
    ) -> torch.Tensor:
        """``step`` applied to ``synapses`` with ``apply_dw_`` (mask and bounds kept);
        returns Δw."""
        dw = self.step(pre_spikes, post_spikes, synapses.weight)
        synapses.apply_dw_(dw.to(synapses.weight.dtype))
        return dw

    def extra_repr(self) -> str:
        return f"pre={self.pre}, post={self.post}, dt_ms={self.dt_ms:g}, {self.params}"


class STDP(TraceRule):
    """Pair-based trace STDP (module docstring) between ``pre`` and ``post`` neurons.

    Holds the traces ``pre_trace`` (batch, pre) and ``post_trace`` (batch, post) as non-persistent
    buffers (they follow ``.to()``; created by :meth:`reset`, or by the first :meth:`step` at the
    spikes' batch size, device and dtype).

    Args:
        pre: number of presynaptic neurons.
        post: number of postsynaptic neurons.
        params: the rule; :meth:`STDPParams.song_2000` by default.
        dt_ms: the simulation step, in ms.
    """

    params_type = STDPParams

    def __init__(
        self, pre: int, post: int, params: STDPParams | None = None, *, dt_ms: float = 0.1
    ) -> None:
        super().__init__(pre, post, params, dt_ms=dt_ms)
        self.decay_pre = math.exp(-self.dt_ms / self.params.tau_plus_ms)
        self.decay_post = math.exp(-self.dt_ms / self.params.tau_minus_ms)
        self.register_buffer("pre_trace", None, persistent=False)
        self.register_buffer("post_trace", None, persistent=False)

    def reset(self, batch: int = 1, *, device=None, dtype=None) -> None:
        """Both traces to zero for ``batch`` samples (no earlier spikes)."""
        dtype = dtype or torch.get_default_dtype()
        self.pre_trace = torch.zeros(int(batch), self.pre, device=device, dtype=dtype)
        self.post_trace = torch.zeros(int(batch), self.post, device=device, dtype=dtype)

    def step(
        self,
        pre_spikes: torch.Tensor,
        post_spikes: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Advance the traces one step and return this step's Δw (post, pre) (module docstring).

        ``weight`` (post, pre) is needed by the multiplicative rule only.
        """
        pre_spikes, post_spikes = self._spikes(pre_spikes, post_spikes)
        x = self.pre_trace * self.decay_pre
        y = self.post_trace * self.decay_post
        dw = stdp_dw(pre_spikes, post_spikes, x, y, self.params, weight)
        self.pre_trace = trace_step(x, pre_spikes, interaction=self.params.interaction)
        self.post_trace = trace_step(y, post_spikes, interaction=self.params.interaction)
        return dw
