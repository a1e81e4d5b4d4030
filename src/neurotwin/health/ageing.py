"""Ageing: gradual random synapse loss, with and without the learner's own plasticity in between.

On a copy of the trained learner, the fraction of synapses removed grows in ``steps`` equal
increments, f_k = k · final_fraction / steps for k = 0 … steps. The masks are those of
:func:`neurotwin.probes.lesion.lesion_masks` drawn from ``torch_generator(seed, "health",
"random")`` on the *intact* learner — the masks of the ``random`` damage curve, so the curve
without plasticity equals :func:`~neurotwin.health.damage.damage_curve` at the same fractions —
so the loss is nested (a synapse lost at step k stays lost) and zero-ablated. At each step k ≥ 1 the copy first loses the synapses of f_k; then, when
plasticity is on, it keeps learning by its own rule through
``learner.partial_fit(X_k, y_k, classes=task.n_classes)`` (regression: without ``classes``) on
``samples_per_step`` training samples drawn for that step from the seed (the same samples for
every learner and for both curves); then it is evaluated. A Hebbian learner's ``partial_fit``
runs one Hebbian epoch on its first layer and one readout epoch, an MLP's one backprop epoch: the
same samples and calls, not the same number of gradient steps, since batch sizes differ.

The masks stay in force through ``partial_fit``: :class:`~neurotwin.core.synapses.Synapses` use
``weight * mask`` in the forward pass and plasticity writes through ``apply_dw_``, so a lost
synapse's effective weight stays 0 (the mask is re-applied before each step as well).

``plasticity_control`` adds a third curve: the same partial_fit schedule on the undamaged copy,
which tells how much of the difference is compensation and how much is simply more training.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from neurotwin import kinds
from neurotwin.core.seeding import derive_seed, torch_generator
from neurotwin.errors import ConfigError
from neurotwin.health.damage import area_under
from neurotwin.probes.lesion import lesion_masks
from neurotwin.probes.test_metric import evaluate

#: Training samples each step of plasticity sees (drawn from the training part).
SAMPLES_PER_STEP = 256
#: Steps from intact to the final fraction.
STEPS = 10


def training_batch(task, n: int, *, seed: int, purpose: str) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of ``task``'s training part, drawn without replacement (with replacement when
    ``n`` exceeds it) by ``numpy.random.default_rng(derive_seed(seed, "health", purpose))``."""
    rng = np.random.default_rng(derive_seed(seed, "health", purpose))
    n_train = len(task.X_train)
    idx = rng.choice(n_train, size=int(n), replace=int(n) > n_train)
    return task.X_train[idx], task.y_train[idx]


def learn(learner, task, X, y) -> None:
    """One ``partial_fit`` call on ``(X, y)``: ``classes=task.n_classes`` for a class target,
    no classes for a regression target."""
    if kinds.get(task.kind).target == "class":
        learner.partial_fit(X, y, classes=task.n_classes)
    else:
        learner.partial_fit(X, y)


@torch.no_grad()
def _set_masks(learner, masks) -> None:
    for layer, mask in zip(learner.synapses(), masks, strict=True):
        layer.mask.copy_(mask)


def ageing_curve(
    learner,
    task,
    *,
    seed: int,
    steps: int = STEPS,
    final_fraction: float = 0.5,
    plasticity: bool = True,
    samples_per_step: int = SAMPLES_PER_STEP,
    plasticity_control: bool = False,
    draws: int | None = None,
) -> dict[str, Any]:
    """Gradual random synapse loss (module docstring) on copies; the learner is left unchanged.

    Args:
        learner: a fitted learner with ``partial_fit``.
        task: the task it was fitted on.
        seed: the run seed (masks, training samples, evaluation generators).
        steps: increments from 0 to ``final_fraction``.
        final_fraction: the fraction of synapses lost at the last step, in [0, 1].
        plasticity: whether to run the curve with plasticity between steps (the curve without
            it is always computed).
        samples_per_step: training samples per step of plasticity.
        plasticity_control: also run the plasticity schedule on the undamaged copy.
        draws: evaluation draws of a stochastic learner.

    Returns:
        ``{"fraction": [...], "test_<metric>": [...] (with plasticity; None when plasticity is
        off), "test_<metric>_no_plasticity": [...], "auc", "auc_no_plasticity",
        "budget": {"samples_per_step", "steps", "partial_fit_calls"}}``, plus
        ``"test_<metric>_plasticity_no_loss"`` and ``"auc_plasticity_no_loss"`` with
        ``plasticity_control``. ``auc`` is :func:`~neurotwin.health.damage.area_under` over the
        fractions (normalised by ``final_fraction``).
    """
    steps = int(steps)
    if steps < 1:
        raise ConfigError(f"ageing needs steps >= 1, got {steps}")
    if not 0.0 < float(final_fraction) <= 1.0:
        raise ConfigError(f"ageing needs final_fraction in (0, 1], got {final_fraction}")
    if int(samples_per_step) < 1:
        raise ConfigError(f"ageing needs samples_per_step >= 1, got {samples_per_step}")
    metric = kinds.get(task.kind).metric
    fractions = [k * float(final_fraction) / steps for k in range(steps + 1)]
    masks = [lesion_masks(learner, f, torch_generator(seed, "health", "random")) for f in fractions]
    batches = [
        training_batch(task, samples_per_step, seed=seed, purpose=f"ageing/{k}")
        for k in range(1, steps + 1)
    ]

    def run(with_loss: bool, with_learning: bool) -> list[float]:
        aged = copy.deepcopy(learner)
        values = [evaluate(aged, task, seed=seed, draws=draws)[0][f"test_{metric}"]]
        for k in range(1, steps + 1):
            if with_loss:
                _set_masks(aged, masks[k])
            if with_learning:
                learn(aged, task, *batches[k - 1])
                if with_loss:
                    _set_masks(aged, masks[k])
            values.append(evaluate(aged, task, seed=seed, draws=draws)[0][f"test_{metric}"])
        return values

    without = run(True, False)
    with_plasticity = run(True, True) if plasticity else None
    out: dict[str, Any] = {
        "fraction": fractions,
        f"test_{metric}": with_plasticity,
        f"test_{metric}_no_plasticity": without,
        "auc": None if with_plasticity is None else area_under(fractions, with_plasticity),
        "auc_no_plasticity": area_under(fractions, without),
        "budget": {
            "samples_per_step": int(samples_per_step),
            "steps": steps,
            "partial_fit_calls": steps if plasticity else 0,
        },
    }
    if plasticity_control:
        control = run(False, True)
        out[f"test_{metric}_plasticity_no_loss"] = control
        out["auc_plasticity_no_loss"] = area_under(fractions, control)
    return out
