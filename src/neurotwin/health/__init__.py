"""Brain health of any learner: damage curves, ageing with compensation, and recovery.

- :func:`damage_curve` (:mod:`neurotwin.health.damage`): random or targeted synapse loss, neuron
  death, synaptic noise, on copies, nested across levels, with the normalised area under the curve.
- :func:`ageing_curve` (:mod:`neurotwin.health.ageing`): gradual loss with and without the
  learner's own plasticity (``partial_fit``) between steps.
- :func:`recovery` (:mod:`neurotwin.health.recovery`): the fraction of lost accuracy a fixed
  retraining budget regains.

:func:`neurotwin.experiment.health.lesion_run` runs them all on a finished ``compare`` folder.
"""

from neurotwin.health.ageing import ageing_curve
from neurotwin.health.damage import (
    DAMAGE_KINDS,
    area_under,
    check_applicable,
    damage_curve,
    damage_masks,
    damaged_copy,
    hidden_populations,
)
from neurotwin.health.recovery import recovery

__all__ = [
    "DAMAGE_KINDS",
    "ageing_curve",
    "area_under",
    "check_applicable",
    "damage_curve",
    "damage_masks",
    "damaged_copy",
    "hidden_populations",
    "recovery",
]
