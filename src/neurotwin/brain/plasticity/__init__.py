"""Plasticity rules as reusable parts.

Each rule is a *pure* function of pre/post activity and traces that returns a weight change Δw of
shape (post, pre), like :attr:`neurotwin.core.Synapses.weight`; a rule that needs state (traces, a
sliding threshold, a rate estimate) has a small ``nn.Module`` holding it, batch-first, on any device,
whose ``step(...)`` returns Δw and whose ``update_(synapses, ...)`` applies it through
:meth:`~neurotwin.core.Synapses.apply_dw_`, so masks and weight bounds are always respected. The
network decides when to apply a change. Pruning edits the ``mask`` only.

- :mod:`.hebbian` — Hebb (1949) and the error-modulated delta rule (Widrow & Hoff 1960)
- :mod:`.oja` — Oja (1982), and Sanger's generalized Hebbian algorithm (1989)
- :mod:`.bcm` — Bienenstock, Cooper & Munro (1982), Intrator & Cooper (1992)'s sliding threshold
- :mod:`.stdp` — pair-based trace STDP (Song, Miller & Abbott 2000; Morrison et al. 2008)
- :mod:`.diehl_cook` — Diehl & Cook (2015)'s pre/post trace STDP
- :mod:`.homeostasis` — adaptive threshold (Diehl & Cook 2015), synaptic scaling (Turrigiano 1998)
- :mod:`.normalisation` — each neuron's incoming weights to a fixed sum (Diehl & Cook 2015)
- :mod:`.pruning` — by magnitude, activity or at random; over-growth then pruning on a schedule
"""

from neurotwin.brain.plasticity.bcm import BCM, bcm_dw, bcm_theta_step
from neurotwin.brain.plasticity.diehl_cook import DiehlCookParams, DiehlCookSTDP, diehl_cook_dw
from neurotwin.brain.plasticity.hebbian import error_modulated_dw, hebbian_dw
from neurotwin.brain.plasticity.homeostasis import (
    AdaptiveThreshold,
    SynapticScaling,
    adaptive_threshold_step,
    rate_estimate_step,
    synaptic_scaling_dw,
)
from neurotwin.brain.plasticity.normalisation import (
    DIEHL_COOK_TOTAL,
    normalisation_dw,
    normalise_,
)
from neurotwin.brain.plasticity.oja import oja_dw, sanger_dw
from neurotwin.brain.plasticity.pruning import (
    DevelopmentalPruning,
    prune_by_activity_,
    prune_by_magnitude_,
    prune_mask,
    prune_random_,
    regrow_random_,
)
from neurotwin.brain.plasticity.stdp import STDP, STDPParams, stdp_dw, trace_step

__all__ = [
    "BCM",
    "DIEHL_COOK_TOTAL",
    "STDP",
    "AdaptiveThreshold",
    "DevelopmentalPruning",
    "DiehlCookParams",
    "DiehlCookSTDP",
    "STDPParams",
    "SynapticScaling",
    "adaptive_threshold_step",
    "bcm_dw",
    "bcm_theta_step",
    "diehl_cook_dw",
    "error_modulated_dw",
    "hebbian_dw",
    "normalisation_dw",
    "normalise_",
    "oja_dw",
    "prune_by_activity_",
    "prune_by_magnitude_",
    "prune_mask",
    "prune_random_",
    "rate_estimate_step",
    "regrow_random_",
    "sanger_dw",
    "stdp_dw",
    "synaptic_scaling_dw",
    "trace_step",
]
