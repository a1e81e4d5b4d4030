"""Hebbian plasticity (Hebb 1949, *The Organization of Behavior*) and its error-modulated form,
the delta rule (Widrow & Hoff 1960; Rescorla & Wagner 1972), as batch-averaged weight changes.

**Hebbian**: a synapse grows with the product of the activities on its two sides::

    Δw_ij = η · ⟨y_i x_j⟩_batch            Δw = η · yᵀ x / B       (post, pre)

**Error-modulated** (a three-factor form: a third signal δ replaces the postsynaptic activity; with
δ = target − output it is the delta rule, with δ a reward-prediction error a reward-modulated rule)::

    Δw_ij = η · ⟨δ_i x_j⟩_batch            Δw = η · δᵀ x / B

x (batch, pre) and y, δ (batch, post) are activities in any unit; η is per unit of x·y, so Δw is in
the weight's unit. Both rules are pure: apply the result with ``synapses.apply_dw_(dw)``, which keeps
masked synapses at their value and clamps to the weight bounds. Plain Hebbian growth is unstable
(weights grow without bound): bound it with ``w_max``, :mod:`~neurotwin.brain.plasticity.normalisation`
or a rule with its own decay (:mod:`~neurotwin.brain.plasticity.oja`, :mod:`.bcm`).
"""

from __future__ import annotations

import torch

from neurotwin.brain.plasticity._checks import activity, check_non_negative


def outer_mean(post: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
    """⟨post_i pre_j⟩ over the batch, (post, pre): the Hebbian term every rule here builds on."""
    return post.T @ pre / pre.shape[0]


def hebbian_dw(pre: torch.Tensor, post: torch.Tensor, *, lr: float) -> torch.Tensor:
    """Δw = η · postᵀ pre / B, shape (post, pre) (module docstring).

    Args:
        pre: presynaptic activity x, (batch, pre).
        post: postsynaptic activity y, (batch, post).
        lr: the learning rate η >= 0.
    """
    check_non_negative("lr", lr)
    pre = activity("pre", pre, what="pre")
    post = activity("post", post, batch=pre.shape[0], what="post")
    return lr * outer_mean(post, pre)


def error_modulated_dw(pre: torch.Tensor, error: torch.Tensor, *, lr: float) -> torch.Tensor:
    """Δw = η · δᵀ pre / B, shape (post, pre) (module docstring).

    Args:
        pre: presynaptic activity x, (batch, pre).
        error: the modulating signal δ of each postsynaptic neuron, (batch, post); for the delta
            rule δ = target − output, so that Δw lowers the squared error.
        lr: the learning rate η >= 0.
    """
    check_non_negative("lr", lr)
    pre = activity("pre", pre, what="pre")
    error = activity("error", error, batch=pre.shape[0], what="post")
    return lr * outer_mean(error, pre)
