"""Homeostatic plasticity: an adaptive firing threshold (Diehl & Cook 2015) and synaptic scaling
towards a target rate (Turrigiano et al. 1998, "Activity-dependent scaling of quantal amplitude in
neocortical neurons", Nature 391:892–896; the model of van Rossum, Bi & Turrigiano 2000, J. Neurosci.
20:8812–8821).

**Adaptive threshold** (Diehl & Cook 2015, Front. Comput. Neurosci. 9:99): each neuron's threshold
offset θ (mV) grows by θ₊ at each of its spikes and decays slowly, so a neuron that fires a lot
becomes harder to fire and the others get their turn::

    τ_θ dθ/dt = −θ,        at a spike  θ ← θ + θ₊        (θ₊ = 0.05 mV, τ_θ = 10⁷ ms in the paper)

Over a step of dt: θ ← θ · exp(−dt/τ_θ) + θ₊ · s, s the step's spikes (:func:`adaptive_threshold_step`).
:class:`AdaptiveThreshold` holds θ (n,) as a learned buffer, shared over the batch (s is the batch
mean: a batch is parallel presentations). A spiking neuron reads it as an offset of its threshold;
for :class:`~neurotwin.brain.neurons.LIF`, write it into the state's ``theta_mV`` before each step.

**Synaptic scaling**: a neuron estimates its own rate r (Hz) with a slow low-pass filter of its
spikes and multiplies all its incoming weights up when it fires below the target r₀ and down above
it, so the relative weights (what it has learned) are kept while its rate is held near r₀::

    τ_r dr/dt = −r + Σ_spikes δ(t − t_k)         (exact over a step, :func:`rate_estimate_step`)
    τ_s dw_ij/dt = w_ij · (1 − r_i / r₀)          (:func:`synaptic_scaling_dw`)

t, τ_r, τ_s in ms (r in Hz: a spike adds 1000/τ_r Hz). τ_s must be long compared with τ_r (the
rate estimate must settle faster than the weights move), and τ_r long compared with the inter-spike
interval for a low-noise estimate. :class:`SynapticScaling` holds r (post,) and applies the change to
any :class:`~neurotwin.core.Synapses` through ``apply_dw_``, so masked synapses stay as they are.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from neurotwin.brain.plasticity._checks import (
    activity,
    check_non_negative,
    check_positive,
    matrix,
    positive_int,
    vector,
)
from neurotwin.core.synapses import Synapses


def adaptive_threshold_step(
    theta_mV: torch.Tensor,
    spikes: torch.Tensor,
    *,
    theta_plus_mV: float,
    tau_theta_ms: float,
    dt_ms: float,
) -> torch.Tensor:
    """θ · exp(−dt/τ_θ) + θ₊ · spikes, the threshold offset (mV) after one step (any matching
    shapes: (n,) or (batch, n))."""
    check_non_negative("theta_plus_mV", theta_plus_mV)
    check_positive("tau_theta_ms", tau_theta_ms)
    check_positive("dt_ms", dt_ms)
    return theta_mV * math.exp(-dt_ms / tau_theta_ms) + theta_plus_mV * spikes


class AdaptiveThreshold(nn.Module):
    """Diehl & Cook (2015)'s adaptive threshold θ (n,) in mV, a persistent buffer (module docstring).

    Args:
        n: number of neurons.
        theta_plus_mV: the increment θ₊ per spike (mV, >= 0).
        tau_theta_ms: the decay time constant τ_θ (ms, > 0).
        dt_ms: the simulation step (ms).
    """

    def __init__(
        self,
        n: int,
        *,
        theta_plus_mV: float = 0.05,
        tau_theta_ms: float = 1e7,
        dt_ms: float = 0.5,
    ) -> None:
        super().__init__()
        check_non_negative("theta_plus_mV", theta_plus_mV)
        check_positive("tau_theta_ms", tau_theta_ms)
        check_positive("dt_ms", dt_ms)
        self.n = positive_int("n", n)
        self.theta_plus_mV, self.tau_theta_ms = float(theta_plus_mV), float(tau_theta_ms)
        self.dt_ms = float(dt_ms)
        self.register_buffer("theta_mV", torch.zeros(self.n))

    @torch.no_grad()
    def step(self, spikes: torch.Tensor) -> torch.Tensor:
        """θ after the spikes (batch, n) of one step (their batch mean counts); returns θ (n,)."""
        spikes = activity("spikes", spikes, n=self.n)
        theta = adaptive_threshold_step(
            self.theta_mV,
            spikes.mean(0).to(self.theta_mV.dtype),
            theta_plus_mV=self.theta_plus_mV,
            tau_theta_ms=self.tau_theta_ms,
            dt_ms=self.dt_ms,
        )
        self.theta_mV.copy_(theta)
        return self.theta_mV

    def extra_repr(self) -> str:
        return (
            f"n={self.n}, theta_plus_mV={self.theta_plus_mV:g}, tau_theta_ms={self.tau_theta_ms:g}"
        )


def rate_estimate_step(
    rate_hz: torch.Tensor, spikes: torch.Tensor, *, tau_rate_ms: float, dt_ms: float
) -> torch.Tensor:
    """The low-pass rate (Hz) after one step: r·a + (1 − a)·s/dt with a = exp(−dt/τ_r) and s the
    step's spike count (the exact solution for a rate s/dt held over the step); any shapes."""
    check_positive("tau_rate_ms", tau_rate_ms)
    check_positive("dt_ms", dt_ms)
    a = math.exp(-dt_ms / tau_rate_ms)
    return rate_hz * a + (1.0 - a) * spikes * (1000.0 / dt_ms)


def synaptic_scaling_dw(
    weight: torch.Tensor,
    rate_hz: torch.Tensor,
    *,
    target_rate_hz: float,
    tau_scaling_ms: float,
    dt_ms: float,
) -> torch.Tensor:
    """Δw = (dt/τ_s) · w · (1 − r/r₀) for every incoming synapse of each neuron, (post, pre).

    Args:
        weight: W (post, pre).
        rate_hz: each postsynaptic neuron's estimated rate r (post,), in Hz.
        target_rate_hz: the target rate r₀ > 0, in Hz.
        tau_scaling_ms: the scaling time constant τ_s > 0, in ms.
        dt_ms: one step, in ms.
    """
    check_positive("target_rate_hz", target_rate_hz)
    check_positive("tau_scaling_ms", tau_scaling_ms)
    check_positive("dt_ms", dt_ms)
    weight = matrix("weight", weight)
    rate_hz = vector("rate_hz", rate_hz, weight.shape[0], "post")
    factor = (dt_ms / tau_scaling_ms) * (1.0 - rate_hz / target_rate_hz)
    return factor[:, None].to(weight.dtype) * weight.detach()


class SynapticScaling(nn.Module):
    """Synaptic scaling of the incoming weights of ``post`` neurons towards ``target_rate_hz``
    (module docstring); the rate estimate ``rate_hz`` (post,) is a persistent buffer, starting at
    the target (no scaling before the neuron has been heard).

    Args:
        post: number of postsynaptic neurons.
        target_rate_hz: the target rate r₀ (Hz, > 0).
        tau_rate_ms: the rate estimate's time constant τ_r (ms).
        tau_scaling_ms: the scaling time constant τ_s (ms), much longer than τ_r.
        dt_ms: the simulation step (ms).
    """

    def __init__(
        self,
        post: int,
        *,
        target_rate_hz: float,
        tau_rate_ms: float = 1000.0,
        tau_scaling_ms: float = 10_000.0,
        dt_ms: float = 1.0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("target_rate_hz", target_rate_hz),
            ("tau_rate_ms", tau_rate_ms),
            ("tau_scaling_ms", tau_scaling_ms),
            ("dt_ms", dt_ms),
        ):
            check_positive(name, value)
        self.post = positive_int("post", post)
        self.target_rate_hz, self.dt_ms = float(target_rate_hz), float(dt_ms)
        self.tau_rate_ms, self.tau_scaling_ms = float(tau_rate_ms), float(tau_scaling_ms)
        self.register_buffer("rate_hz", torch.full((self.post,), self.target_rate_hz))

    @torch.no_grad()
    def step(self, post_spikes: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """Update the rate estimate with the spikes (batch, post) of one step (batch mean) and
        return the scaling Δw (post, pre) of ``weight`` (post, pre)."""
        spikes = activity("post_spikes", post_spikes, n=self.post, what="post")
        rate = rate_estimate_step(
            self.rate_hz,
            spikes.mean(0).to(self.rate_hz.dtype),
            tau_rate_ms=self.tau_rate_ms,
            dt_ms=self.dt_ms,
        )
        self.rate_hz.copy_(rate)
        return synaptic_scaling_dw(
            weight,
            self.rate_hz,
            target_rate_hz=self.target_rate_hz,
            tau_scaling_ms=self.tau_scaling_ms,
            dt_ms=self.dt_ms,
        )

    @torch.no_grad()
    def update_(self, synapses: Synapses, post_spikes: torch.Tensor) -> torch.Tensor:
        """:meth:`step` applied to ``synapses`` with ``apply_dw_``; returns Δw."""
        dw = self.step(post_spikes, synapses.weight)
        synapses.apply_dw_(dw)
        return dw

    def extra_repr(self) -> str:
        return (
            f"post={self.post}, target_rate_hz={self.target_rate_hz:g}, "
            f"tau_rate_ms={self.tau_rate_ms:g}, tau_scaling_ms={self.tau_scaling_ms:g}"
        )
