"""Probe ``diagnosis``: what a medical-data analyst asks of a classifier, on the test part.

With class probabilities (:meth:`~neurotwin.learners.base.Learner.predict_proba`, draw 0 of the
evaluation generator): ROC-AUC (one-vs-rest macro average for more than two classes), balanced
accuracy, the confusion matrix, log-loss, Brier score, and — for the positive class (the run's
``positive`` option, else the task's own, e.g. malignant for breast_cancer, else class 1 of two) —
sensitivity TP/(TP+FN) and specificity TN/(TN+FP), a sample being called positive when
P(positive) ≥ the run's ``threshold`` (default 0.5). Calibration: the top-label expected
calibration error over 15 equal-mass bins, with a bootstrap CI and the floor that a perfectly
calibrated model would show on a test part of this size, and the reliability diagram's points
(see :mod:`neurotwin.evaluation`). A learner without probabilities gets the metrics that need
only labels (balanced accuracy, confusion matrix, sensitivity and specificity of its argmax), and
``probabilities: false`` says so. Key: ``diagnosis``.
"""

from __future__ import annotations

from typing import Any

from neurotwin.core.seeding import derive_seed, torch_generator
from neurotwin.errors import ConfigError
from neurotwin.evaluation.calibration import ece_with_ci, reliability_diagram
from neurotwin.evaluation.diagnosis import classification_metrics, label_metrics
from neurotwin.probes.base import ProbeContext, register


def test_probabilities(learner, task, seed: int):
    """Draw 0's class probabilities of the test part, or None for a learner without them."""
    generator = torch_generator(seed, "evaluation", 0)
    try:
        return learner.predict_proba(task.X_test, generator=generator)
    except ConfigError:
        return None


@register(name="diagnosis")
def diagnosis_probe(ctx: ProbeContext) -> dict[str, Any]:
    """ROC-AUC, sensitivity/specificity, balanced accuracy, confusion, log-loss, Brier, ECE."""
    task = ctx.task
    positive = task.positive_index(ctx.option("positive"))
    proba = test_probabilities(ctx.learner, task, ctx.seed)
    if proba is None:
        out = label_metrics(task.y_test, ctx.predictions, task.n_classes, positive=positive)
        out["probabilities"] = False
    else:
        out = classification_metrics(
            task.y_test, proba, positive=positive, threshold=float(ctx.option("threshold"))
        )
        out["probabilities"] = True
        out["calibration"] = ece_with_ci(
            task.y_test, proba, seed=derive_seed(ctx.seed, "calibration") % (2**32)
        )
        out["reliability"] = reliability_diagram(task.y_test, proba)
    if positive is not None:
        out["positive_class"] = task.class_names[positive]
    return {"diagnosis": out}
