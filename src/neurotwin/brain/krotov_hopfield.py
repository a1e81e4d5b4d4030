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
linearly to 0 over training (:func:`learning_rate`); by default training lasts a budget of
sample presentations (:func:`default_epochs`). A unit has converged when its p-norm is within
:data:`CONVERGENCE_TOLERANCE` of 1 (:meth:`CompetingUnitsNet.converged_fraction`).

The classifier reads the rectified drives raised to a power n, f_μ = max(h_μ, 0)^n with
h_μ = Σ_i W_μi v_i, each divided by its spread on the fitting data; its linear readout is trained
on centred features and the centring is then folded into the readout's bias.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from neurotwin.core.ops import add_neuron_updates
from neurotwin.core.synapses import Synapses
from neurotwin.encoding import Encoder

#: Sample presentations the first layer gets by default (1,000 epochs on digits' fitting part).
SAMPLE_BUDGET = 1_250_000
#: Most epochs :func:`default_epochs` gives.
MAX_EPOCHS = 1000
#: A unit is converged when |Σ_i |W_μi|^p − 1| is below this.
CONVERGENCE_TOLERANCE = 0.05


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


def default_epochs(n_samples: int) -> int:
    """Epochs that spend :data:`SAMPLE_BUDGET` presentations: ⌈budget / n⌉, at most 1000."""
    return max(1, min(MAX_EPOCHS, math.ceil(SAMPLE_BUDGET / max(int(n_samples), 1))))


def learning_rate(lr0: float, epoch: int, n_epochs: int) -> float:
    """The annealed rate of ``epoch`` (0-based): ε = ε₀ · (1 − epoch / n_epochs)."""
    return lr0 * (1.0 - epoch / n_epochs)


class CompetingUnitsNet(nn.Module):
    """Encoder → Hebbian layer (no bias) → f = relu(h)^n / scale → linear readout.

    ``p``, ``k``, ``delta`` are the plasticity rule's parameters (see :func:`krotov_hopfield_dw`).
    ``feature_scale`` (a buffer) divides each feature by its spread on the fitting part so that
    one readout learning rate suits every n; dividing keeps zero features zero, so the readout's
    effective operations stay sparse.
    """

    def __init__(
        self,
        n_in: int,
        n_hidden: int,
        n_out: int,
        *,
        p: float,
        k: int,
        delta: float,
        readout_power: float,
        encoding: str = "unit",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.encoder = Encoder(encoding, n_in)
        self.hidden = Synapses(n_in, n_hidden, bias=False, init="normal", generator=generator)
        self.readout = Synapses(n_hidden, n_out, init="xavier_uniform", generator=generator)
        self.p, self.k, self.delta = float(p), int(k), float(delta)
        self.readout_power = float(readout_power)
        self.register_buffer("feature_scale", torch.ones(n_hidden))

    # -- stage 1: the local rule ---------------------------------------------------------------
    @torch.no_grad()
    def hebbian_epoch(
        self, v: torch.Tensor, lr: float, batch_size: int, generator: torch.Generator
    ) -> None:
        """One pass over ``v`` (n, n_in) in random minibatches: W += lr · dW / max|dW| each."""
        n = v.shape[0]
        perm = torch.randperm(n, generator=generator).to(v.device)
        for start in range(0, n - batch_size + 1 if n >= batch_size else 1, batch_size):
            batch = v[perm[start : start + batch_size]]
            dw = krotov_hopfield_dw(
                self.hidden.effective_weight(), batch, p=self.p, k=self.k, delta=self.delta
            )
            self.hidden.apply_dw_(lr * dw / dw.abs().max().clamp_min(1e-30))

    def train_unsupervised(
        self,
        v: torch.Tensor,
        *,
        n_epochs: int,
        lr0: float,
        batch_size: int,
        generator: torch.Generator,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """``n_epochs`` of :meth:`hebbian_epoch` with the rate annealed by :func:`learning_rate`."""
        for epoch in range(n_epochs):
            self.hebbian_epoch(v, learning_rate(lr0, epoch, n_epochs), batch_size, generator)
            if progress is not None:
                progress(epoch + 1, n_epochs)

    @torch.no_grad()
    def randomise_to_unit_norm_(self) -> None:
        """Scale each unit's (random) weights to unit p-norm, like a converged unit (the control)."""
        w = self.hidden.weight
        w.div_(p_norms(w, self.p)[:, None] ** (1.0 / self.p))

    def converged_fraction(self, tolerance: float = CONVERGENCE_TOLERANCE) -> float:
        """Fraction of hidden units at unit p-norm: |Σ_i |W_μi|^p − 1| < ``tolerance``."""
        norms = p_norms(self.hidden.effective_weight().detach(), self.p)
        return float(((norms - 1.0).abs() < tolerance).float().mean())

    # -- stage 2: features and readout ---------------------------------------------------------
    @torch.no_grad()
    def fit_feature_scale_(self, v: torch.Tensor) -> None:
        """Set ``feature_scale`` to each feature's standard deviation over ``v`` (n, n_in).

        A unit (nearly) silent on every fitting sample has no spread; its scale is 1, as
        scikit-learn's ``StandardScaler`` takes a scale below 10 · machine epsilon as 1, so if it
        fires on a later input its feature is not blown up by 1/ε.
        """
        f = torch.relu(self.hidden(v)) ** self.readout_power
        std = f.std(0)
        constant = std < 10 * torch.finfo(std.dtype).eps
        self.feature_scale.copy_(torch.where(constant, torch.ones_like(std), std))

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

    @torch.no_grad()
    def fold_centre_into_bias_(self, centre: torch.Tensor) -> None:
        """A readout trained on f − m becomes one on f: W(f − m) + b = Wf + (b − Wm), so zero
        features stay zero (and cost no effective operation)."""
        self.readout.bias.sub_(self.readout.effective_weight() @ centre)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(self.encoder(x)))
