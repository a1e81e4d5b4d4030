"""Oja's rule (Oja 1982, "A simplified neuron model as a principal component analyzer",
J. Math. Biol. 15:267–273) and Sanger's generalized Hebbian algorithm (Sanger 1989, "Optimal
unsupervised learning in a single-layer linear feedforward neural network", Neural Networks
2:459–473), as batch-averaged weight changes of linear units y = W x.

**Oja** — Hebbian growth with a decay that keeps ‖w_i‖ → 1; each unit i on its own::

    Δw_i = η · ⟨y_i (x − y_i w_i)⟩_batch        Δw = η · (yᵀx / B − diag(⟨y²⟩) W)

For zero-mean inputs with covariance C and a small enough η, w_i converges to ± the unit
eigenvector of C with the largest eigenvalue (the first principal component). Every unit of an Oja
layer finds the same one.

**Sanger (GHA)** — unit i learns from what units 1…i−1 have not explained, so the rows of W converge
to the first k principal components, in order of decreasing eigenvalue::

    Δw_i = η · ⟨y_i (x − Σ_{k ≤ i} y_k w_k)⟩     Δw = η · (yᵀx / B − LT(yᵀy / B) W)

with LT(·) the lower triangle, diagonal included. For one unit it is Oja's rule.

x (batch, pre) and y (batch, post) are dimensionless activities, W is (post, pre). The caller
computes y = x Wᵀ (e.g. ``synapses(x)`` of a :class:`~neurotwin.core.Synapses` without bias) and
applies the result with ``synapses.apply_dw_(dw)``. Centre the inputs: both rules find the
eigenvectors of ⟨x xᵀ⟩, which are the principal components only for zero-mean x.
"""

from __future__ import annotations

import torch

from neurotwin.brain.plasticity._checks import activity, check_non_negative, weight_of
from neurotwin.brain.plasticity.hebbian import outer_mean


def _checked(x, y, weight, lr):
    check_non_negative("lr", lr)
    x = activity("x", x, what="pre")
    y = activity("y", y, batch=x.shape[0], what="post")
    return x, y, weight_of(weight, y.shape[1], x.shape[1])


def oja_dw(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, *, lr: float) -> torch.Tensor:
    """Δw = η · (yᵀx / B − diag(⟨y²⟩) W), shape (post, pre) (module docstring).

    Args:
        x: inputs (batch, pre), zero-mean for principal components.
        y: outputs y = x Wᵀ, (batch, post).
        weight: W, (post, pre).
        lr: the learning rate η >= 0.
    """
    x, y, weight = _checked(x, y, weight, lr)
    return lr * (outer_mean(y, x) - (y * y).mean(0)[:, None] * weight)


def sanger_dw(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, *, lr: float) -> torch.Tensor:
    """Δw = η · (yᵀx / B − LT(yᵀy / B) W), shape (post, pre) (module docstring).

    Args:
        x: inputs (batch, pre), zero-mean for principal components.
        y: outputs y = x Wᵀ, (batch, post); row i of W learns the i-th component.
        weight: W, (post, pre).
        lr: the learning rate η >= 0.
    """
    x, y, weight = _checked(x, y, weight, lr)
    return lr * (outer_mean(y, x) - torch.tril(outer_mean(y, y)) @ weight)
