"""A dense layer on :class:`~neurotwin.core.synapses.Synapses` with its forward and backward
equations written out (Rumelhart, Hinton & Williams, 1986), batch first, without autograd.

Forward, for an input a_in (batch, pre), weights W (post, pre), mask M (post, pre), bias b (post,):

    z = a_in · (W ⊙ M)ᵀ + b                       (batch, post)   through Synapses: ops are counted
    a = f(z) ⊙ keep / (1 − p)                      (batch, post)   inverted dropout (Srivastava et
                                                                    al., 2014); keep ~ Bernoulli(1 − p)

Backward, given the feedback signal g = ∂L/∂a (batch, post) that a feedback pathway delivers (for
backprop g = δ_next · (W_next ⊙ M_next), i.e. W_nextᵀ δ_next per sample):

    δ = f′(z) ⊙ (g ⊙ keep / (1 − p))               (batch, post)   the same keep as the forward pass
    ∂L/∂W = (δᵀ · a_in / batch) ⊙ M  + λ₂ (W ⊙ M) + λ₁ sign(W ⊙ M)        (post, pre)
    ∂L/∂b = (1/batch) Σ_n δ_n                       (post,)

with the penalties L1 = λ₁ Σ |W ⊙ M| and L2 = (λ₂ / 2) Σ (W ⊙ M)² on the weights only (not the
bias). δ is the per-sample error (the losses return ∂ℓ_n/∂ŷ_n), so the 1/batch above makes these the
gradients of the batch-mean loss. Masked (lesioned) synapses get no gradient and send no signal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from neurotwin.artificial.engine.activations import Activation, get_activation
from neurotwin.core.ops import add_neuron_updates
from neurotwin.core.synapses import Synapses
from neurotwin.errors import ConfigError, shown


@dataclass
class Trace:
    """What one forward pass of a :class:`Dense` layer leaves for its backward pass."""

    a_in: torch.Tensor  #: the layer's input, (batch, pre)
    z: torch.Tensor  #: pre-activations, (batch, post)
    a: torch.Tensor  #: activations after dropout, (batch, post)
    keep: torch.Tensor | None  #: dropout's keep mask (batch, post), bool; None without dropout


@dataclass
class LayerGrads:
    """∂L/∂W (post, pre) and ∂L/∂b (post,) of one layer (``bias`` None for a layer without)."""

    weight: torch.Tensor
    bias: torch.Tensor | None


def _check_rate(name: str, value: float, high: float = math.inf) -> float:
    """``value`` as a float in [0, high), or a ConfigError naming ``name``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {shown(value)}") from None
    if not (math.isfinite(value) and 0.0 <= value < high):
        bound = "" if high == math.inf else f" and < {high}"
        raise ConfigError(f"{name} must be finite, >= 0{bound}, got {value}")
    return value


class Dense(nn.Module):
    """One fully connected layer: z = a_in (W ⊙ M)ᵀ + b, a = f(z), with dropout and L1/L2
    penalties; the equations of its forward and backward passes are in the module docstring.

    Args:
        pre: input units.
        post: output units.
        activation: f, a name from :data:`~neurotwin.artificial.engine.activations.ACTIVATIONS`
            or an :class:`Activation`.
        init: initial weights, :class:`Synapses`' ``init`` (``"xavier_uniform"``, Glorot & Bengio
            2010, or ``"he_uniform"``, He et al. 2015, …).
        bias: whether the layer has a bias b.
        dropout: p, the probability of dropping each output unit during training, in [0, 1).
        l1: λ₁ ≥ 0, the weight of the L1 penalty.
        l2: λ₂ ≥ 0, the weight of the L2 penalty.
        generator: draws the initial weights.
    """

    def __init__(
        self,
        pre: int,
        post: int,
        activation: str | Activation = "relu",
        *,
        init: str = "he_uniform",
        bias: bool = True,
        dropout: float = 0.0,
        l1: float = 0.0,
        l2: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.activation = get_activation(activation)
        self.dropout = _check_rate("dropout", dropout, 1.0)
        self.l1, self.l2 = _check_rate("l1", l1), _check_rate("l2", l2)
        self.synapses = Synapses(pre, post, bias=bias, init=init, generator=generator)

    @property
    def pre(self) -> int:
        return self.synapses.pre

    @property
    def post(self) -> int:
        return self.synapses.post

    @torch.no_grad()
    def forward(
        self,
        a_in: torch.Tensor,
        *,
        train: bool = False,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, Trace]:
        """``(a, trace)``: the activations a (batch, post) and what the backward pass needs.

        ``train`` applies dropout, drawn from ``generator``; at evaluation the layer is
        deterministic (inverted dropout needs no rescaling there).
        """
        z = self.synapses(a_in)  # a_in (W ⊙ M)ᵀ + b, counted inside count_ops()
        a = self.activation.forward(z)
        add_neuron_updates(a.numel())
        keep = None
        if train and self.dropout > 0:
            keep = torch.rand(a.shape, generator=generator, device=a.device) >= self.dropout
            a = a * keep / (1.0 - self.dropout)
        return a, Trace(a_in=a_in, z=z, a=a, keep=keep)

    @torch.no_grad()
    def local_delta(self, signal: torch.Tensor, trace: Trace) -> torch.Tensor:
        """δ = f′(z) ⊙ (signal ⊙ keep / (1 − p)), (batch, post), from the feedback ``signal``
        ∂L/∂a (batch, post) and the ``trace`` of the forward pass."""
        if trace.keep is not None:
            signal = signal * trace.keep / (1.0 - self.dropout)
        return self.activation.backward(trace.z, signal)

    @torch.no_grad()
    def data_gradient(self, delta: torch.Tensor, trace: Trace) -> torch.Tensor:
        """(δᵀ · a_in / batch) ⊙ M, (post, pre): the loss's part of ∂L/∂W, before penalties."""
        return (delta.T @ trace.a_in) / delta.shape[0] * self.synapses.mask

    @torch.no_grad()
    def gradients(self, delta: torch.Tensor, trace: Trace) -> LayerGrads:
        """∂L/∂W with the L1/L2 terms, and ∂L/∂b = mean δ (see the module docstring)."""
        grad_w = self.data_gradient(delta, trace)
        w_eff = self.synapses.effective_weight()
        if self.l2 > 0:
            grad_w = grad_w + self.l2 * w_eff
        if self.l1 > 0:
            grad_w = grad_w + self.l1 * torch.sign(w_eff)
        grad_b = delta.mean(0) if self.synapses.bias is not None else None
        return LayerGrads(weight=grad_w, bias=grad_b)

    @torch.no_grad()
    def penalty(self) -> torch.Tensor:
        """λ₁ Σ |W ⊙ M| + (λ₂ / 2) Σ (W ⊙ M)², a scalar tensor."""
        w_eff = self.synapses.effective_weight()
        return self.l1 * w_eff.abs().sum() + 0.5 * self.l2 * (w_eff**2).sum()

    def extra_repr(self) -> str:
        return (
            f"pre={self.pre}, post={self.post}, activation={self.activation!r}, "
            f"dropout={self.dropout}, l1={self.l1}, l2={self.l2}"
        )
