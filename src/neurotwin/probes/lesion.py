"""Probe ``lesion``: the test metric after removing a random fraction of *all* synapses, on a copy.

For each fraction f, ``round(f × N)`` of the N unmasked synapses of every
:class:`~neurotwin.core.synapses.Synapses` layer are removed, chosen uniformly at random by a fresh
generator with the same seed, so the lesions are nested (a synapse removed at f stays removed at
every larger f). The lesioned copy is evaluated like the intact learner, with the same evaluation
generators at every level (common random numbers). Two ways to remove a synapse w_ij:

- ``"zero"`` (zero-ablation): its input contributes nothing; only the mask changes.
- ``"mean"`` (mean-ablation): its input is replaced by m_j, the mean input of its layer over the
  training inputs run through the intact model, so the postsynaptic drive of neuron i gains
  Σ_j w_ij · (old_mask_ij − new_mask_ij) · m_j, held in the layer's ``ablation_drive``.

With standardised inputs (m_j ≈ 0 in the first layer) the two are close there; with unit-range or
spike inputs they are not. Keys: ``lesion`` (zero mode) and ``lesion_mean`` (mean mode), each
``{"mode", "fraction", "test_<metric>", "test_<metric>_std"}`` with one value per fraction.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from neurotwin import kinds
from neurotwin.core.seeding import torch_generator
from neurotwin.core.synapses import record_presynaptic_means
from neurotwin.errors import ConfigError
from neurotwin.probes.base import ProbeContext, register
from neurotwin.probes.test_metric import evaluate

#: Fractions of synapses removed by the lesion probe.
LESION_FRACTIONS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
#: How a removed synapse's input is replaced: by 0, or by its mean over the training inputs.
LESION_MODES = ("zero", "mean")
#: Training inputs run through the model at a time when their means are recorded.
_CHUNK = 4096


@torch.no_grad()
def lesion_masks(learner, fraction: float, generator: torch.Generator) -> list[torch.Tensor]:
    """Masks with ``round(fraction × N)`` of the N currently unmasked synapses of all
    :meth:`~Learner.synapses` removed, chosen uniformly at random by ``generator``.

    A fresh generator with the same seed gives nested lesions: every synapse removed at a fraction
    is also removed at every larger fraction.
    """
    layers = learner.synapses()
    scores = [torch.rand(s.mask.shape, generator=generator) for s in layers]
    flat = torch.cat([sc[s.mask.cpu()] for sc, s in zip(scores, layers, strict=True)])
    n_remove = int(round(fraction * flat.numel()))
    if n_remove == 0:
        return [s.mask.clone() for s in layers]
    cutoff = torch.sort(flat).values[n_remove - 1]
    return [s.mask & (sc > cutoff).to(s.mask.device) for sc, s in zip(scores, layers, strict=True)]


@torch.no_grad()
def presynaptic_means(learner, X, *, seed: int) -> list[torch.Tensor]:
    """m_j for every layer of :meth:`~Learner.synapses`: its mean input (pre,), float64, over the
    inputs ``X`` run through the intact learner (for a stochastic one, one draw whose generator
    is derived from ``seed``)."""
    generator = torch_generator(seed, "lesion", "means")
    with record_presynaptic_means() as rec:
        for start in range(0, len(X), _CHUNK):
            learner.predict(X[start : start + _CHUNK], generator=generator)
    return [rec.mean(layer) for layer in learner.synapses()]


@torch.no_grad()
def lesioned_copy(learner, masks: list[torch.Tensor], means: list[torch.Tensor] | None = None):
    """A copy of ``learner`` with ``masks`` on its synapses: zero-ablation when ``means`` is None,
    else mean-ablation (each layer's ``ablation_drive`` gains Σ_j w_ij · removed_ij · m_j)."""
    lesioned = copy.deepcopy(learner)
    layers = lesioned.synapses()
    for i, (layer, mask) in enumerate(zip(layers, masks, strict=True)):
        if means is not None:
            removed = (layer.mask & ~mask).to(torch.float64)
            m = means[i].to(device=layer.weight.device, dtype=torch.float64)
            drive = (layer.weight.to(torch.float64) * removed) @ m
            layer.ablation_drive += drive.to(layer.ablation_drive.dtype)
        layer.mask.copy_(mask)
    return lesioned


def lesion_curve(
    learner,
    task,
    *,
    seed: int,
    fractions=LESION_FRACTIONS,
    draws: int | None = None,
    mode: str = "zero",
) -> dict[str, Any]:
    """Test metric after removing each fraction of all synapses at random (see the module
    docstring), on copies; the learner is left unchanged.

    Returns ``{"mode", "fraction", "test_<metric>", "test_<metric>_std"}``, lists over fractions,
    where metric is the task kind's headline metric.
    """
    if mode not in LESION_MODES:
        raise ConfigError(f"unknown lesion mode {mode!r}; choose one of: {', '.join(LESION_MODES)}")
    metric = kinds.get(task.kind).metric
    means = presynaptic_means(learner, task.X_train, seed=seed) if mode == "mean" else None
    values: list[float] = []
    stds: list[float] = []
    for fraction in fractions:
        masks = lesion_masks(learner, fraction, torch_generator(seed, "lesion"))
        metrics, _ = evaluate(lesioned_copy(learner, masks, means), task, seed=seed, draws=draws)
        values.append(metrics[f"test_{metric}"])
        stds.append(metrics[f"test_{metric}_std"])
    return {
        "mode": mode,
        "fraction": [float(f) for f in fractions],
        f"test_{metric}": values,
        f"test_{metric}_std": stds,
    }


@register(name="lesion")
def lesion_probe(ctx: ProbeContext) -> dict[str, Any]:
    """Test metric against the fraction of synapses removed, by zero- and by mean-ablation."""
    return {
        key: lesion_curve(ctx.learner, ctx.task, seed=ctx.seed, draws=ctx.draws, mode=mode)
        for key, mode in (("lesion", "zero"), ("lesion_mean", "mean"))
    }
