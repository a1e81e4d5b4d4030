"""Probe ``alignment``: the alignment angle curve of a learner trained through a feedback pathway.

Definition (Lillicrap et al., 2016, Fig. 2): at the start of every epoch, on a fixed held-out batch
from the validation slice, the angle θ in degrees between the last hidden layer's weight update
under the learner's pathway and the exact backprop gradient of the same forward pass,

    θ = arccos(⟨ΔW_pathway, ΔW_backprop⟩_F / (‖ΔW_pathway‖_F ‖ΔW_backprop‖_F)) · 180/π.

θ < 90° means the pathway's updates point downhill; backprop's θ is 0 by definition. The learner
records the curve during training (with :func:`update_angle_deg`) as the series ``alignment_angle_deg`` of its last
:class:`~neurotwin.core.history.History` (``learner.history_``); this probe copies it into the row:
``alignment`` ``{"epoch": [1, …], "angle_deg": [θ, …]}`` (None where θ is undefined, a zero
update). A learner without the series gets nothing.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from neurotwin.probes.base import ProbeContext, register

#: The History series the learner records the angle in (degrees, one value per epoch).
SERIES = "alignment_angle_deg"


def update_angle_deg(update: torch.Tensor, reference: torch.Tensor) -> float | None:
    """θ = arccos(⟨u, r⟩_F / (‖u‖_F ‖r‖_F)) in degrees between two updates of one weight matrix;
    None when either is zero (the angle is undefined)."""
    u, r = update.double().flatten(), reference.double().flatten()
    norms = float(u.norm() * r.norm())
    if norms == 0.0:
        return None
    cosine = max(-1.0, min(1.0, float(u @ r) / norms))
    return math.degrees(math.acos(cosine))


@register(name="alignment")
def alignment_probe(ctx: ProbeContext) -> dict[str, Any]:
    """Angle (degrees) between the pathway's update and the backprop gradient, per epoch."""
    history = getattr(ctx.learner, "history_", None)
    angles = getattr(history, "series", {}).get(SERIES)
    if not angles:
        return {}
    return {
        "alignment": {
            "epoch": list(range(1, len(angles) + 1)),
            "angle_deg": [None if a is None else float(a) for a in angles],
        }
    }
