"""Leaky integrate-and-fire neurons (Lapicque 1907; Gerstner et al., *Neuronal Dynamics*, 2014, ch. 1),
current-based and conductance-based, with a refractory period and an optional adaptive threshold.

**Current-based** (:func:`lif_step`), membrane potential v in mV, input current I in nA::

    τ_m dv/dt = −(v − v_rest) + R_m I            (R_m in MΩ, so R_m·I is in mV)

**Conductance-based** (:func:`lif_conductance_step`), conductances g_exc, g_inh dimensionless
(in units of the leak conductance), as in Diehl & Cook (2015)::

    τ_m dv/dt = (v_rest − v) + g_exc (E_exc − v) + g_inh (E_inh − v) + R_m I
    τ_exc dg_exc/dt = −g_exc         τ_inh dg_inh/dt = −g_inh

Incoming synaptic spikes add to g_exc and g_inh (:meth:`ConductanceLIF.receive`) before a step.

**A step of dt**, in Brian2's order: every variable is integrated from its value at the start of the
step; then the refractory count goes down; then a neuron spikes when v > v_thresh + θ and is not
refractory, and is reset to v_reset and held there (not integrated) for ``refractory_ms``: it
integrates again R = round(refractory_ms/dt) steps after its spike, as in Brian2.

**Integration.** With the input constant over a step, the membrane equation is linear in v:
``τ_m dv/dt = (v_inf − v)·g_tot`` with g_tot = 1 (+ g_exc + g_inh) and
v_inf = (v_rest + g_exc E_exc + g_inh E_inh + R_m I) / g_tot. ``"exact"`` (current-based) and
``"exponential_euler"`` (conductance-based: exact while the conductances are frozen over the step)
take ``v ← v_inf + (v − v_inf)·exp(−dt·g_tot/τ_m)``; ``"euler"`` takes
``v ← v + dt·g_tot·(v_inf − v)/τ_m`` (forward Euler: first order, and it oscillates or diverges once
dt·g_tot/τ_m exceeds 1 or 2). Conductances always decay exactly: ``g ← g·exp(−dt/τ)``.

**Adaptive threshold** (Diehl & Cook 2015's θ): θ (mV) decays as ``τ_θ dθ/dt = −θ`` and grows by
``theta_plus_mV`` at each spike; ``theta_plus_mV = 0`` (the default) switches it off.

A constant current gives the rate (``rate_hz``, the closed form that tests check)::

    f = 1 / (t_ref + τ_m ln((v_inf − v_reset) / (v_inf − v_thresh)))   for v_inf > v_thresh, else 0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import torch

from neurotwin.brain.neurons.base import (
    NeuronGroup,
    check_dt,
    check_finite,
    check_non_negative,
    check_positive,
)
from neurotwin.errors import ConfigError

CURRENT_INTEGRATORS = ("exact", "euler")
CONDUCTANCE_INTEGRATORS = ("exponential_euler", "euler")


def _check_common(p, dt_ms: float, integrators: tuple[str, ...]) -> None:
    if p.integration not in integrators:
        raise ConfigError(
            f"unknown integration {p.integration!r} for {type(p).__name__}; choose one of: "
            + ", ".join(integrators)
        )
    for name in ("tau_m_ms", "r_m_Mohm", "tau_theta_ms"):
        check_positive(name, getattr(p, name))
    for name in ("refractory_ms", "theta_plus_mV"):
        check_non_negative(name, getattr(p, name))
    for name in ("v_rest_mV", "v_reset_mV", "v_thresh_mV"):
        check_finite(name, getattr(p, name))
    if p.v_reset_mV >= p.v_thresh_mV:
        raise ConfigError(
            f"v_reset_mV ({p.v_reset_mV:g}) must be below v_thresh_mV ({p.v_thresh_mV:g})"
        )
    # one step must resolve the membrane's time constant; forward Euler is also only monotone there
    check_dt(
        dt_ms, max_dt_ms=p.tau_m_ms, why=f"the membrane time constant tau_m_ms = {p.tau_m_ms:g}"
    )
    if p.refractory_ms and p.refractory_ms < dt_ms:
        raise ConfigError(
            f"refractory_ms = {p.refractory_ms:g} is shorter than one step dt_ms = {dt_ms:g}; "
            "use 0 for no refractory period or a smaller dt_ms"
        )


@dataclass(frozen=True)
class LIFParams:
    """Current-based LIF parameters (units in the names); the defaults are a generic cortical cell.

    ``integration``: ``"exact"`` (default) or ``"euler"`` (see the module docstring).
    """

    tau_m_ms: float = 10.0
    v_rest_mV: float = -65.0
    v_reset_mV: float = -65.0
    v_thresh_mV: float = -50.0
    r_m_Mohm: float = 10.0
    refractory_ms: float = 2.0
    theta_plus_mV: float = 0.0
    tau_theta_ms: float = 1e7
    integration: str = "exact"

    def validate(self, dt_ms: float) -> None:
        """Raise :class:`ConfigError` on a value out of range or a ``dt_ms`` this model can't take."""
        _check_common(self, dt_ms, CURRENT_INTEGRATORS)

    def rate_hz(self, current_nA: float) -> float:
        """The analytic firing rate (Hz) under a constant current, without adaptation."""
        v_inf = self.v_rest_mV + self.r_m_Mohm * current_nA
        if v_inf <= self.v_thresh_mV:
            return 0.0
        isi = self.refractory_ms + self.tau_m_ms * math.log(
            (v_inf - self.v_reset_mV) / (v_inf - self.v_thresh_mV)
        )
        return 1000.0 / isi

    def with_(self, **changes) -> LIFParams:
        """A copy with ``changes`` applied (e.g. ``LIFParams().with_(tau_m_ms=20)``)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class LIFConductanceParams:
    """Conductance-based LIF parameters; the defaults are Diehl & Cook (2015)'s excitatory cell.

    ``integration``: ``"exponential_euler"`` (default) or ``"euler"``.
    """

    tau_m_ms: float = 100.0
    v_rest_mV: float = -65.0
    v_reset_mV: float = -65.0
    v_thresh_mV: float = -52.0
    e_exc_mV: float = 0.0
    e_inh_mV: float = -100.0
    tau_exc_ms: float = 1.0
    tau_inh_ms: float = 2.0
    r_m_Mohm: float = 10.0
    refractory_ms: float = 5.0
    theta_plus_mV: float = 0.0
    tau_theta_ms: float = 1e7
    integration: str = "exponential_euler"

    @classmethod
    def diehl_cook_excitatory(cls) -> LIFConductanceParams:
        """Diehl & Cook (2015), excitatory: τ_m 100 ms, rest/reset −65 mV, threshold −52 mV,
        E_exc 0 mV, E_inh −100 mV, τ_exc 1 ms, τ_inh 2 ms, refractory 5 ms."""
        return cls()

    @classmethod
    def diehl_cook_inhibitory(cls) -> LIFConductanceParams:
        """Diehl & Cook (2015), inhibitory: τ_m 10 ms, rest −60 mV, reset −45 mV, threshold −40 mV,
        E_exc 0 mV, E_inh −85 mV, τ_exc 1 ms, τ_inh 2 ms, refractory 2 ms."""
        return cls(
            tau_m_ms=10.0,
            v_rest_mV=-60.0,
            v_reset_mV=-45.0,
            v_thresh_mV=-40.0,
            e_inh_mV=-85.0,
            refractory_ms=2.0,
        )

    def validate(self, dt_ms: float) -> None:
        """Raise :class:`ConfigError` on a value out of range or a ``dt_ms`` this model can't take."""
        _check_common(self, dt_ms, CONDUCTANCE_INTEGRATORS)
        for name in ("tau_exc_ms", "tau_inh_ms"):
            check_positive(name, getattr(self, name))
        for name in ("e_exc_mV", "e_inh_mV"):
            check_finite(name, getattr(self, name))
        if not self.e_inh_mV < self.v_thresh_mV < self.e_exc_mV:
            raise ConfigError(
                "a conductance LIF needs e_inh_mV < v_thresh_mV < e_exc_mV, got "
                f"{self.e_inh_mV:g}, {self.v_thresh_mV:g}, {self.e_exc_mV:g}"
            )

    def with_(self, **changes) -> LIFConductanceParams:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


class LIFState(NamedTuple):
    """Current-based LIF state, each ``(batch, n)``: membrane (mV), refractory steps left, θ (mV)."""

    v_mV: torch.Tensor
    refractory_steps: torch.Tensor
    theta_mV: torch.Tensor


class LIFConductanceState(NamedTuple):
    """Conductance-based LIF state, each ``(batch, n)``."""

    v_mV: torch.Tensor
    g_exc: torch.Tensor
    g_inh: torch.Tensor
    refractory_steps: torch.Tensor
    theta_mV: torch.Tensor


def _membrane(v, v_inf, g_tot, dt_ms: float, tau_m_ms: float, integration: str):
    if integration == "euler":
        return v + (dt_ms / tau_m_ms) * g_tot * (v_inf - v)
    if isinstance(g_tot, float):  # current-based: the decay factor is one number
        return v_inf + (v - v_inf) * math.exp(-(dt_ms / tau_m_ms) * g_tot)
    return v_inf + (v - v_inf) * torch.exp(-(dt_ms / tau_m_ms) * g_tot)


def _fire(v_new, v_old, refractory, theta, p, dt_ms: float):
    """Hold refractory cells, count down, threshold, reset; returns (v, refractory, theta, spikes)."""
    holding = refractory > 0
    v = torch.where(holding, v_old, v_new)
    refractory = (refractory - 1).clamp_min(0)
    spiking = (v > p.v_thresh_mV + theta) & (refractory == 0)
    spikes = spiking.to(v.dtype)
    v = torch.where(spiking, torch.full_like(v, p.v_reset_mV), v)
    # the spike's own step is the first of the R = round(t_ref/dt) refractory steps (as Brian2):
    # v stays at v_reset over [t_spike, t_spike + t_ref] and integrates again R steps later
    held = max(round(p.refractory_ms / dt_ms) - 1, 0)
    refractory = torch.where(spiking, torch.full_like(refractory, held), refractory)
    if p.theta_plus_mV:
        theta = theta * math.exp(-dt_ms / p.tau_theta_ms) + p.theta_plus_mV * spikes
    return v, refractory, theta, spikes


def lif_step(
    state: LIFState, current: torch.Tensor, params: LIFParams, dt_ms: float
) -> tuple[LIFState, torch.Tensor]:
    """One step of the current-based LIF: ``current`` (batch, n) in nA; returns (state, spikes)."""
    p = params
    v_inf = p.v_rest_mV + p.r_m_Mohm * current
    v_new = _membrane(state.v_mV, v_inf, 1.0, dt_ms, p.tau_m_ms, p.integration)
    v, refractory, theta, spikes = _fire(
        v_new, state.v_mV, state.refractory_steps, state.theta_mV, p, dt_ms
    )
    return LIFState(v, refractory, theta), spikes


def lif_conductance_step(
    state: LIFConductanceState,
    current: torch.Tensor,
    params: LIFConductanceParams,
    dt_ms: float,
) -> tuple[LIFConductanceState, torch.Tensor]:
    """One step of the conductance-based LIF: ``current`` (batch, n) in nA (zeros when the cell is
    driven by synapses alone); synaptic arrivals are already in ``state.g_exc``/``state.g_inh``."""
    p = params
    g_exc, g_inh = state.g_exc, state.g_inh
    g_tot = 1.0 + g_exc + g_inh
    v_inf = (p.v_rest_mV + g_exc * p.e_exc_mV + g_inh * p.e_inh_mV + p.r_m_Mohm * current) / g_tot
    v_new = _membrane(state.v_mV, v_inf, g_tot, dt_ms, p.tau_m_ms, p.integration)
    g_exc = g_exc * math.exp(-dt_ms / p.tau_exc_ms)
    g_inh = g_inh * math.exp(-dt_ms / p.tau_inh_ms)
    v, refractory, theta, spikes = _fire(
        v_new, state.v_mV, state.refractory_steps, state.theta_mV, p, dt_ms
    )
    return LIFConductanceState(v, g_exc, g_inh, refractory, theta), spikes


class LIF(NeuronGroup):
    """``n`` current-based LIF neurons (:func:`lif_step`); input: current in nA, ``(batch, n)``
    per step (``step_mode="s"``) or ``(T, batch, n)`` (``"m"``)."""

    step_fn = staticmethod(lif_step)

    def __init__(
        self, n: int, params: LIFParams | None = None, *, dt_ms: float = 0.1, step_mode: str = "s"
    ) -> None:
        super().__init__(n, params or LIFParams(), dt_ms=dt_ms, step_mode=step_mode)

    def initial_state(self, batch: int, *, device=None, dtype=None) -> LIFState:
        """Every neuron at v_rest, not refractory, θ = 0."""
        full = torch.full((batch, self.n), self.params.v_rest_mV, device=device, dtype=dtype)
        zeros = torch.zeros_like(full)
        return LIFState(full, zeros.clone(), zeros)


class ConductanceLIF(NeuronGroup):
    """``n`` conductance-based LIF neurons (:func:`lif_conductance_step`).

    Synaptic input arrives through :meth:`receive` (conductance increments, before the step that
    they act in); ``forward`` takes an injected current in nA (zeros for none).
    """

    step_fn = staticmethod(lif_conductance_step)

    def __init__(
        self,
        n: int,
        params: LIFConductanceParams | None = None,
        *,
        dt_ms: float = 0.1,
        step_mode: str = "s",
    ) -> None:
        super().__init__(n, params or LIFConductanceParams(), dt_ms=dt_ms, step_mode=step_mode)

    def initial_state(self, batch: int, *, device=None, dtype=None) -> LIFConductanceState:
        """Every neuron at v_rest with closed channels, not refractory, θ = 0."""
        full = torch.full((batch, self.n), self.params.v_rest_mV, device=device, dtype=dtype)
        zeros = torch.zeros_like(full)
        return LIFConductanceState(full, zeros.clone(), zeros.clone(), zeros.clone(), zeros)

    def receive(self, g_exc: torch.Tensor | float = 0.0, g_inh: torch.Tensor | float = 0.0) -> None:
        """Add conductance increments ``(batch, n)`` (dimensionless) that act from the next step."""
        if self.state is None:
            raise ConfigError("call reset(batch) before receive(): the group has no state yet")
        s = self.state
        self.state = s._replace(g_exc=s.g_exc + g_exc, g_inh=s.g_inh + g_inh)
