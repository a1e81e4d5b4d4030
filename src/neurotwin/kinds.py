"""Task kinds: one table that says, for each kind of task, how it is scored, tested and shown.

Training, probes, the results store, the figures and the terminal table all read a task's kind
from here and nowhere else. A new kind is one :class:`TaskKind` passed to :func:`register` (in a
file of its own, e.g. a plug-in's); every part of neurotwin then handles it.

Each kind fixes:

- ``target``: ``"class"`` (outputs are class scores, predictions their argmax, trained by
  cross-entropy) or ``"value"`` (output column 0 is the prediction, trained by mean squared error
  on the standardised target);
- ``metric`` and ``scores``: the headline metric and the function giving every test score of
  a set of predictions (each score is reported as ``test_<name>``);
- ``paired_test``: the per-seed paired test of two models on the same test samples;
- ``figures`` and ``probes``: which report figures and which probes apply;
- ``stratify``: whether splits are stratified by the target.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurotwin.errors import ConfigError
from neurotwin.stats import mcnemar_exact, wilcoxon_paired

TARGETS = ("class", "value")


def accuracy(y_true, y_pred) -> float:
    """accuracy = mean(ŷ = y)."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)².

    Works on numpy arrays and torch tensors alike. When every y is equal (Σ(y − ȳ)² = 0) the
    denominator is taken as 1e-12, so a perfect prediction scores 1 and any error scores very low.
    """
    ss_res = float(((y_true - y_pred) ** 2).sum())
    ss_tot = float(((y_true - y_true.mean()) ** 2).sum())
    return 1.0 - ss_res / (ss_tot if ss_tot > 0 else 1e-12)


def mean_squared_error(y_true, y_pred) -> float:
    """MSE = mean((y − ŷ)²)."""
    return float(((y_true - y_pred) ** 2).mean())


def class_scores(y_true, y_pred) -> dict[str, float]:
    """``{"accuracy": …}`` of class predictions."""
    return {"accuracy": accuracy(y_true, y_pred)}


def value_scores(y_true, y_pred) -> dict[str, float]:
    """``{"r2": …, "mse": …, "mae": …}`` of real-valued predictions (MAE = mean |y − ŷ|)."""
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    return {
        "r2": r2_score(y_true, y_pred),
        "mse": mean_squared_error(y_true, y_pred),
        "mae": float(np.mean(np.abs(y_true - y_pred))),
    }


@dataclass(frozen=True)
class PairedTest:
    """A paired test of two models' predictions on the same test samples (one seed).

    ``run(y_true, pred_a, pred_b)`` returns at least ``{"p": two-sided p-value}``; ``label`` is
    its name in table headers; ``describes`` says in words what it tests (shown in the report).
    """

    name: str
    label: str
    describes: str
    run: Callable[[np.ndarray, np.ndarray, np.ndarray], dict[str, Any]]


def _mcnemar(y, a, b) -> dict[str, Any]:
    p, n01, n10 = mcnemar_exact(y, a, b)
    return {"p": p, "n01": n01, "n10": n10}


def _wilcoxon_squared_errors(y, a, b) -> dict[str, Any]:
    y = np.asarray(y, dtype=float).ravel()
    err_a = (np.asarray(a, dtype=float).ravel() - y) ** 2
    err_b = (np.asarray(b, dtype=float).ravel() - y) ** 2
    return {"p": wilcoxon_paired(err_a, err_b)}


MCNEMAR = PairedTest(
    "mcnemar_exact",
    "McNemar",
    "exact McNemar test on which test samples each model gets right (are the two error rates "
    "equal?)",
    _mcnemar,
)
WILCOXON = PairedTest(
    "wilcoxon",
    "Wilcoxon",
    "Wilcoxon signed-rank test on the per-sample squared errors (is either model's error "
    "systematically smaller?)",
    _wilcoxon_squared_errors,
)

#: Report figures drawn from a results document (see :mod:`neurotwin.report.figures`).
ALL_FIGURES = ("learning_curves", "metric_vs_energy", "lesion_curves")
#: Probes run on every row of a kind unless its entry says otherwise.
DEFAULT_PROBES = ("test_metric", "params", "ops", "lesion")
#: Probes of a classification task: the defaults, diagnosis metrics and explanations.
CLASSIFICATION_PROBES = (*DEFAULT_PROBES, "diagnosis", "explanations")
#: Probes of a regression task: the defaults, prediction intervals and explanations.
REGRESSION_PROBES = (*DEFAULT_PROBES, "intervals", "explanations")


@dataclass(frozen=True)
class TaskKind:
    """One kind of task: how its models are trained, scored, tested and shown."""

    name: str
    description: str
    target: str
    metric: str
    metric_label: str
    scores: Callable[[Any, Any], dict[str, float]]
    paired_test: PairedTest
    stratify: bool
    higher_is_better: bool = True
    #: Whether the metric is a proportion, so differences are shown in percentage points.
    proportion: bool = False
    figures: tuple[str, ...] = ALL_FIGURES
    probes: tuple[str, ...] = DEFAULT_PROBES
    #: The headline metric of a model that has learned nothing, for the lesion figure's dashed line:
    #: ``(value, label)`` from the ``task`` block of results.json, or None.
    floor: Callable[[Mapping[str, Any]], tuple[float, str] | None] = field(
        default=lambda task: None
    )

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ConfigError(
                f"task kind {self.name!r}: target {self.target!r} is not one of {TARGETS}"
            )

    @property
    def score_names(self) -> tuple[str, ...]:
        """The names of every score, the headline metric first (``("r2", "mse")``)."""
        names = list(self.scores(np.zeros(2), np.zeros(2)))
        return (self.metric, *[n for n in names if n != self.metric])


def _chance(task: Mapping[str, Any]) -> tuple[float, str] | None:
    n = task.get("n_classes")
    return (1.0 / n, f"chance (1/{n})") if n else None


_KINDS: dict[str, TaskKind] = {}


def register(kind: TaskKind) -> TaskKind:
    """Make ``kind`` known by its name (a later registration of the same name replaces it)."""
    if not isinstance(kind, TaskKind):
        raise ConfigError(f"register() takes a TaskKind, got {type(kind).__name__}")
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> TaskKind:
    """The kind registered as ``name``; :class:`ConfigError` naming the known kinds otherwise."""
    try:
        return _KINDS[name]
    except KeyError:
        raise ConfigError(
            f"unknown task kind {name!r}; choose one of: {', '.join(_KINDS)}"
        ) from None


def names() -> list[str]:
    """Registered kind names, in registration order."""
    return list(_KINDS)


def _classlike(name: str, description: str, **extra) -> TaskKind:
    return TaskKind(
        name=name,
        description=description,
        target="class",
        metric="accuracy",
        metric_label="accuracy",
        scores=class_scores,
        paired_test=MCNEMAR,
        stratify=True,
        proportion=True,
        floor=_chance,
        **extra,
    )


CLASSIFICATION = register(
    _classlike(
        "classification",
        "one class label per sample (features → class)",
        probes=CLASSIFICATION_PROBES,
    )
)
REGRESSION = register(
    TaskKind(
        name="regression",
        description="one real value per sample (features → number)",
        target="value",
        metric="r2",
        metric_label="R²",
        scores=value_scores,
        paired_test=WILCOXON,
        stratify=False,
        floor=lambda task: (0.0, "R² = 0 (predict the mean)"),
        probes=REGRESSION_PROBES,
    )
)
SEQUENCE = register(
    _classlike(
        "sequence",
        "a class label per sequence; X is (n, steps × features) with input_shape (steps, "
        "features), presented one step at a time to models that take time",
    )
)
MEMORY = register(
    _classlike(
        "memory",
        "recall after a delay: a cue, a distractor-filled delay, then the cue's class is asked for",
    )
)
CONTINUAL = register(
    _classlike(
        "continual",
        "ordered subtasks learned one after another; scored on every subtask at the end",
    )
)
