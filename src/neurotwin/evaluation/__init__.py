"""Pure evaluation functions on numpy arrays: diagnosis metrics of classifiers, calibration of
their probabilities, and conformal prediction intervals for regressors. Results are plain Python
numbers, lists and dicts, ready for the results document."""

from __future__ import annotations

from neurotwin.evaluation.calibration import (
    ece_with_ci,
    expected_calibration_error,
    reliability_diagram,
    reliability_png,
)
from neurotwin.evaluation.diagnosis import classification_metrics, label_metrics
from neurotwin.evaluation.intervals import (
    conformal_quantile,
    interval_metrics,
    mean_absolute_error,
    split_conformal,
)

__all__ = [
    "classification_metrics",
    "conformal_quantile",
    "ece_with_ci",
    "expected_calibration_error",
    "interval_metrics",
    "label_metrics",
    "mean_absolute_error",
    "reliability_diagram",
    "reliability_png",
    "split_conformal",
]
