"""Synapses: the one learnable connection type that lesions, pruning, plasticity and op counting act on.

A :class:`Synapses` module holds a ``weight`` (post, pre), a boolean ``mask`` buffer of the same
shape, an optional ``bias`` (post,) that is not a synapse and is never masked, and what it connects
(``pre``, ``post``, ``kind``). The effective weight is ``weight * mask``; the forward pass is

    y = x @ (weight * mask).T + bias + ablation_drive       x: (batch, pre), y: (batch, post)

``ablation_drive`` (post,) is zero except on a mean-ablated copy: there it is
Σ_j w_ij · (old_mask_ij − new_mask_ij) · m_j, the mean input m_j of every removed synapse times its
weight, so a removed synapse contributes its average instead of its current input. It is a
non-persistent buffer: it follows the module's device and dtype and ``copy.deepcopy``, but is not in
the state dict, so saved models are unchanged.

Plasticity writes go through :meth:`Synapses.apply_dw_`, which respects the mask and the weight bounds.
Lesions and pruning edit ``mask`` (on a copy of a trained model); nothing here uses
``torch.nn.utils.prune``, whose re-parametrisation silently drops in-place weight writes.

Inside ``with count_ops():`` each forward pass counts its synaptic operations (NeuroBench, see
:mod:`neurotwin.core.ops`): **dense** = rows × pre × post, every synapse whether masked or not, as
NeuroBench's Dense; **effective** = the unmasked synapses whose input is non-zero. Inside
``with record_presynaptic_means() as rec:`` each forward pass adds its inputs to ``rec``, and
``rec.mean(layer)`` is the mean input m_j (pre,) that mean-ablation needs.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import torch
from torch import nn

from neurotwin.core import ops as _ops
from neurotwin.errors import ConfigError

KINDS = ("dense", "recurrent")
INITS = ("xavier_uniform", "he_uniform", "normal", "zeros")


class Synapses(nn.Module):
    """A masked all-to-all connection from ``pre`` to ``post`` neurons:
    y = x @ (weight * mask).T + bias + ablation_drive (see the module docstring).

    Args:
        pre: number of presynaptic neurons (inputs).
        post: number of postsynaptic neurons (outputs).
        kind: ``"dense"`` (feed-forward) or ``"recurrent"`` (a population onto itself or a peer).
        bias: whether the postsynaptic neurons get a learnable bias (not a synapse; never masked).
        init: weight initialisation: ``"xavier_uniform"`` (Glorot & Bengio 2010), ``"he_uniform"``
            (He et al. 2015), ``"normal"`` (N(0, 1)) or ``"zeros"``.
        w_min: optional lower bound that :meth:`apply_dw_` clamps the weights to.
        w_max: optional upper bound that :meth:`apply_dw_` clamps the weights to.
        pre_spikes: whether the input is binary spikes, so ops count as AC instead of MAC.
        generator: the ``torch.Generator`` for the initial weights (determinism).
    """

    def __init__(
        self,
        pre: int,
        post: int,
        *,
        kind: str = "dense",
        bias: bool = True,
        init: str = "xavier_uniform",
        w_min: float | None = None,
        w_max: float | None = None,
        pre_spikes: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ConfigError(f"unknown synapse kind {kind!r}; choose one of: {', '.join(KINDS)}")
        if init not in INITS:
            raise ConfigError(f"unknown init {init!r}; choose one of: {', '.join(INITS)}")
        if pre < 1 or post < 1:
            raise ConfigError(f"Synapses needs pre >= 1 and post >= 1, got pre={pre}, post={post}")
        self.pre, self.post, self.kind = int(pre), int(post), kind
        self.w_min, self.w_max, self.pre_spikes = w_min, w_max, pre_spikes
        self.weight = nn.Parameter(torch.empty(post, pre))
        self.register_buffer("mask", torch.ones(post, pre, dtype=torch.bool))
        self.bias = nn.Parameter(torch.zeros(post)) if bias else None
        self.register_buffer("ablation_drive", torch.zeros(post), persistent=False)
        self.reset_weights_(init, generator)

    @torch.no_grad()
    def reset_weights_(self, init: str, generator: torch.Generator | None = None) -> None:
        """Redraw the weights with ``init`` (see the class docstring); the bias is set to zero."""
        w = self.weight
        if init == "xavier_uniform":
            bound = math.sqrt(6.0 / (self.pre + self.post))
            w.uniform_(-bound, bound, generator=generator)
        elif init == "he_uniform":
            bound = math.sqrt(6.0 / self.pre)
            w.uniform_(-bound, bound, generator=generator)
        elif init == "normal":
            w.normal_(0.0, 1.0, generator=generator)
        else:
            w.zero_()
        if self.bias is not None:
            self.bias.zero_()

    def effective_weight(self) -> torch.Tensor:
        """``weight * mask``, shape (post, pre)."""
        return self.weight * self.mask

    @property
    def n_synapses(self) -> int:
        """Number of unmasked synapses."""
        return int(self.mask.sum())

    def forward(self, x: torch.Tensor, *, spikes: bool | None = None) -> torch.Tensor:
        """``x @ (weight * mask).T + bias + ablation_drive`` for ``x`` of shape (batch, pre);
        counts ops and records inputs inside the matching ``with`` blocks."""
        if _ops.active_counter() is not None:
            self._count(x, self.pre_spikes if spikes is None else spikes)
        recorder = _RECORDER.get()
        if recorder is not None:
            recorder.add(self, x)
        y = x @ self.effective_weight().T
        if self.bias is not None:
            y = y + self.bias
        # added last, so an unlesioned layer (drive 0) gives bit-identical outputs
        return y + self.ablation_drive

    @torch.no_grad()
    def _count(self, x: torch.Tensor, spikes: bool) -> None:
        fan_out = self.mask.sum(0).to(x.dtype)  # unmasked synapses leaving each input, (pre,)
        rows = x.reshape(-1, self.pre)
        dense = float(rows.shape[0]) * self.pre * self.post  # masked or not, as NeuroBench's Dense
        effective = float(((rows != 0).to(x.dtype) @ fan_out).sum())
        _ops.add_synaptic_ops(dense=dense, effective=effective, spikes=spikes)

    @torch.no_grad()
    def apply_dw_(self, dw: torch.Tensor) -> None:
        """``weight += dw`` on unmasked synapses only, then clamp to ``[w_min, w_max]``."""
        if dw.shape != self.weight.shape:
            raise ConfigError(
                f"dw has shape {tuple(dw.shape)}, expected {tuple(self.weight.shape)}"
            )
        self.weight.add_(dw * self.mask)
        if self.w_min is not None or self.w_max is not None:
            self.weight.clamp_(self.w_min, self.w_max)

    def extra_repr(self) -> str:
        return f"pre={self.pre}, post={self.post}, kind={self.kind}, bias={self.bias is not None}"


class PresynapticMeans:
    """Running sums of the inputs each :class:`Synapses` layer received, for mean-ablation.

    ``sums[layer]`` is Σ over input rows of x (pre,), in float64; ``counts[layer]`` the rows.
    """

    def __init__(self) -> None:
        self.sums: dict[Synapses, torch.Tensor] = {}
        self.counts: dict[Synapses, int] = {}

    @torch.no_grad()
    def add(self, layer: Synapses, x: torch.Tensor) -> None:
        """Add the rows of ``x`` (…, pre) to ``layer``'s sums."""
        rows = x.detach().reshape(-1, layer.pre).to(torch.float64)
        total = rows.sum(0)
        if layer in self.sums:
            self.sums[layer] += total.to(self.sums[layer].device)
            self.counts[layer] += rows.shape[0]
        else:
            self.sums[layer], self.counts[layer] = total, rows.shape[0]

    def mean(self, layer: Synapses) -> torch.Tensor:
        """m_j = the mean input of ``layer`` over every recorded row, shape (pre,), float64."""
        if not self.counts.get(layer):
            raise ValueError(
                f"no input was recorded for {layer!r}; run a forward pass of the model inside "
                "record_presynaptic_means()"
            )
        return self.sums[layer] / self.counts[layer]


_RECORDER: contextvars.ContextVar[PresynapticMeans | None] = contextvars.ContextVar(
    "nt_presynaptic_means", default=None
)


def record_presynaptic_means() -> contextlib.AbstractContextManager[PresynapticMeans]:
    """Record every :class:`Synapses` input inside the block (nesting replaces the outer)."""
    return _ops.active(_RECORDER, PresynapticMeans())
