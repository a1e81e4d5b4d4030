"""Hodgkin–Huxley neurons: A. L. Hodgkin & A. F. Huxley (1952), "A quantitative description of
membrane current and its application to conduction and excitation in nerve", J. Physiol.
117:500–544; the squid giant axon at 6.3 °C, in the modern convention (rest at −65 mV, V in mV,
inside minus outside) as in Gerstner et al., *Neuronal Dynamics* (2014), ch. 2.

Per unit membrane area: V in mV, t in ms, capacitance in µF/cm², conductances in mS/cm², the
injected current I in µA/cm²::

    C_m dV/dt = I − g_Na m³h (V − E_Na) − g_K n⁴ (V − E_K) − g_L (V − E_L)
    dx/dt = α_x(V) (1 − x) − β_x(V) x            for each gate x in m, h, n

    α_m = 0.1 (V + 40) / (1 − exp(−(V + 40)/10))      β_m = 4 exp(−(V + 65)/18)
    α_h = 0.07 exp(−(V + 65)/20)                      β_h = 1 / (1 + exp(−(V + 35)/10))
    α_n = 0.01 (V + 55) / (1 − exp(−(V + 55)/10))     β_n = 0.125 exp(−(V + 65)/80)     (1/ms)

C_m = 1, g_Na = 120, g_K = 36, g_L = 0.3, E_Na = 50 mV, E_K = −77 mV, E_L = −54.387 mV (which puts
rest at −65 mV). α_m and α_n are 0/0 at V = −40 and −55 mV; they are computed as
``k · x / (1 − exp(−x))`` with ``expm1`` and, near x = 0, its series ``k (1 + x/2 + x²/12)``.

**A step of dt** (exponential Euler, as Brian2's ``method="exponential_euler"``): every variable
goes from its start-of-step value, the others held fixed, along its exact solution over dt. Each
gate relaxes to x_∞ = α/(α + β) with time constant τ_x = 1/(α + β) (Rush & Larsen 1978)::

    x ← x_∞ + (x − x_∞) exp(−dt/τ_x)

and V, linear in itself at fixed gates, relaxes to V_∞ = (g_Na m³h E_Na + g_K n⁴ E_K + g_L E_L + I)/g
with g = g_Na m³h + g_K n⁴ + g_L::

    V ← V_∞ + (V − V_∞) exp(−dt g / C_m)

Both are stable for any dt; accuracy limits the step to :data:`MAX_DT_MS` (0.05 ms, where spike
counts still agree with dt = 0.005 ms); the default is 0.01 ms.

**Spikes**: a neuron spikes in the step where V crosses ``v_spike_mV`` (0 mV) upwards — once per
action potential, with no extra state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import torch

from neurotwin.brain.neurons.base import NeuronGroup, check_dt, check_finite, check_positive
from neurotwin.errors import ConfigError

#: The largest step (ms): the upstroke of an action potential lasts about half a millisecond.
MAX_DT_MS = 0.05


@dataclass(frozen=True)
class HodgkinHuxleyParams:
    """Hodgkin–Huxley (1952) squid-axon parameters per unit area (units in the names); the spike
    detection threshold; the starting potential (gates start at their steady state there)."""

    c_m_uF_per_cm2: float = 1.0
    g_na_mS_per_cm2: float = 120.0
    g_k_mS_per_cm2: float = 36.0
    g_l_mS_per_cm2: float = 0.3
    e_na_mV: float = 50.0
    e_k_mV: float = -77.0
    e_l_mV: float = -54.387
    v_spike_mV: float = 0.0
    v_init_mV: float = -65.0

    @classmethod
    def squid_axon(cls) -> HodgkinHuxleyParams:
        """Hodgkin & Huxley (1952), squid giant axon, shifted to rest at −65 mV: C_m 1 µF/cm²,
        g_Na 120, g_K 36, g_L 0.3 mS/cm², E_Na 50, E_K −77, E_L −54.387 mV."""
        return cls()

    def validate(self, dt_ms: float) -> None:
        """Raise :class:`ConfigError` on a value out of range or a ``dt_ms`` this model can't take."""
        for name in ("c_m_uF_per_cm2", "g_na_mS_per_cm2", "g_k_mS_per_cm2", "g_l_mS_per_cm2"):
            check_positive(name, getattr(self, name))
        for name in ("e_na_mV", "e_k_mV", "e_l_mV", "v_spike_mV", "v_init_mV"):
            check_finite(name, getattr(self, name))
        if not self.e_k_mV < self.v_spike_mV < self.e_na_mV:
            raise ConfigError(
                "a Hodgkin-Huxley neuron needs e_k_mV < v_spike_mV < e_na_mV, got "
                f"{self.e_k_mV:g}, {self.v_spike_mV:g}, {self.e_na_mV:g}"
            )
        check_dt(dt_ms, max_dt_ms=MAX_DT_MS, why="the action potential's upstroke (about 0.5 ms)")

    def with_(self, **changes) -> HodgkinHuxleyParams:
        """A copy with ``changes`` applied (e.g. ``HodgkinHuxleyParams().with_(g_k_mS_per_cm2=30)``)."""
        return replace(self, **changes)


class HodgkinHuxleyState(NamedTuple):
    """Hodgkin–Huxley state, each ``(batch, n)``: membrane potential (mV) and the gates m, h, n."""

    v_mV: torch.Tensor
    m: torch.Tensor
    h: torch.Tensor
    n: torch.Tensor


def _x_over_one_minus_exp(x: torch.Tensor) -> torch.Tensor:
    """x / (1 − exp(−x)), continuous through x = 0 (where it is 1)."""
    small = x.abs() < 1e-4
    safe = torch.where(small, torch.ones_like(x), x)
    return torch.where(small, 1.0 + x / 2.0 + x * x / 12.0, safe / -torch.expm1(-safe))


def rates(v: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The opening and closing rates (1/ms) at ``v`` (mV): (α_m, β_m, α_h, β_h, α_n, β_n)."""
    alpha_m = _x_over_one_minus_exp((v + 40.0) / 10.0)
    beta_m = 4.0 * torch.exp(-(v + 65.0) / 18.0)
    alpha_h = 0.07 * torch.exp(-(v + 65.0) / 20.0)
    beta_h = torch.sigmoid((v + 35.0) / 10.0)
    alpha_n = 0.1 * _x_over_one_minus_exp((v + 55.0) / 10.0)
    beta_n = 0.125 * torch.exp(-(v + 65.0) / 80.0)
    return alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n


def _relax(x, alpha, beta, dt_ms: float):
    rate = alpha + beta
    x_inf = alpha / rate
    return x_inf + (x - x_inf) * torch.exp(-dt_ms * rate)


def hodgkin_huxley_step(
    state: HodgkinHuxleyState,
    current: torch.Tensor,
    params: HodgkinHuxleyParams,
    dt_ms: float,
) -> tuple[HodgkinHuxleyState, torch.Tensor]:
    """One exponential-Euler step: ``current`` (batch, n) in µA/cm²; returns (state, spikes)."""
    p, v, m, h, n = params, state.v_mV, state.m, state.h, state.n
    alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n = rates(v)
    g_na = p.g_na_mS_per_cm2 * m**3 * h
    g_k = p.g_k_mS_per_cm2 * n**4
    g_tot = g_na + g_k + p.g_l_mS_per_cm2
    v_inf = (g_na * p.e_na_mV + g_k * p.e_k_mV + p.g_l_mS_per_cm2 * p.e_l_mV + current) / g_tot
    v_new = v_inf + (v - v_inf) * torch.exp(-(dt_ms / p.c_m_uF_per_cm2) * g_tot)
    spiking = (v < p.v_spike_mV) & (v_new >= p.v_spike_mV)
    m = _relax(m, alpha_m, beta_m, dt_ms)
    h = _relax(h, alpha_h, beta_h, dt_ms)
    n = _relax(n, alpha_n, beta_n, dt_ms)
    return HodgkinHuxleyState(v_new, m, h, n), spiking.to(v.dtype)


class HodgkinHuxley(NeuronGroup):
    """``n`` Hodgkin–Huxley neurons (:func:`hodgkin_huxley_step`); input: current in µA/cm²,
    ``(batch, n)`` per step (``step_mode="s"``) or ``(T, batch, n)`` (``"m"``)."""

    step_fn = staticmethod(hodgkin_huxley_step)

    def __init__(
        self,
        n: int,
        params: HodgkinHuxleyParams | None = None,
        *,
        dt_ms: float = 0.01,
        step_mode: str = "s",
    ) -> None:
        super().__init__(n, params or HodgkinHuxleyParams(), dt_ms=dt_ms, step_mode=step_mode)

    def initial_state(self, batch: int, *, device=None, dtype=None) -> HodgkinHuxleyState:
        """Every neuron at v_init_mV with each gate at its steady state x_∞(v_init_mV)."""
        v = torch.full((batch, self.n), self.params.v_init_mV, device=device, dtype=dtype)
        alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n = rates(v)
        return HodgkinHuxleyState(
            v,
            alpha_m / (alpha_m + beta_m),
            alpha_h / (alpha_h + beta_h),
            alpha_n / (alpha_n + beta_n),
        )
