"""Izhikevich neurons: E. M. Izhikevich (2003), "Simple model of spiking neurons", IEEE Transactions
on Neural Networks 14(6):1569–1572.

Time t in ms, membrane potential v in mV; the recovery variable u and the input current I are in
mV/ms (the paper's dimensionless currents, e.g. I = 10)::

    dv/dt = 0.04 v² + 5 v + 140 − u + I
    du/dt = a (b v − u)
    if v ≥ v_peak (30 mV):  v ← c,  u ← u + d

a (1/ms) is the recovery rate, b (1/ms) the coupling of u to v, c (mV) the reset potential and
d (mV/ms) the jump of u at a spike. Five parameter sets give the paper's cortical cell classes
(fig. 2): :meth:`IzhikevichParams.regular_spiking`, ``fast_spiking``, ``chattering``,
``intrinsically_bursting`` and ``low_threshold_spiking``.

**A step of dt**: v and u are integrated from their start-of-step values with the input held
constant; then a neuron whose v reached v_peak spikes, and is reset. A spike in step k belongs to
time k·dt, as Brian2's ``SpikeMonitor`` records it.

**Integration.** ``"rk4"`` (the default) is the classical fourth-order Runge–Kutta step. At the
default dt of 0.05 ms the first five spike times of every preset at I = 10 are within 0.3 ms of a
converged run (Brian2, forward Euler at dt = 0.001 ms; measured 0.03 ms for CH to 0.30 ms for FS);
what is left is the reset, which comes at the end of the step in which v crossed v_peak, up to one
step late at each spike. ``"euler"`` is forward Euler, as Brian2's ``method="euler"`` with
``threshold="v >= 30*mV"``: the same dt gives the same spike steps (Brian2 computes in volts and
seconds, and the discretised fast-spiking cell amplifies that last-bit difference, so runs much
longer than 200 ms can part by a step). It is first order: up to 1.7 ms off after five spikes at
dt = 0.1 ms. Steps are limited to :data:`MAX_DT_MS`: above it the upstroke
is skipped and RK4's stages overflow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import torch

from neurotwin.brain.neurons.base import NeuronGroup, check_dt, check_finite, check_positive
from neurotwin.errors import ConfigError

INTEGRATORS = ("rk4", "euler")
#: The default step (ms): with RK4, spike times within 0.3 ms of a converged run (module docstring).
DEFAULT_DT_MS = 0.05
#: The largest step (ms): Izhikevich (2003) integrates v in half-steps of 0.5 ms.
MAX_DT_MS = 0.5
PRESETS = (
    "regular_spiking",
    "intrinsically_bursting",
    "chattering",
    "fast_spiking",
    "low_threshold_spiking",
)


@dataclass(frozen=True)
class IzhikevichParams:
    """Izhikevich (2003) parameters: a (1/ms), b (1/ms), c_mV, d (mV/ms), the spike peak, and the
    starting membrane potential (u starts at b·v_init, as in the paper's MATLAB code).

    The defaults are the regular-spiking cell. ``integration``: ``"rk4"`` (default) or
    ``"euler"`` (see the module docstring).
    """

    a: float = 0.02
    b: float = 0.2
    c_mV: float = -65.0
    d: float = 8.0
    v_peak_mV: float = 30.0
    v_init_mV: float = -65.0
    integration: str = "rk4"

    @classmethod
    def regular_spiking(cls) -> IzhikevichParams:
        """Regular spiking (RS), excitatory cortical cells: a = 0.02, b = 0.2, c = −65 mV, d = 8;
        tonic spikes whose rate adapts."""
        return cls(a=0.02, b=0.2, c_mV=-65.0, d=8.0)

    @classmethod
    def intrinsically_bursting(cls) -> IzhikevichParams:
        """Intrinsically bursting (IB): a = 0.02, b = 0.2, c = −55 mV, d = 4; a burst at onset,
        then single spikes."""
        return cls(a=0.02, b=0.2, c_mV=-55.0, d=4.0)

    @classmethod
    def chattering(cls) -> IzhikevichParams:
        """Chattering (CH): a = 0.02, b = 0.2, c = −50 mV, d = 2; repeated high-frequency bursts."""
        return cls(a=0.02, b=0.2, c_mV=-50.0, d=2.0)

    @classmethod
    def fast_spiking(cls) -> IzhikevichParams:
        """Fast spiking (FS), inhibitory cortical cells: a = 0.1, b = 0.2, c = −65 mV, d = 2;
        high-rate tonic spikes with little adaptation."""
        return cls(a=0.1, b=0.2, c_mV=-65.0, d=2.0)

    @classmethod
    def low_threshold_spiking(cls) -> IzhikevichParams:
        """Low-threshold spiking (LTS), inhibitory cortical cells: a = 0.02, b = 0.25,
        c = −65 mV, d = 2; fire at lower currents than RS, adapt, and spike on release from
        inhibition."""
        return cls(a=0.02, b=0.25, c_mV=-65.0, d=2.0)

    @classmethod
    def preset(cls, name: str) -> IzhikevichParams:
        """The preset called ``name`` (one of :data:`PRESETS`)."""
        if name not in PRESETS:
            raise ConfigError(
                f"unknown Izhikevich preset {name!r}; choose one of: " + ", ".join(PRESETS)
            )
        return getattr(cls, name)()

    def validate(self, dt_ms: float) -> None:
        """Raise :class:`ConfigError` on a value out of range or a ``dt_ms`` this model can't take."""
        if self.integration not in INTEGRATORS:
            raise ConfigError(
                f"unknown integration {self.integration!r} for IzhikevichParams; choose one of: "
                + ", ".join(INTEGRATORS)
            )
        check_positive("a", self.a)
        for name in ("b", "c_mV", "d", "v_peak_mV", "v_init_mV"):
            check_finite(name, getattr(self, name))
        if self.c_mV >= self.v_peak_mV:
            raise ConfigError(
                f"c_mV ({self.c_mV:g}) must be below v_peak_mV ({self.v_peak_mV:g}): "
                "a reset at or above the peak would spike on every step"
            )
        check_dt(
            dt_ms, max_dt_ms=MAX_DT_MS, why="the spike upstroke (about 1 ms from -40 mV to peak)"
        )

    def with_(self, **changes) -> IzhikevichParams:
        """A copy with ``changes`` applied (e.g. ``IzhikevichParams.chattering().with_(d=4)``)."""
        return replace(self, **changes)


class IzhikevichState(NamedTuple):
    """Izhikevich state, each ``(batch, n)``: membrane potential (mV), recovery u (mV/ms)."""

    v_mV: torch.Tensor
    u: torch.Tensor


def _derivatives(v, u, current, p: IzhikevichParams):
    dv = 0.04 * v * v + 5.0 * v + 140.0 - u + current
    du = p.a * (p.b * v - u)
    return dv, du


def izhikevich_step(
    state: IzhikevichState, current: torch.Tensor, params: IzhikevichParams, dt_ms: float
) -> tuple[IzhikevichState, torch.Tensor]:
    """One step of Izhikevich neurons: ``current`` (batch, n) in mV/ms; returns (state, spikes)."""
    p, v, u = params, state.v_mV, state.u
    dv1, du1 = _derivatives(v, u, current, p)
    if p.integration == "euler":
        v, u = v + dt_ms * dv1, u + dt_ms * du1
    else:
        half = 0.5 * dt_ms
        dv2, du2 = _derivatives(v + half * dv1, u + half * du1, current, p)
        dv3, du3 = _derivatives(v + half * dv2, u + half * du2, current, p)
        dv4, du4 = _derivatives(v + dt_ms * dv3, u + dt_ms * du3, current, p)
        v = v + (dt_ms / 6.0) * (dv1 + 2.0 * dv2 + 2.0 * dv3 + dv4)
        u = u + (dt_ms / 6.0) * (du1 + 2.0 * du2 + 2.0 * du3 + du4)
    spiking = v >= p.v_peak_mV
    spikes = spiking.to(v.dtype)
    v = torch.where(spiking, torch.full_like(v, p.c_mV), v)
    u = u + p.d * spikes
    return IzhikevichState(v, u), spikes


class Izhikevich(NeuronGroup):
    """``n`` Izhikevich neurons (:func:`izhikevich_step`); input: current in mV/ms, ``(batch, n)``
    per step (``step_mode="s"``) or ``(T, batch, n)`` (``"m"``)."""

    step_fn = staticmethod(izhikevich_step)

    def __init__(
        self,
        n: int,
        params: IzhikevichParams | None = None,
        *,
        dt_ms: float = DEFAULT_DT_MS,
        step_mode: str = "s",
    ) -> None:
        super().__init__(n, params or IzhikevichParams(), dt_ms=dt_ms, step_mode=step_mode)

    def initial_state(self, batch: int, *, device=None, dtype=None) -> IzhikevichState:
        """Every neuron at v = v_init_mV and u = b·v_init_mV."""
        v = torch.full((batch, self.n), self.params.v_init_mV, device=device, dtype=dtype)
        return IzhikevichState(v, self.params.b * v)
