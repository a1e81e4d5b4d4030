"""Damage: the test metric of a copy of a trained learner as it loses synapses or neurons.

Every kind works through the :class:`~neurotwin.learners.base.Learner` contract only: it edits the
``mask`` (or, for ``noise``, the ``weight``) of the :class:`~neurotwin.core.synapses.Synapses`
returned by :meth:`Learner.synapses` on a *copy*; the learner passed in is never changed. The
random choices of kind K come from ``torch_generator(seed, "health", K)``, drawn afresh for every
level, so the damage is **nested**: a synapse (or unit) removed at level f is removed at every
larger f, and noise at σ is the same draw ε scaled by σ. A removed synapse is zero-ablated (its
input counts 0); ``mode="mean"`` (``random`` and ``targeted`` only) mean-ablates it instead,
exactly as :mod:`neurotwin.probes.lesion` does.

Kinds (levels are fractions in [0, 1], except ``noise``, whose levels are σ ≥ 0):

- ``random``: ``round(f × N)`` of the N unmasked synapses of all layers together, uniformly at
  random (:func:`neurotwin.probes.lesion.lesion_masks`).
- ``targeted``: in **each layer**, the ``round(f × N_l)`` unmasked synapses with the largest
  \\|w\\| (ties broken at random). The ranking is per layer, not global: layers' weight scales
  differ by orders of magnitude (a Hebbian layer at unit p-norm against a readout trained by
  Adam; He- against Xavier-initialised layers), so a global ranking would empty the
  largest-scaled layer first and measure the scale of a layer rather than the role of a strong
  synapse. Per layer, every layer loses the same fraction, as with random loss.
- ``neurons`` (neuron death): ``round(f × H_l)`` of the H_l hidden units of each hidden
  population, uniformly at random. A dead unit loses every incoming synapse (its row in the
  layer whose ``post`` it is) and every outgoing one (its column in the next layer), so nothing
  it computes — not even ``φ(bias)`` of a unit with a bias — reaches the rest of the network.
  Hidden units are found by :func:`hidden_populations`: the ``post`` units of a dense layer
  whose ``post`` equals the ``pre`` of the next dense layer in :meth:`Learner.synapses` order
  (forward order), unit j of the one being input j of the other. Input features and output units
  never die. A learner with no such pair has no hidden units: :class:`ConfigError`.
- ``noise`` (synaptic noise): w ← w + σ · std(w_l) · ε, ε ~ N(0, 1) per synapse, std(w_l) the
  population std of the layer's unmasked weights; written into the copy's weights (not through
  plasticity). σ = 0 is the intact model.

:func:`damage_curve` evaluates each level with :func:`neurotwin.probes.test_metric.evaluate` (the
same evaluation generators at every level: common random numbers) and gives the area under the
curve, normalised by the level range, so a model that keeps its accuracy at every level has
``auc`` equal to its intact accuracy.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from neurotwin import kinds
from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError
from neurotwin.probes.lesion import lesion_masks, lesioned_copy, presynaptic_means
from neurotwin.probes.test_metric import evaluate

#: The damage kinds, in report order.
DAMAGE_KINDS = ("random", "targeted", "neurons", "noise")
#: Default levels: fractions removed (random, targeted, neurons).
FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: Default levels of ``noise``: σ, in units of each layer's weight std.
SIGMAS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
#: How a removed synapse's input is replaced (``mean``: random and targeted only).
MODES = ("zero", "mean")


def level_name(kind: str) -> str:
    """``"sigma"`` for ``noise``, ``"fraction"`` for the other kinds."""
    check_kind_name(kind)
    return "sigma" if kind == "noise" else "fraction"


def default_levels(kind: str) -> tuple[float, ...]:
    """:data:`SIGMAS` for ``noise``, :data:`FRACTIONS` for the other kinds."""
    return SIGMAS if level_name(kind) == "sigma" else FRACTIONS


def check_kind_name(kind: str) -> None:
    """:class:`ConfigError` naming the choices when ``kind`` is not a damage kind."""
    if not isinstance(kind, str) or kind not in DAMAGE_KINDS:
        raise ConfigError(f"unknown lesion kind {kind!r}; choose one of: {', '.join(DAMAGE_KINDS)}")


def check_levels(kind: str, levels: Sequence[float]) -> list[float]:
    """``levels`` as floats, checked: at least one; fractions in [0, 1]; σ ≥ 0; all finite."""
    values = [float(v) for v in levels]
    if not values:
        raise ConfigError(f"lesion kind {kind}: give at least one level")
    low, high = (0.0, float("inf")) if level_name(kind) == "sigma" else (0.0, 1.0)
    for v in values:
        if not np.isfinite(v) or not low <= v <= high:
            what = "σ must be finite and >= 0" if high > 1 else "fractions must be in [0, 1]"
            raise ConfigError(f"lesion kind {kind}: bad level {v!r} ({what})")
    return values


def hidden_populations(learner) -> list[tuple[int, int]]:
    """The hidden populations of ``learner``: pairs ``(i, j)`` of indices into
    :meth:`Learner.synapses` where layer i's ``post`` units are layer j's ``pre`` units.

    Assumption: the dense :class:`Synapses` appear in forward order, and a dense layer whose
    ``post`` equals the ``pre`` of the next dense layer feeds it, unit k being input k
    (true of every feed-forward network built from Synapses in neurotwin). Recurrent layers are
    skipped.
    """
    layers = learner.synapses()
    dense = [i for i, s in enumerate(layers) if s.kind == "dense"]
    return [
        (i, j)
        for i, j in zip(dense[:-1], dense[1:], strict=False)
        if layers[i].post == layers[j].pre
    ]


def check_applicable(learner, kind: str) -> None:
    """:class:`ConfigError` in one line when ``learner`` cannot take damage ``kind`` (an unknown
    kind, or ``neurons`` on a learner without hidden units)."""
    check_kind_name(kind)
    if not learner.synapses():
        raise ConfigError(f"{learner.name} has no synapses to damage")
    if kind == "neurons" and any(s.kind == "recurrent" for s in learner.synapses()):
        raise ConfigError(
            f"{learner.name} is recurrent, and neuron death is defined here for feed-forward "
            "hidden units only; choose --kind random|targeted|noise"
        )
    if kind == "neurons" and not hidden_populations(learner):
        raise ConfigError(
            f"{learner.name} has no hidden units to kill; choose --kind random|targeted|noise"
        )


@torch.no_grad()
def targeted_masks(learner, fraction: float, generator: torch.Generator) -> list[torch.Tensor]:
    """Masks with, in each layer, the ``round(fraction × N_l)`` unmasked synapses of largest
    \\|w\\| removed (ties broken by random numbers from ``generator``); nested across fractions
    for a fresh generator with the same seed."""
    masks = []
    for layer in learner.synapses():
        mask = layer.mask.cpu()
        tie = torch.rand(mask.shape, generator=generator)
        n_remove = int(round(fraction * int(mask.sum())))
        if n_remove == 0:
            masks.append(layer.mask.clone())
            continue
        w = layer.weight.detach().abs().cpu().to(torch.float64)
        idx = torch.nonzero(mask.flatten()).flatten()
        # sort by |w| descending, ties by the random number: a fixed ranking for every fraction
        order = np.lexsort((tie.flatten()[idx].numpy(), -w.flatten()[idx].numpy()))
        removed = idx[torch.from_numpy(order[:n_remove])]
        new = mask.flatten().clone()
        new[removed] = False
        masks.append(new.reshape(mask.shape).to(layer.mask.device))
    return masks


@torch.no_grad()
def dead_units(learner, fraction: float, generator: torch.Generator) -> list[torch.Tensor]:
    """For each hidden population (:func:`hidden_populations`), the indices of its
    ``round(fraction × H)`` dead units, ranked by random numbers from ``generator`` (nested)."""
    layers = learner.synapses()
    out = []
    for i, _ in hidden_populations(learner):
        scores = torch.rand(layers[i].post, generator=generator)
        n_dead = int(round(fraction * layers[i].post))
        out.append(torch.argsort(scores)[:n_dead])
    return out


@torch.no_grad()
def neuron_masks(learner, fraction: float, generator: torch.Generator) -> list[torch.Tensor]:
    """Masks with the units of :func:`dead_units` dead: their rows (incoming synapses) in the
    layer they are ``post`` of and their columns (outgoing synapses) in the next layer removed."""
    check_applicable(learner, "neurons")
    layers = learner.synapses()
    masks = [s.mask.clone() for s in layers]
    for (i, j), dead in zip(
        hidden_populations(learner), dead_units(learner, fraction, generator), strict=True
    ):
        dead = dead.to(masks[i].device)
        masks[i][dead, :] = False
        masks[j][:, dead.to(masks[j].device)] = False
    return masks


def damage_masks(learner, kind: str, level: float, *, seed: int) -> list[torch.Tensor]:
    """The masks of mask-based damage ``kind`` (``random``, ``targeted``, ``neurons``) at
    ``level``, drawn from ``torch_generator(seed, "health", kind)``: the masks
    :func:`damage_curve` uses at that level."""
    generator = torch_generator(seed, "health", kind)
    if kind == "random":
        return lesion_masks(learner, level, generator)
    if kind == "targeted":
        return targeted_masks(learner, level, generator)
    if kind == "neurons":
        return neuron_masks(learner, level, generator)
    check_kind_name(kind)
    raise ConfigError(f"lesion kind {kind} does not remove synapses; use damaged_copy")


@torch.no_grad()
def noisy_copy(learner, sigma: float, *, seed: int):
    """A copy of ``learner`` whose weights are w + σ · std(w_l) · ε (see the module docstring),
    ε ~ N(0, 1) drawn from ``torch_generator(seed, "health", "noise")`` (the same ε for every σ)."""
    noisy = copy.deepcopy(learner)
    if sigma == 0:
        return noisy
    generator = torch_generator(seed, "health", "noise")
    for layer in noisy.synapses():
        eps = torch.randn(layer.weight.shape, generator=generator)
        kept = layer.weight.detach()[layer.mask]
        std = float(kept.double().std(unbiased=False)) if kept.numel() > 1 else 0.0
        layer.weight.add_((sigma * std * eps).to(layer.weight.device, layer.weight.dtype))
    return noisy


def damaged_copy(learner, kind: str, level: float, *, seed: int, means=None):
    """A copy of ``learner`` with damage ``kind`` at ``level`` (``means``: presynaptic means for
    mean-ablation, :func:`neurotwin.probes.lesion.presynaptic_means`; None: zero-ablation)."""
    check_applicable(learner, kind)
    if kind == "noise":
        return noisy_copy(learner, level, seed=seed)
    return lesioned_copy(learner, damage_masks(learner, kind, level, seed=seed), means)


def area_under(levels: Sequence[float], values: Sequence[float]) -> float:
    """The trapezoid-rule area under ``values`` over ``levels``, divided by the level range
    (max − min), so a constant curve at a has area a; with a single level, that level's value."""
    x = np.asarray(levels, dtype=float)
    y = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    span = float(x[-1] - x[0])
    if span <= 0:
        return float(y.mean())
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0) / span)


def damage_curve(
    learner,
    task,
    *,
    kind: str,
    levels: Sequence[float] | None = None,
    seed: int,
    draws: int | None = None,
    mode: str = "zero",
) -> dict[str, Any]:
    """The test metric of ``learner`` under damage ``kind`` at each level (module docstring), on
    copies; the learner is left unchanged.

    Args:
        learner: a fitted learner.
        task: the task it was fitted on (its test part is evaluated).
        kind: one of :data:`DAMAGE_KINDS`.
        levels: fractions removed, or σ for ``noise`` (default :func:`default_levels`).
        seed: the run seed: damage from ``torch_generator(seed, "health", kind)``, evaluation
            from ``torch_generator(seed, "evaluation", k)`` (common random numbers).
        draws: evaluation draws of a stochastic learner (default 3).
        mode: ``"zero"`` or ``"mean"`` ablation of removed synapses (``random``/``targeted``).

    Returns:
        ``{"kind", "mode", "levels", "level_name": "fraction" | "sigma", "test_<metric>": [...],
        "test_<metric>_std": [...], "auc"}``: metric is the task kind's headline metric, the std
        is over evaluation draws, ``auc`` is :func:`area_under` of the metric over the levels
        (trapezoid rule divided by the level range).
    """
    check_applicable(learner, kind)
    levels = check_levels(kind, default_levels(kind) if levels is None else levels)
    if mode not in MODES:
        raise ConfigError(f"unknown ablation mode {mode!r}; choose one of: {', '.join(MODES)}")
    if mode == "mean" and kind not in ("random", "targeted"):
        raise ConfigError(f"mean-ablation applies to random and targeted loss, not to {kind}")
    metric = kinds.get(task.kind).metric
    means = presynaptic_means(learner, task.X_train, seed=seed) if mode == "mean" else None
    values, stds = [], []
    for level in levels:
        damaged = damaged_copy(learner, kind, level, seed=seed, means=means)
        scores, _ = evaluate(damaged, task, seed=seed, draws=draws)
        values.append(scores[f"test_{metric}"])
        stds.append(scores[f"test_{metric}_std"])
    return {
        "kind": kind,
        "mode": mode if kind != "noise" else None,
        "levels": levels,
        "level_name": level_name(kind),
        f"test_{metric}": values,
        f"test_{metric}_std": stds,
        "auc": area_under(levels, values),
    }
