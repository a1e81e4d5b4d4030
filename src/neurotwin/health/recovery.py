"""Recovery ("rehabilitation"): how much lost accuracy a fixed retraining budget wins back.

A0 is the intact learner's test metric; A1 that of a copy damaged by
:func:`~neurotwin.health.damage.damaged_copy` at ``level`` (the same masks, or noise, as
:func:`~neurotwin.health.damage.damage_curve` uses at that level, zero-ablation). The damaged copy
is then retrained through its own ``partial_fit`` for ``budget_epochs`` calls on the same
``budget_samples`` training samples (drawn from the seed, from the training part only; the
same samples and number of calls for every learner), the damage masks kept in force (a removed
synapse's effective weight stays 0), giving A2. The fraction of the lost metric regained is

    regained = (A2 − A1) / (A0 − A1)

reported only when the damage cost more than :data:`MIN_LOSS` (0.005); below that there is
nothing meaningful to regain and ``regained`` is None (``regained_note`` says so). It can be
negative (retraining made things worse) or above 1 (better than intact).
"""

from __future__ import annotations

from typing import Any

import torch

from neurotwin import kinds
from neurotwin.errors import ConfigError
from neurotwin.health.ageing import learn, training_batch
from neurotwin.health.damage import check_applicable, check_levels, damaged_copy
from neurotwin.probes.test_metric import evaluate

#: Training samples of the retraining budget.
BUDGET_SAMPLES = 512
#: partial_fit calls (epochs over the budget samples).
BUDGET_EPOCHS = 5
#: A0 − A1 at or below which ``regained`` is not reported.
MIN_LOSS = 0.005


def recovery(
    learner,
    task,
    *,
    seed: int,
    kind: str = "random",
    level: float = 0.5,
    budget_samples: int = BUDGET_SAMPLES,
    budget_epochs: int = BUDGET_EPOCHS,
    draws: int | None = None,
) -> dict[str, Any]:
    """Damage a copy of ``learner`` by ``kind`` at ``level``, retrain it within the budget
    (module docstring), and report how much of the lost metric came back. The learner is left
    unchanged.

    Returns:
        ``{"kind", "level", "metric", "intact": A0, "lesioned": A1, "recovered": A2,
        "regained": (A2 − A1) / (A0 − A1) or None, "regained_note": None or why it is None,
        "budget": {"samples", "epochs", "partial_fit_calls"}}``.
    """
    check_applicable(learner, kind)
    (level,) = check_levels(kind, [level])
    if int(budget_samples) < 1 or int(budget_epochs) < 1:
        raise ConfigError(
            f"recovery needs budget_samples >= 1 and budget_epochs >= 1, got "
            f"{budget_samples} and {budget_epochs}"
        )
    metric = kinds.get(task.kind).metric
    key = f"test_{metric}"
    a0 = evaluate(learner, task, seed=seed, draws=draws)[0][key]
    damaged = damaged_copy(learner, kind, level, seed=seed)
    masks = [s.mask.clone() for s in damaged.synapses()]
    a1 = evaluate(damaged, task, seed=seed, draws=draws)[0][key]
    X, y = training_batch(task, budget_samples, seed=seed, purpose=f"recovery/{kind}")
    for _ in range(int(budget_epochs)):
        learn(damaged, task, X, y)
        with torch.no_grad():
            for layer, mask in zip(damaged.synapses(), masks, strict=True):
                layer.mask.copy_(mask)
    a2 = evaluate(damaged, task, seed=seed, draws=draws)[0][key]
    lost = a0 - a1
    regained = (a2 - a1) / lost if lost > MIN_LOSS else None
    return {
        "kind": kind,
        "level": level,
        "metric": key,
        "intact": a0,
        "lesioned": a1,
        "recovered": a2,
        "regained": regained,
        "regained_note": None
        if regained is not None
        else f"the damage cost {lost:.4f} (<= {MIN_LOSS}): nothing meaningful to regain",
        "budget": {
            "samples": int(budget_samples),
            "epochs": int(budget_epochs),
            "partial_fit_calls": int(budget_epochs),
        },
    }
