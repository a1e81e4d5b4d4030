"""Tsodyks–Markram short-term plasticity: depression (Tsodyks & Markram 1997) and facilitation
(Markram, Wang & Tsodyks 1998; Mongillo, Barak & Tsodyks 2008).

Each presynaptic neuron j (per sample) has a utilisation u (the release probability) and a fraction x
of available resources. Between spikes they relax (τ_D, τ_F in ms)::

    τ_D dx/dt = 1 − x                τ_F du/dt = U − u

which over an interval Δt without spikes is, exactly::

    x(t + Δt) = 1 − (1 − x(t)) e^{−Δt/τ_D}        u(t + Δt) = U + (u(t) − U) e^{−Δt/τ_F}

**At a spike** (the convention of Mongillo et al. 2008: u jumps first, and the release uses the
jumped value u⁺ with the resources x⁻ just before the spike)::

    u⁺ = u⁻ + U (1 − u⁻)          release r = u⁺ x⁻          x⁺ = x⁻ − u⁺ x⁻

The release r (dimensionless, in [0, 1]) scales the synaptic weight of that spike: the delivered
weight is w · r. With **facilitation off** (``facilitation=False``) u stays at U, so r = U x⁻ and
x⁺ = x⁻ (1 − U): Tsodyks & Markram (1997)'s purely depressing synapse. At rest u = U, x = 1.

The updates are event-driven: the state of a neuron is only touched when it spikes, using the time
since its previous spike, so a step costs O(spikes) beyond finding the spikes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import torch
from torch import nn

from neurotwin.brain.neurons.base import check_positive
from neurotwin.errors import ConfigError, shown


@dataclass(frozen=True)
class TsodyksMarkramParams:
    """Short-term plasticity parameters (module docstring): ``U`` the baseline utilisation
    (0 < U ≤ 1), ``tau_d_ms`` the recovery (depression) time constant, ``tau_f_ms`` the
    facilitation time constant, ``facilitation`` whether u moves at all (False: u ≡ U)."""

    U: float = 0.5
    tau_d_ms: float = 800.0
    tau_f_ms: float = 1000.0
    facilitation: bool = True

    @classmethod
    def depressing(cls) -> TsodyksMarkramParams:
        """A depressing neocortical pyramidal synapse, Tsodyks & Markram (1997): U = 0.5,
        τ_D = 800 ms, no facilitation (u ≡ U)."""
        return cls(U=0.5, tau_d_ms=800.0, tau_f_ms=1000.0, facilitation=False)

    @classmethod
    def facilitating(cls) -> TsodyksMarkramParams:
        """The facilitating synapse of Mongillo, Barak & Tsodyks (2008)'s working memory:
        U = 0.2, τ_D = 200 ms, τ_F = 1500 ms."""
        return cls(U=0.2, tau_d_ms=200.0, tau_f_ms=1500.0, facilitation=True)

    def without_facilitation(self) -> TsodyksMarkramParams:
        """A copy with u fixed at U (the control that removes facilitation, keeps depression)."""
        return replace(self, facilitation=False)

    def validate(self) -> None:
        """Raise :class:`ConfigError` on a value out of range."""
        if not isinstance(self.U, (int, float)) or not 0.0 < self.U <= 1.0:
            raise ConfigError(f"U must be in (0, 1], got {shown(self.U)}")
        check_positive("tau_d_ms", self.tau_d_ms)
        check_positive("tau_f_ms", self.tau_f_ms)
        if not isinstance(self.facilitation, bool):
            raise ConfigError(f"facilitation must be True or False, got {shown(self.facilitation)}")

    def with_(self, **changes) -> TsodyksMarkramParams:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


def tm_spike(
    u: torch.Tensor, x: torch.Tensor, elapsed_ms: torch.Tensor, params: TsodyksMarkramParams
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One spike of neurons whose state was (u, x) ``elapsed_ms`` ago (any matching shapes).

    Relaxes (u, x) over ``elapsed_ms`` exactly, then applies the spike; returns (u⁺, x⁺, r) with
    r = u⁺ x⁻ the release (module docstring). ``elapsed_ms = inf`` means the neuron was at rest.
    """
    p = params
    x_minus = 1.0 - (1.0 - x) * torch.exp(-elapsed_ms / p.tau_d_ms)
    if p.facilitation:
        u_minus = p.U + (u - p.U) * torch.exp(-elapsed_ms / p.tau_f_ms)
        u_plus = u_minus + p.U * (1.0 - u_minus)
    else:
        u_plus = torch.full_like(x_minus, p.U)
    release = u_plus * x_minus
    return u_plus, x_minus - release, release


class STPState(NamedTuple):
    """Per (sample, presynaptic neuron), each (batch, n): u and x just after the neuron's last spike
    (U and 1 before any), and that spike's time in ms (−inf before any)."""

    u: torch.Tensor
    x: torch.Tensor
    last_spike_ms: torch.Tensor


class ShortTermPlasticity(nn.Module):
    """Tsodyks–Markram state of ``n`` presynaptic neurons (:func:`tm_spike`), stepped with ``dt_ms``.

    :meth:`release` takes the spikes (batch, n) of the current step and returns the release r
    (batch, n) (0 where no spike), then advances one step.
    """

    def __init__(self, n: int, params: TsodyksMarkramParams, *, dt_ms: float) -> None:
        super().__init__()
        if not isinstance(params, TsodyksMarkramParams):
            raise ConfigError(f"stp must be TsodyksMarkramParams, got {type(params).__name__}")
        params.validate()
        check_positive("dt_ms", dt_ms)
        self.n, self.params, self.dt_ms = int(n), params, float(dt_ms)
        self.state: STPState | None = None
        self.t = 0

    def reset(self, batch: int = 1, *, device=None, dtype=None) -> STPState:
        """Every synapse at rest (u = U, x = 1, no previous spike); t = 0."""
        shape = (int(batch), self.n)
        u = torch.full(shape, self.params.U, device=device, dtype=dtype)
        # spike times in float64: a long run must still resolve Δt to well under a step
        last = torch.full(shape, -math.inf, device=device, dtype=torch.float64)
        self.state, self.t = STPState(u, torch.ones_like(u), last), 0
        return self.state

    def release(self, spikes: torch.Tensor) -> torch.Tensor:
        """The release r (batch, n) of the spikes (batch, n) of the current step; advances one step."""
        s, spikes = self.state, spikes.detach()
        if s is None or s.u.shape[0] != spikes.shape[0]:
            s = self.reset(spikes.shape[0], device=spikes.device, dtype=self._dtype(spikes))
        now_ms = self.t * self.dt_ms
        self.t += 1
        out = torch.zeros_like(s.u)
        flat = spikes.reshape(-1).nonzero().squeeze(1)
        if flat.numel() == 0:
            return out
        u, x, last = (v.view(-1) for v in s)
        elapsed = (now_ms - last.index_select(0, flat)).to(s.u.dtype)
        u_plus, x_plus, r = tm_spike(
            u.index_select(0, flat), x.index_select(0, flat), elapsed, self.params
        )
        u.index_copy_(0, flat, u_plus)
        x.index_copy_(0, flat, x_plus)
        last.index_fill_(0, flat, now_ms)
        out.view(-1).index_copy_(0, flat, r)
        return out

    def _dtype(self, spikes: torch.Tensor) -> torch.dtype:
        return spikes.dtype if spikes.is_floating_point() else torch.get_default_dtype()

    def relaxed(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(u, x), each (batch, n), relaxed to the current step (u⁻, x⁻ a spike now would see)."""
        if self.state is None:
            raise ConfigError("call reset(batch) before reading short-term plasticity state")
        s, p = self.state, self.params
        elapsed = (self.t * self.dt_ms - s.last_spike_ms).to(s.u.dtype)
        x = 1.0 - (1.0 - s.x) * torch.exp(-elapsed / p.tau_d_ms)
        u = p.U + (s.u - p.U) * torch.exp(-elapsed / p.tau_f_ms) if p.facilitation else s.u
        return u, x

    def extra_repr(self) -> str:
        return f"n={self.n}, dt_ms={self.dt_ms:g}, {self.params}"
