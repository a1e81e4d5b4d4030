"""Competing hidden units: Krotov & Hopfield (2019), "Unsupervised learning by competing hidden
units", PNAS 116(16):7723–7731.

A layer of hidden units with weights W (n_hidden, n_in) learns without labels, from local
information only. For an input v (unit range), each unit's drive uses the p-norm metric

    I_μ = ⟨W_μ, v⟩_p = Σ_i sign(W_μi) |W_μi|^(p−1) v_i

and the units compete: the most driven unit is potentiated (g = 1), the k-th most driven is
depressed (g = −Δ, anti-Hebbian), every other unit is left alone (g = 0). The plasticity rule is

    τ dW_μi/dt = g(Q_μ) · (v_i − I_μ W_μi)

which drives each updated unit towards unit p-norm, Σ_i |W_μi|^p → 1, and its weights towards the
inputs it wins (its receptive field). As in the authors' reference implementation, a minibatch's
changes are summed, scaled by their largest magnitude, and applied with a learning rate annealed
linearly to 0 over training. The classifier reads the rectified drives raised to a power n,
f_μ = max(h_μ, 0)^n with h_μ = Σ_i W_μi v_i.
"""

from __future__ import annotations

import torch
from torch import nn

from neurotwin.core.ops import add_neuron_updates
from neurotwin.core.synapses import Synapses
from neurotwin.encoding import Encoder


def krotov_hopfield_dw(
    weight: torch.Tensor, v: torch.Tensor, *, p: float = 3.0, k: int = 2, delta: float = 0.4
) -> torch.Tensor:
    """Summed weight change of the competing-hidden-units rule for a minibatch.

    Args:
        weight: W, shape (n_hidden, n_in).
        v: inputs in unit range, shape (batch, n_in).
        p: the Lebesgue norm of the metric (p >= 2).
        k: rank of the depressed unit (k >= 2).
        delta: strength Δ of anti-Hebbian depression of the k-th unit.

    Returns:
        Σ over the batch of g(Q_μ) (v_i − I_μ W_μi), shape (n_hidden, n_in), unscaled.
    """
    drive = v @ (weight.sign() * weight.abs() ** (p - 1)).T  # I, (batch, n_hidden)
    ranked = torch.topk(drive, k, dim=1).indices  # (batch, k), most driven first
    rows = torch.arange(v.shape[0], device=v.device)
    g = torch.zeros_like(drive)
    g[rows, ranked[:, 0]] = 1.0
    g[rows, ranked[:, k - 1]] = -delta
    return g.T @ v - (g * drive).sum(0)[:, None] * weight


def p_norms(weight: torch.Tensor, p: float) -> torch.Tensor:
    """Σ_i |W_μi|^p for every hidden unit μ, shape (n_hidden,)."""
    return (weight.abs() ** p).sum(1)


class CompetingUnitsNet(nn.Module):
    """Unit-range encoder → Hebbian layer (no bias) → f = relu(h)^n / scale → linear readout.

    ``feature_scale`` (a buffer) divides each feature by its spread on the training part so that
    one readout learning rate suits every n; dividing keeps zero features zero, so the readout's
    effective operations stay sparse.
    """

    def __init__(self, n_in: int, n_hidden: int, n_out: int, *, readout_power: float, generator):
        super().__init__()
        self.encoder = Encoder("unit", n_in)
        self.hidden = Synapses(n_in, n_hidden, bias=False, init="normal", generator=generator)
        self.readout = Synapses(n_hidden, n_out, init="xavier_uniform", generator=generator)
        self.readout_power = float(readout_power)
        self.register_buffer("feature_scale", torch.ones(n_hidden))

    def features(self, v: torch.Tensor) -> torch.Tensor:
        """Scaled readout features for encoded inputs ``v`` (batch, n_in) → (batch, n_hidden)."""
        f = torch.relu(self.hidden(v)) ** self.readout_power
        add_neuron_updates(f.numel())
        return f / self.feature_scale

    def head(self, f: torch.Tensor) -> torch.Tensor:
        """Readout class scores from features (batch, n_hidden) → (batch, n_out)."""
        out = self.readout(f)
        add_neuron_updates(out.numel())
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self.encoder(x)))
