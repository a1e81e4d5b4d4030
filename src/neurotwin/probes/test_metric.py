"""Probe ``test_metric``: the task kind's test scores, mean and std over K evaluation draws.

For each draw k = 0…K−1 the learner predicts ``X_test`` with the generator
``torch_generator(seed, "evaluation", k)`` and the kind's ``scores(y_test, ŷ_k)`` are computed
(accuracy = mean(ŷ = y); R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² and MSE = mean((y − ŷ)²)). A stochastic
learner is drawn K times (default 3), a deterministic one once. Keys: ``test_<score>`` (the mean
over draws) for every score, and ``test_<score>_std`` (the population std over draws) for every
score but MSE.
"""

from __future__ import annotations

import numpy as np

from neurotwin import kinds
from neurotwin.core.seeding import torch_generator
from neurotwin.probes.base import ProbeContext, register

#: Evaluation draws of a stochastic learner (a deterministic one is evaluated once).
DEFAULT_DRAWS = 3


def n_draws(learner, draws: int | None = None) -> int:
    """K: ``draws`` (default :data:`DEFAULT_DRAWS`) for a stochastic learner, else 1."""
    return (DEFAULT_DRAWS if draws is None else int(draws)) if learner.stochastic else 1


def evaluate(learner, task, *, seed: int, draws: int | None = None) -> tuple[dict, np.ndarray]:
    """Test scores of a fitted learner and the predictions of evaluation draw 0.

    Returns ``({"test_accuracy", "test_accuracy_std"} | {"test_r2", "test_r2_std", "test_mse"},
    predictions)``; the std is over the K draws (0 for a deterministic learner).
    """
    scores = kinds.get(task.kind).scores
    values: list[dict[str, float]] = []
    first = None
    for k in range(n_draws(learner, draws)):
        pred = learner.predict(task.X_test, generator=torch_generator(seed, "evaluation", k))
        first = pred if first is None else first
        values.append(scores(task.y_test, pred))
    out: dict[str, float] = {}
    for key in values[0]:
        arr = np.array([v[key] for v in values])
        out[f"test_{key}"] = float(arr.mean())
        if key != "mse":
            out[f"test_{key}_std"] = float(arr.std())
    return out, first


@register(name="test_metric")
def test_metric_probe(ctx: ProbeContext) -> dict[str, float]:
    """Test scores of the task kind, mean and std over the evaluation draws."""
    metrics, ctx.predictions = evaluate(ctx.learner, ctx.task, seed=ctx.seed, draws=ctx.draws)
    return metrics
