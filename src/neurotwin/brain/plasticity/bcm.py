"""The BCM rule with a sliding threshold (Bienenstock, Cooper & Munro 1982, "Theory for the
development of neuron selectivity", J. Neurosci. 2:32–48), in the form of Intrator & Cooper (1992,
"Objective function formulation of the BCM theory of visual cortical plasticity", Neural Networks
5:3–17), where the threshold tracks the mean squared response.

A synapse is potentiated when the postsynaptic response y exceeds the threshold θ and depressed
below it; θ slides with the recent average of y², so a neuron that responds strongly to everything
raises its threshold and ends up responding to only some inputs (selectivity)::

    Δw_ij = η · ⟨y_i (y_i − θ_i) x_j⟩_batch          (:func:`bcm_dw`)
    τ_θ dθ_i/dt = ⟨y_i²⟩_batch − θ_i                  (:func:`bcm_theta_step`)

x (batch, pre) and y (batch, post) are dimensionless rates, θ (post,) has the unit of y, η is per
unit of y²·x, and t, τ_θ are in ms (one step is ``dt_ms``; for rate models trained on presentations,
read one presentation as one step of ``dt_ms``). With the input constant over a step the threshold
update is exact: θ ← ⟨y²⟩ + (θ − ⟨y²⟩) · exp(−dt/τ_θ). The threshold is a property of the neuron,
shared over the batch (the batch is more samples of its input).

:class:`BCM` holds θ (a buffer, saved with the model) and applies the rule to any
:class:`~neurotwin.core.Synapses` through ``apply_dw_``. The threshold must move faster than the
weights (τ_θ short compared with the weights' time scale 1/η), or the rule oscillates.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from neurotwin.brain.plasticity._checks import (
    activity,
    check_non_negative,
    check_positive,
    positive_int,
    vector,
)
from neurotwin.brain.plasticity.hebbian import outer_mean
from neurotwin.core.synapses import Synapses


def bcm_dw(x: torch.Tensor, y: torch.Tensor, theta: torch.Tensor, *, lr: float) -> torch.Tensor:
    """Δw = η · ⟨y (y − θ)⟩ ⊗ x over the batch, shape (post, pre) (module docstring).

    Args:
        x: presynaptic rates (batch, pre).
        y: postsynaptic rates (batch, post).
        theta: the sliding threshold θ (post,).
        lr: the learning rate η >= 0.
    """
    check_non_negative("lr", lr)
    x = activity("x", x, what="pre")
    y = activity("y", y, batch=x.shape[0], what="post")
    theta = vector("theta", theta, y.shape[1], "post")
    phi = y * (y - theta)  # the BCM modification function φ(y, θ)
    return lr * outer_mean(phi, x)


def bcm_theta_step(
    theta: torch.Tensor, y: torch.Tensor, *, tau_theta_ms: float, dt_ms: float
) -> torch.Tensor:
    """θ after one step of τ_θ dθ/dt = ⟨y²⟩ − θ with y held over the step (exact), shape (post,)."""
    check_positive("tau_theta_ms", tau_theta_ms)
    check_positive("dt_ms", dt_ms)
    y = activity("y", y, what="post")
    theta = vector("theta", theta, y.shape[1], "post")
    target = (y * y).mean(0)
    return target + (theta - target) * math.exp(-dt_ms / tau_theta_ms)


class BCM(nn.Module):
    """BCM plasticity for ``post`` neurons: the threshold θ (post,) as a buffer, and the rule.

    Args:
        post: number of postsynaptic neurons.
        lr: the learning rate η >= 0.
        tau_theta_ms: the threshold's time constant τ_θ > 0, in ms.
        dt_ms: one step (one presentation), in ms.
        theta0: the initial threshold (the unit of y²).
    """

    def __init__(
        self,
        post: int,
        *,
        lr: float,
        tau_theta_ms: float,
        dt_ms: float = 1.0,
        theta0: float = 0.0,
    ) -> None:
        super().__init__()
        check_non_negative("lr", lr)
        check_positive("tau_theta_ms", tau_theta_ms)
        check_positive("dt_ms", dt_ms)
        check_non_negative("theta0", theta0)
        self.post = positive_int("post", post)
        self.lr, self.tau_theta_ms, self.dt_ms = float(lr), float(tau_theta_ms), float(dt_ms)
        self.register_buffer("theta", torch.full((self.post,), float(theta0)))

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Δw (post, pre) of rates ``x`` (batch, pre), ``y`` (batch, post) with the current θ;
        then θ moves one step towards ⟨y²⟩."""
        dw = bcm_dw(x, y, self.theta, lr=self.lr)
        theta = bcm_theta_step(self.theta, y, tau_theta_ms=self.tau_theta_ms, dt_ms=self.dt_ms)
        self.theta.copy_(theta.detach())
        return dw

    @torch.no_grad()
    def update_(self, synapses: Synapses, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """:meth:`step` applied to ``synapses`` with ``apply_dw_`` (mask and bounds kept);
        returns Δw."""
        dw = self.step(x, y)
        synapses.apply_dw_(dw.to(synapses.weight.dtype))
        return dw

    def extra_repr(self) -> str:
        return f"post={self.post}, lr={self.lr:g}, tau_theta_ms={self.tau_theta_ms:g}"
