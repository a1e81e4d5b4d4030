"""Feedback pathways: how the output error reaches the hidden layers, as one swappable part.

A pathway is given the layer stack, the forward pass's traces (pre-activations, dropout masks) and
the output error δ_out (batch, n_out), and returns every hidden layer's δ_l (batch, n_l). Each
pathway only chooses the feedback signal g_l (batch, n_l) that stands in for ∂L/∂a_l; the layer
turns it into δ_l = f′(z_l) ⊙ g_l (with its dropout mask, see ``layers.py``). Batch first, so the
column-vector Wᵀδ of the papers is δ · W here.

- ``backprop`` (Rumelhart, Hinton & Williams, 1986): g_l = δ_{l+1} · (W_{l+1} ⊙ M_{l+1}), the
  exact gradient.
- ``feedback_alignment`` (Lillicrap, Cownden, Tweed & Akerman, 2016, Nat. Commun. 7:13276):
  g_l = δ_{l+1} · B_{l+1}, with a fixed random B_{l+1} the shape of W_{l+1}, (n_{l+1}, n_l).
- ``direct_feedback_alignment`` (Nøkland, 2016, NeurIPS): g_l = δ_out · B_l, a fixed random
  B_l (n_out, n_l) from the output error straight to each hidden layer. With one hidden layer it
  is feedback alignment (the same B gives the same update).
- ``sign_symmetry`` (Liao, Leibo & Poggio, 2016, AAAI): g_l = δ_{l+1} · sign(W_{l+1} ⊙ M_{l+1}),
  feedback that shares only the forward weights' signs, with unit magnitudes (their "uniform
  sign-concordant feedback").

Scale of B: every entry is drawn once, B_ij ~ U[−1/√n_err, 1/√n_err], where n_err is the number
of error units that project back (n_{l+1} for feedback alignment, n_out for direct feedback
alignment), the LeCun-uniform scale for that fan-in, so the signal's size does not grow with width.
Both papers draw B from a zero-mean uniform distribution and choose its range per experiment; this
one rule is our choice, and ``scale`` overrides the bound. B is fixed: training and lesions (which
edit the forward mask) never change it; backprop and sign symmetry read W ⊙ M, so a lesioned
synapse sends nothing back.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import torch
from torch import nn

from neurotwin.artificial.engine.layers import Dense, Trace
from neurotwin.errors import ConfigError, pick, shown


def _checked_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """``sizes`` as a tuple of two or more positive ints, or a ConfigError."""
    try:
        checked = tuple(operator.index(n) for n in sizes)
    except TypeError:
        checked = ()
    if len(checked) < 2 or min(checked) < 1:
        raise ConfigError(
            f"sizes must be two or more positive layer widths (inputs first), got {shown(sizes)}"
        )
    return checked


class FeedbackPathway(nn.Module):
    """The interface: :meth:`hidden_deltas` gives each hidden layer's δ; a pathway defines
    :meth:`signal`. ``sizes`` are the layer widths, inputs first: (n_in, n_1, …, n_out)."""

    name = ""

    def __init__(self, sizes: Sequence[int]) -> None:
        super().__init__()
        self.sizes = _checked_sizes(sizes)

    def signal(
        self,
        hidden: int,
        layers: Sequence[Dense],
        delta_next: torch.Tensor,
        delta_out: torch.Tensor,
    ) -> torch.Tensor:
        """g, the stand-in for ∂L/∂a of hidden layer ``hidden`` (batch, n_hidden), from the δ of
        the layer above (``delta_next``) or the output error ``delta_out``."""
        raise NotImplementedError

    @torch.no_grad()
    def hidden_deltas(
        self, layers: Sequence[Dense], traces: Sequence[Trace], delta_out: torch.Tensor
    ) -> list[torch.Tensor]:
        """δ_l (batch, n_l) for every hidden layer l = 0 … L−2, from the top down."""
        deltas: list[torch.Tensor] = [delta_out] * (len(layers) - 1)
        delta_next = delta_out
        for hidden in reversed(range(len(layers) - 1)):
            g = self.signal(hidden, layers, delta_next, delta_out)
            delta_next = deltas[hidden] = layers[hidden].local_delta(g, traces[hidden])
        return deltas

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}"


class Backprop(FeedbackPathway):
    """g_l = δ_{l+1} · (W_{l+1} ⊙ M_{l+1}): the exact gradient (Rumelhart et al., 1986)."""

    name = "backprop"

    def signal(self, hidden, layers, delta_next, delta_out):
        return delta_next @ layers[hidden + 1].synapses.effective_weight()


class SignSymmetry(FeedbackPathway):
    """g_l = δ_{l+1} · sign(W_{l+1} ⊙ M_{l+1}) (Liao, Leibo & Poggio, 2016)."""

    name = "sign_symmetry"

    def signal(self, hidden, layers, delta_next, delta_out):
        return delta_next @ torch.sign(layers[hidden + 1].synapses.effective_weight())


class _FixedRandomFeedback(FeedbackPathway):
    """A pathway with one fixed random matrix B_l per hidden layer, buffers ``B0``, ``B1``, …
    (they follow the module's device and dtype and are saved with it)."""

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        generator: torch.Generator | None = None,
        scale: float | None = None,
    ) -> None:
        super().__init__(sizes)
        if scale is not None and not (isinstance(scale, (int, float)) and 0 < scale < math.inf):
            raise ConfigError(f"scale must be a finite number > 0, got {shown(scale)}")
        for hidden, (n_err, n_hidden) in enumerate(self.shapes()):
            bound = scale if scale is not None else 1.0 / math.sqrt(n_err)
            b = (torch.rand(n_err, n_hidden, generator=generator) * 2.0 - 1.0) * bound
            self.register_buffer(f"B{hidden}", b)

    def shapes(self) -> list[tuple[int, int]]:
        """(n_err, n_l) of every hidden layer's B_l."""
        raise NotImplementedError

    @property
    def matrices(self) -> list[torch.Tensor]:
        """[B_0, B_1, …], one (n_err, n_l) matrix per hidden layer."""
        return [getattr(self, f"B{hidden}") for hidden in range(len(self.sizes) - 2)]

    @torch.no_grad()
    def set_matrices_(self, matrices: Sequence[torch.Tensor]) -> None:
        """Replace every B_l (for experiments such as B = W, which gives backprop)."""
        shapes = self.shapes()
        if len(matrices) != len(shapes) or any(
            tuple(m.shape) != s for m, s in zip(matrices, shapes, strict=False)
        ):
            got = [tuple(m.shape) for m in matrices]
            raise ConfigError(f"feedback matrices must have shapes {shapes}, got {got}")
        for b, m in zip(self.matrices, matrices, strict=True):
            b.copy_(m)


class FeedbackAlignment(_FixedRandomFeedback):
    """g_l = δ_{l+1} · B_{l+1}, B fixed and random, shaped like W_{l+1} (Lillicrap et al., 2016).
    ``matrices[l]`` is the B that reaches hidden layer l, (n_{l+1}, n_l)."""

    name = "feedback_alignment"

    def shapes(self):
        return [(self.sizes[h + 2], self.sizes[h + 1]) for h in range(len(self.sizes) - 2)]

    def signal(self, hidden, layers, delta_next, delta_out):
        return delta_next @ self.matrices[hidden]


class DirectFeedbackAlignment(_FixedRandomFeedback):
    """g_l = δ_out · B_l, B_l fixed and random, (n_out, n_l) (Nøkland, 2016)."""

    name = "direct_feedback_alignment"

    def shapes(self):
        return [(self.sizes[-1], self.sizes[h + 1]) for h in range(len(self.sizes) - 2)]

    def signal(self, hidden, layers, delta_next, delta_out):
        return delta_out @ self.matrices[hidden]


PATHWAYS: dict[str, type[FeedbackPathway]] = {
    "backprop": Backprop,
    "feedback_alignment": FeedbackAlignment,
    "direct_feedback_alignment": DirectFeedbackAlignment,
    "sign_symmetry": SignSymmetry,
}


def make_pathway(
    name: str, sizes: Sequence[int], *, generator: torch.Generator | None = None
) -> FeedbackPathway:
    """The pathway called ``name`` (one of :data:`PATHWAYS`) for layer widths ``sizes``;
    ``generator`` draws the fixed random feedback of the alignment pathways."""
    cls = pick(PATHWAYS, name, "feedback pathway")
    if issubclass(cls, _FixedRandomFeedback):
        return cls(sizes, generator=generator)
    return cls(sizes)
