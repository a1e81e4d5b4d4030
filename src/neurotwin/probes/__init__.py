"""Probes: measurements that work on any learner through the :class:`Learner` contract alone.

Each probe has one definition, stated in its docstring:

- :func:`evaluate` — the test metric (accuracy; or R² and MSE), mean and std over K evaluation draws
  for stochastic learners, each draw with its own generator derived from the run seed.
- :func:`ops_per_inference` — NeuroBench operations per inference and the energy they imply
  (see :mod:`neurotwin.core.ops`), averaged over the inputs given.
- :func:`lesion_curve` — the test metric after masking a random fraction of *all* synapses of a copy
  of the learner, re-evaluated with the same evaluation noise at every level.
- :func:`n_params` — the number of learned parameters.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from neurotwin.core.ops import count_ops, energy_nj
from neurotwin.core.seeding import torch_generator

#: Fractions of synapses removed by the lesion probe.
LESION_FRACTIONS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
#: Evaluation draws of a stochastic learner (a deterministic one is evaluated once).
DEFAULT_DRAWS = 3

__all__ = [
    "DEFAULT_DRAWS",
    "LESION_FRACTIONS",
    "count_ops",
    "evaluate",
    "lesion_curve",
    "metric_value",
    "n_params",
    "ops_per_inference",
]


def metric_value(kind: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """``{"accuracy": …}`` for classification, ``{"r2": …, "mse": …}`` for regression.

    accuracy = mean(ŷ = y); MSE = mean((y − ŷ)²); R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)².
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if kind == "classification":
        return {"accuracy": float(np.mean(y_true == y_pred))}
    err = float(np.sum((y_true - y_pred) ** 2))
    tot = float(np.sum((y_true - y_true.mean()) ** 2)) or 1e-12
    return {"r2": 1.0 - err / tot, "mse": err / len(y_true)}


def _draws(learner, draws: int | None) -> int:
    return (DEFAULT_DRAWS if draws is None else int(draws)) if learner.stochastic else 1


def evaluate(learner, task, *, seed: int, draws: int | None = None) -> tuple[dict, np.ndarray]:
    """Test metrics of a fitted learner and the predictions of evaluation draw 0.

    Returns ``({"test_accuracy", "test_accuracy_std"} | {"test_r2", "test_r2_std", "test_mse"},
    predictions)``; the std is over the K draws (0 for a deterministic learner).
    """
    values: list[dict[str, float]] = []
    first = None
    for k in range(_draws(learner, draws)):
        pred = learner.predict(task.X_test, generator=torch_generator(seed, "evaluation", k))
        first = pred if first is None else first
        values.append(metric_value(task.kind, task.y_test, pred))
    out: dict[str, float] = {}
    for key in values[0]:
        arr = np.array([v[key] for v in values])
        out[f"test_{key}"] = float(arr.mean())
        if key != "mse":
            out[f"test_{key}_std"] = float(arr.std())
    return out, first


def ops_per_inference(learner, X, *, seed: int = 0) -> tuple[dict[str, float], float]:
    """Operations per inference on inputs ``X`` (NeuroBench definitions) and energy in nJ.

    Returns ``({"dense_mac", "effective_mac", "dense_ac", "ac", "neuron_updates"}, energy_nj)``,
    each count averaged over the ``len(X)`` inputs.
    """
    with count_ops() as counts:
        learner.predict(X, generator=torch_generator(seed, "evaluation", 0))
    per = counts.per_inference(len(X))
    return per, energy_nj(per)


def n_params(learner) -> int:
    """Number of learned parameters (weights and biases) of the learner's model."""
    return int(learner.n_params())


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


def lesion_curve(
    learner,
    task,
    *,
    seed: int,
    fractions=LESION_FRACTIONS,
    draws: int | None = None,
) -> dict[str, list[float]]:
    """Test metric after removing each fraction of all synapses at random, on a copy.

    The masked copy is re-evaluated with :func:`evaluate` (the same evaluation generators, hence the
    same noise, at every level). Returns ``{"fraction", "test_<metric>", "test_<metric>_std"}``.
    """
    metric = "accuracy" if task.kind == "classification" else "r2"
    curve: dict[str, list[float]] = {
        "fraction": [float(f) for f in fractions],
        f"test_{metric}": [],
        f"test_{metric}_std": [],
    }
    for fraction in fractions:
        masks = lesion_masks(learner, fraction, torch_generator(seed, "lesion"))
        lesioned = copy.deepcopy(learner)
        for layer, mask in zip(lesioned.synapses(), masks, strict=True):
            layer.mask.copy_(mask)
        metrics, _ = evaluate(lesioned, task, seed=seed, draws=draws)
        curve[f"test_{metric}"].append(metrics[f"test_{metric}"])
        curve[f"test_{metric}_std"].append(metrics[f"test_{metric}_std"])
    return curve
