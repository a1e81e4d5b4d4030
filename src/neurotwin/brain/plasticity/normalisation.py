"""Weight normalisation: each postsynaptic neuron's incoming weights scaled to a fixed sum, as
Diehl & Cook (2015, Front. Comput. Neurosci. 9:99) do after every input presentation (a sum of 78 for
784 inputs, 0.1 per input on average) so that no neuron takes over by growing all its weights.

Over the unmasked synapses M_ij of each neuron i (a row of the (post, pre) weight)::

    w_ij ← w_ij · S / Σ_k M_ik w_ik          Δw_ij = M_ij w_ij · (S / Σ_k M_ik w_ik − 1)

so Σ_j M_ij w_ij = S afterwards (up to float rounding); masked synapses are neither counted nor
changed. A neuron whose unmasked weights sum to zero or less (nothing to scale) is left as it is.
The change goes through ``apply_dw_``, which also clamps to the weight bounds: with a ``w_max`` that
a scaled weight exceeds, the sum ends below S.
"""

from __future__ import annotations

import math

import torch

from neurotwin.brain.plasticity._checks import matrix
from neurotwin.core.synapses import Synapses
from neurotwin.errors import ConfigError, DataError, shown

#: Diehl & Cook (2015)'s sum of the input weights of each excitatory neuron (784 inputs).
DIEHL_COOK_TOTAL = 78.0


def normalisation_dw(weight: torch.Tensor, mask: torch.Tensor, total: float) -> torch.Tensor:
    """Δw (post, pre) that scales each row's unmasked weights to sum to ``total`` (module docstring).

    Args:
        weight: W (post, pre).
        mask: the boolean mask (post, pre); False entries are ignored.
        total: the target sum S > 0 of each neuron's incoming weights.
    """
    if isinstance(total, bool) or not isinstance(total, (int, float)):
        raise ConfigError(f"total must be a finite number > 0, got {shown(total)}")
    if not math.isfinite(total) or total <= 0:
        raise ConfigError(f"total must be a finite number > 0, got {shown(total)}")
    weight = matrix("weight", weight).detach()
    if not isinstance(mask, torch.Tensor) or mask.shape != weight.shape:
        got = tuple(mask.shape) if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise DataError(f"mask has shape {got}; expected {tuple(weight.shape)} as the weight")
    w = weight * mask
    sums = w.sum(1, keepdim=True)
    scale = torch.where(sums > 0, total / sums, torch.ones_like(sums))
    return w * (scale - 1.0)


@torch.no_grad()
def normalise_(synapses: Synapses, total: float = DIEHL_COOK_TOTAL) -> torch.Tensor:
    """Scale each postsynaptic neuron's unmasked incoming weights of ``synapses`` to sum to
    ``total`` through ``apply_dw_``; returns the Δw applied (post, pre)."""
    dw = normalisation_dw(synapses.weight, synapses.mask, total)
    synapses.apply_dw_(dw)
    return dw
