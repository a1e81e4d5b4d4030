"""The STDP rule of Diehl & Cook (2015), "Unsupervised learning of digit recognition using
spike-timing-dependent plasticity", Front. Comput. Neurosci. 9:99 — their pre-and-post trace rule,
with their parameter names.

A presynaptic trace x_pre (τ_pre) and a postsynaptic trace x_post (τ_post), dimensionless::

    τ_pre dx_pre/dt = −x_pre          τ_post dx_post/dt = −x_post
    at a pre spike:   Δw = −ν_pre · x_post                                   (depression)
    at a post spike:  Δw = +ν_post · (x_pre − x_tar) · (w_max − w)^μ         (potentiation)

ν_pre = ``nu_ee_pre`` and ν_post = ``nu_ee_post`` are the two learning rates (10⁻⁴ and 10⁻² in the
paper), x_tar the target of the presynaptic trace at a postsynaptic spike (an offset: inputs that
were silent before the post spike, x_pre < x_tar, are depressed, so rarely useful inputs disconnect),
μ the weight dependence of potentiation (μ = 0: none, as in their released code; the weights are
then kept in [0, w_max] by the :class:`~neurotwin.core.Synapses` bounds). Their traces are set to 1
at a spike (``interaction="nearest"``); ``"all_to_all"`` adds 1 instead.

Their released simulation also multiplies the potentiation by a second, slower postsynaptic trace
read just before the post spike (τ = 40 ms, the triplet term of Pfister & Gerstner 2006); set
``tau_post2_ms=40`` for it (None, the default, leaves it out: the paper's pair rule).

**A step of dt** (:meth:`DiehlCookSTDP.step`) is ordered as :mod:`~neurotwin.brain.plasticity.stdp`:
traces decay exactly, Δw uses the traces before this step's spikes, then the spikes enter the traces.
Times in ms; Δw in the weight's unit (conductance, in units of the leak conductance, in the paper).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from neurotwin.brain.plasticity._checks import (
    activity,
    check_interaction,
    check_non_negative,
    check_positive,
    weight_of,
)
from neurotwin.brain.plasticity.hebbian import outer_mean
from neurotwin.brain.plasticity.stdp import TraceRule, checked_pair, trace_step
from neurotwin.errors import ConfigError


@dataclass(frozen=True)
class DiehlCookParams:
    """Diehl & Cook (2015)'s STDP parameters (module docstring); the defaults are theirs."""

    nu_ee_pre: float = 1e-4
    nu_ee_post: float = 1e-2
    tau_pre_ms: float = 20.0
    tau_post_ms: float = 20.0
    tau_post2_ms: float | None = None
    x_tar: float = 0.0
    mu: float = 0.0
    w_max: float = 1.0
    interaction: str = "nearest"

    def validate(self) -> None:
        """Raise :class:`ConfigError` on a value out of range (one line naming it)."""
        check_non_negative("nu_ee_pre", self.nu_ee_pre)
        check_non_negative("nu_ee_post", self.nu_ee_post)
        check_positive("tau_pre_ms", self.tau_pre_ms)
        check_positive("tau_post_ms", self.tau_post_ms)
        if self.tau_post2_ms is not None:
            check_positive("tau_post2_ms", self.tau_post2_ms)
        check_non_negative("x_tar", self.x_tar)
        check_non_negative("mu", self.mu)
        check_positive("w_max", self.w_max)
        check_interaction(self.interaction)

    def with_(self, **changes) -> DiehlCookParams:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


def diehl_cook_dw(
    pre_spikes: torch.Tensor,
    post_spikes: torch.Tensor,
    pre_trace: torch.Tensor,
    post_trace: torch.Tensor,
    weight: torch.Tensor,
    params: DiehlCookParams,
    post2_trace: torch.Tensor | None = None,
) -> torch.Tensor:
    """Δw (post, pre) of one step, averaged over the batch (module docstring).

    Args:
        pre_spikes, post_spikes: this step's spikes, (batch, pre) and (batch, post).
        pre_trace, post_trace: x_pre (batch, pre), x_post (batch, post), decayed to this step,
            before this step's spikes.
        weight: W (post, pre), for the weight dependence (w_max − w)^μ.
        params: the rule (:class:`DiehlCookParams`).
        post2_trace: the slow postsynaptic trace (batch, post) before this step's spikes; only with
            ``params.tau_post2_ms``.
    """
    pre_spikes, post_spikes, pre_trace, post_trace = checked_pair(
        pre_spikes, post_spikes, pre_trace, post_trace
    )
    batch, pre = pre_spikes.shape
    post = post_spikes.shape[1]
    w = weight_of(weight, post, pre).detach()
    gate = post_spikes
    if params.tau_post2_ms is not None:
        if post2_trace is None:
            raise ConfigError("tau_post2_ms is set: diehl_cook_dw needs post2_trace (batch, post)")
        gate = gate * activity("post2_trace", post2_trace, n=post, batch=batch, what="post")
    potentiation = outer_mean(gate, pre_trace - params.x_tar)
    if params.mu:
        potentiation = potentiation * (params.w_max - w).clamp_min(0.0) ** params.mu
    return params.nu_ee_post * potentiation - params.nu_ee_pre * outer_mean(post_trace, pre_spikes)


class DiehlCookSTDP(TraceRule):
    """Diehl & Cook (2015)'s STDP (module docstring) between ``pre`` and ``post`` neurons, holding
    the traces ``pre_trace`` (batch, pre), ``post_trace`` and ``post2_trace`` (batch, post) as
    non-persistent buffers (created by :meth:`reset` or the first :meth:`step`).

    Args:
        pre: number of presynaptic neurons.
        post: number of postsynaptic neurons.
        params: the rule; their published values by default.
        dt_ms: the simulation step, in ms (0.5 ms in the paper).
    """

    params_type = DiehlCookParams

    def __init__(
        self, pre: int, post: int, params: DiehlCookParams | None = None, *, dt_ms: float = 0.5
    ) -> None:
        super().__init__(pre, post, params, dt_ms=dt_ms)
        p = self.params
        self.decay_pre = math.exp(-self.dt_ms / p.tau_pre_ms)
        self.decay_post = math.exp(-self.dt_ms / p.tau_post_ms)
        self.decay_post2 = 0.0 if p.tau_post2_ms is None else math.exp(-self.dt_ms / p.tau_post2_ms)
        for name in ("pre_trace", "post_trace", "post2_trace"):
            self.register_buffer(name, None, persistent=False)

    def reset(self, batch: int = 1, *, device=None, dtype=None) -> None:
        """Every trace to zero for ``batch`` samples."""
        dtype = dtype or torch.get_default_dtype()
        self.pre_trace = torch.zeros(int(batch), self.pre, device=device, dtype=dtype)
        self.post_trace = torch.zeros(int(batch), self.post, device=device, dtype=dtype)
        self.post2_trace = torch.zeros_like(self.post_trace)

    def step(
        self, pre_spikes: torch.Tensor, post_spikes: torch.Tensor, weight: torch.Tensor
    ) -> torch.Tensor:
        """Advance the traces one step and return this step's Δw (post, pre)."""
        pre_spikes, post_spikes = self._spikes(pre_spikes, post_spikes)
        weight = weight_of(weight, self.post, self.pre).detach()
        x_pre = self.pre_trace * self.decay_pre
        x_post = self.post_trace * self.decay_post
        x_post2 = self.post2_trace * self.decay_post2
        dw = diehl_cook_dw(pre_spikes, post_spikes, x_pre, x_post, weight, self.params, x_post2)
        mode = self.params.interaction
        self.pre_trace = trace_step(x_pre, pre_spikes, interaction=mode)
        self.post_trace = trace_step(x_post, post_spikes, interaction=mode)
        self.post2_trace = trace_step(x_post2, post_spikes, interaction=mode)
        return dw
