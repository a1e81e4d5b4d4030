"""Probe ``ops``: NeuroBench operations per inference on the test inputs, and the energy they imply.

The learner predicts ``X_test`` once (evaluation draw 0) inside :func:`~neurotwin.core.ops.count_ops`;
every :class:`~neurotwin.core.synapses.Synapses` forward pass adds its dense ops (pre × post per
sample, masked or not) and effective ops (unmasked synapses with a non-zero input), as MACs on real
inputs and ACs on spikes, and the model adds its neuron updates. Each total is divided by the number
of inputs. Energy (nJ) = (effective MAC · 4.6 pJ + AC · 0.9 pJ) / 1000 (Horowitz, ISSCC 2014).
Keys: ``ops_per_inference`` ``{"dense_mac", "effective_mac", "dense_ac", "ac", "neuron_updates"}``
and ``energy_nj_per_inference``.
"""

from __future__ import annotations

from typing import Any

from neurotwin.core.ops import count_ops, energy_nj
from neurotwin.core.seeding import torch_generator
from neurotwin.probes.base import ProbeContext, register


def ops_per_inference(learner, X, *, seed: int = 0) -> tuple[dict[str, float], float]:
    """Operations per inference on inputs ``X`` (NeuroBench definitions) and energy in nJ.

    Returns ``({"dense_mac", "effective_mac", "dense_ac", "ac", "neuron_updates"}, energy_nj)``,
    each count averaged over the ``len(X)`` inputs.
    """
    with count_ops() as counts:
        learner.predict(X, generator=torch_generator(seed, "evaluation", 0))
    per = counts.per_inference(len(X))
    return per, energy_nj(per)


@register(name="ops")
def ops_probe(ctx: ProbeContext) -> dict[str, Any]:
    """Operations and energy per inference on the test inputs (NeuroBench, Horowitz 2014)."""
    per, energy = ops_per_inference(ctx.learner, ctx.task.X_test, seed=ctx.seed)
    return {"ops_per_inference": per, "energy_nj_per_inference": energy}
