"""Probe ``explanations``: which input features drive a learner's test predictions.

Two methods, each reported per feature (names from the task, e.g. a CSV header):

- **Permutation importance** (Breiman 2001; model-agnostic): the drop of the task's headline test
  score when one feature's column of the test part is shuffled, mean and standard deviation over
  :data:`N_REPEATS` shuffles, computed by scikit-learn's
  :func:`~sklearn.inspection.permutation_importance` on the learner wrapped as an estimator
  (:meth:`neurotwin.sklearn.NeuroTwinClassifier.from_learner`); a 95 % CI is mean ± 1.96·sd/√R.
- **Integrated gradients** (Sundararajan et al. 2017) for a differentiable, deterministic learner,
  by Captum (the PyTorch project's library): the attribution of feature j to the output of the
  predicted class (regression: the predicted value) along the straight path from the baseline —
  the training mean of every feature — to the sample, with :data:`IG_STEPS` steps of the
  Gauss–Legendre rule; the importance is the mean |attribution| over up to :data:`IG_SAMPLES` test
  samples. A stochastic learner, or one whose forward pass autograd does not trace (the
  explicit engine of ``fa``, ``dfa``, ``sign`` and ``linear`` runs under ``no_grad`` and computes
  its own gradients), gets ``integrated_gradients: null`` with the reason.

Tasks with more than :data:`MAX_FEATURES` features (images) are skipped with the reason: a ranking
of hundreds of pixels is not what these tables are for. Key: ``explanations``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from neurotwin import kinds
from neurotwin.core.seeding import derive_seed
from neurotwin.probes.base import ProbeContext, register

#: Shuffles per feature in permutation importance.
N_REPEATS = 5
#: Test samples integrated gradients is averaged over.
IG_SAMPLES = 200
#: Steps of the path integral of integrated gradients.
IG_STEPS = 32
#: Tasks with more features than this are not explained (images).
MAX_FEATURES = 100
#: Features listed in ``top``.
TOP = 10


def permutation_scores(learner, task, *, seed: int) -> dict[str, list[float]]:
    """Permutation importance of every feature on the test part: ``{"mean", "std"}`` lists."""
    from sklearn.inspection import permutation_importance

    from neurotwin.sklearn import NeuroTwinClassifier, NeuroTwinRegressor

    wrapper = NeuroTwinClassifier if learner.kind.target == "class" else NeuroTwinRegressor
    estimator = wrapper.from_learner(learner)
    result = permutation_importance(
        estimator,
        task.X_test,
        task.y_test,
        n_repeats=N_REPEATS,
        random_state=derive_seed(seed, "permutation_importance") % (2**32),
        scoring="accuracy" if learner.kind.target == "class" else "r2",
    )
    return {
        "mean": [float(v) for v in result.importances_mean],
        "std": [float(v) for v in result.importances_std],
    }


def integrated_gradients(learner, task) -> tuple[list[float] | None, str | None]:
    """Mean |integrated gradients| per feature over the first test samples, or ``(None, why)``."""
    if learner.stochastic:
        return None, "the learner is stochastic (its output is not a function of the input)"
    from captum.attr import IntegratedGradients

    model = learner.model
    model.eval()
    x = learner._as_tensor(task.X_test[:IG_SAMPLES])
    baseline = learner._as_tensor(task.X_train.mean(axis=0, keepdims=True)).expand_as(x)
    with torch.enable_grad():
        probe = x[:1].clone().requires_grad_(True)
        if not model(probe).requires_grad:
            return None, (
                "its forward pass is not traced by autograd (the explicit engine of fa, dfa, "
                "sign and linear computes its own gradients); permutation importance only"
            )
        with torch.no_grad():
            out = model(x)
        target = out.argmax(1) if learner.kind.target == "class" else 0
        attributions = IntegratedGradients(model).attribute(
            x, baselines=baseline, target=target, n_steps=IG_STEPS
        )
    return [float(v) for v in attributions.abs().mean(0).double().cpu()], None


@register(name="explanations")
def explanations_probe(ctx: ProbeContext) -> dict[str, Any]:
    """Permutation importance and integrated gradients per feature, with the top features."""
    task, learner = ctx.task, ctx.learner
    names = list(task.feature_names)
    if len(names) > MAX_FEATURES:
        return {
            "explanations": {
                "skipped": f"{len(names)} features (more than {MAX_FEATURES}); not explained"
            }
        }
    perm = permutation_scores(learner, task, seed=ctx.seed)
    ig, why = integrated_gradients(learner, task)
    order = np.argsort(-np.asarray(perm["mean"]), kind="stable")
    out: dict[str, Any] = {
        "feature_names": names,
        "score": kinds.get(task.kind).metric,
        "permutation": {**perm, "n_repeats": N_REPEATS},
        "integrated_gradients": None if ig is None else {"mean_abs": ig, "n_steps": IG_STEPS},
        "top": [names[i] for i in order[:TOP]],
    }
    if ig is not None:
        out["top_integrated_gradients"] = [
            names[i] for i in np.argsort(-np.asarray(ig), kind="stable")[:TOP]
        ]
    else:
        out["integrated_gradients_skipped"] = why
    return {"explanations": out}
