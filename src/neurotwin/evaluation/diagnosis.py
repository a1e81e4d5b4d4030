"""Diagnosis metrics of a classifier on one test set: ROC AUC, balanced accuracy, log loss, Brier
score, confusion matrix, sensitivity and specificity.

Every function is pure: it takes numpy arrays (class indices and predicted probabilities) and
returns a dict of plain Python numbers and lists, ready for the results document.

References: Hanley & McNeil (1982), Radiology 143:29 (AUC as the probability that a random
positive scores above a random negative); Hand & Till (2001), Machine Learning 45:171 and
Provost & Domingos (2000) for one-vs-rest multiclass AUC; Brier (1950), Monthly Weather Review
78:1; Brodersen et al. (2010), ICPR (balanced accuracy).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from neurotwin.errors import ConfigError, DataError, open_unit, shown

#: Probabilities are clipped to [EPS, 1] before taking the log in the log loss.
EPS = 1e-15
#: How far a row of probabilities may sum from 1 (float32 models round a little).
ROW_SUM_TOL = 1e-3


def classification_metrics(
    y_true: ArrayLike, proba: ArrayLike, *, positive: int | None, threshold: float = 0.5
) -> dict:
    """Threshold-free and threshold-based diagnosis metrics of predicted class probabilities.

    ``y_true`` holds n class indices in ``0 … k−1``; ``proba`` is ``(n, k)``, each row the
    predicted distribution over the k classes (non-negative, summing to 1). With
    ŷ_i = argmax_k p_ik (the first class on a tie) and 1[·] the indicator:

    - ``roc_auc``: for k = 2, the area under the ROC curve of the score P(positive)
      (= P[score of a random positive > score of a random negative], ties counting ½); for k > 2,
      the unweighted mean over classes c of the one-vs-rest AUC of P(c) for "class c vs the rest"
      (``sklearn.metrics.roc_auc_score(multi_class="ovr", average="macro")``). **None** when a
      class is absent from ``y_true`` (then some one-vs-rest AUC has no positives, or no
      negatives, and is undefined).
    - ``balanced_accuracy``: mean over the classes c present in ``y_true`` of the recall
      #{i: y_i = c, ŷ_i = c} / #{i: y_i = c} (as ``sklearn.metrics.balanced_accuracy_score``).
    - ``log_loss``: −(1/n) Σ_i ln max(p_{i, y_i}, 1e−15), natural log.
    - ``brier``: for k = 2 the usual (Brier 1950, binary) score (1/n) Σ_i (p_i,pos − 1[y_i = pos])²
      in [0, 1]; for k > 2 the original multiclass score (1/n) Σ_i Σ_c (p_ic − 1[y_i = c])² in
      [0, 2]. (For k = 2 the multiclass formula would give exactly twice the binary one.)
    - ``confusion_matrix``: k × k list of ints, entry [t][p] = #{i: y_i = t, ŷ_i = p} (rows are
      the true class, columns the predicted one).

    When a positive class applies — k = 2 (``positive`` None means class 1), or ``positive``
    given for k > 2 (then "positive vs every other class", one-vs-rest) — a sample is predicted
    positive iff p_i,pos ≥ ``threshold``, and the dict also holds

    - ``sensitivity`` = TP / (TP + FN) (recall of the positive class; None with no positives),
    - ``specificity`` = TN / (TN + FP) (recall of the rest; None with no negatives),
    - ``threshold`` and ``positive`` echoed.

    For k > 2 with ``positive`` None these four keys are absent.

    Raises :class:`ConfigError` for a threshold outside (0, 1) or a positive class out of range,
    :class:`DataError` for bad shapes, labels out of range, or NaN/invalid probabilities.
    """
    threshold = open_unit(threshold, "--threshold")
    y, p = check_labels_proba(y_true, proba, what="classification_metrics")
    n, k = p.shape
    pos = _positive(positive, k)
    pred = p.argmax(axis=1)
    labelled = _label_part(y, pred, k)
    out: dict = {
        "roc_auc": _roc_auc(y, p, pos),
        "balanced_accuracy": labelled["balanced_accuracy"],
        "log_loss": float(-np.mean(np.log(np.clip(p[np.arange(n), y], EPS, 1.0)))),
        "brier": _brier(y, p, 1 if pos is None else pos),
        "confusion_matrix": labelled["confusion_matrix"],
    }
    if pos is not None:
        out.update(_sens_spec(y == pos, p[:, pos] >= threshold))
        out["threshold"] = threshold
        out["positive"] = pos
    return out


def label_metrics(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int, *, positive: int | None
) -> dict:
    """The diagnosis metrics that need only predicted labels, for learners without probabilities.

    With ŷ_i the predicted class indices:

    - ``balanced_accuracy``: mean over classes c present in ``y_true`` of
      #{i: y_i = c, ŷ_i = c} / #{i: y_i = c};
    - ``confusion_matrix``: ``n_classes`` × ``n_classes`` list of ints, [true][predicted];

    and when a positive class applies (``n_classes`` = 2, ``positive`` None meaning class 1; or
    ``positive`` given for more classes, one-vs-rest), with "predicted positive" meaning
    ŷ_i = positive: ``sensitivity`` = TP / (TP + FN), ``specificity`` = TN / (TN + FP) (None
    when undefined, 0/0), and ``positive`` echoed.
    """
    k = _n_classes(n_classes)
    y = _labels(y_true, k, what="label_metrics", name="y_true")
    pred = _labels(y_pred, k, what="label_metrics", name="y_pred")
    if pred.shape != y.shape:
        raise DataError(
            f"label_metrics needs as many predictions as labels, got {pred.size} and {y.size}"
        )
    pos = _positive(positive, k)
    out = _label_part(y, pred, k)
    if pos is not None:
        out.update(_sens_spec(y == pos, pred == pos))
        out["positive"] = pos
    return out


# --------------------------------------------------------------------------- checks (shared)


def check_labels_proba(y_true: ArrayLike, proba: ArrayLike, *, what: str):
    """``(y, p)``: class indices as an int array (n,) and probabilities as float (n, k), checked:
    k ≥ 2, n ≥ 1, equal lengths, labels in 0 … k−1, probabilities finite, in [0, 1] and each row
    summing to 1 within :data:`ROW_SUM_TOL`. Raises a one-line :class:`DataError` otherwise."""
    try:
        p = np.asarray(proba, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{what} needs numeric probabilities, got {shown(proba)}") from None
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
        raise DataError(
            f"{what} needs probabilities of shape (n_samples, n_classes >= 2), got {p.shape}"
        )
    n, k = p.shape
    y = _labels(y_true, k, what=what, name="y_true")
    if y.size != n:
        raise DataError(f"{what} needs one label per row of probabilities, got {y.size} and {n}")
    if not np.all(np.isfinite(p)):
        bad = int(np.argwhere(~np.isfinite(p))[0, 0])
        raise DataError(f"{what} got a NaN or infinite probability in row {bad}")
    if np.any(p < 0) or np.any(p > 1 + ROW_SUM_TOL):
        bad = int(np.argwhere((p < 0) | (p > 1 + ROW_SUM_TOL))[0, 0])
        raise DataError(f"{what} got a probability outside [0, 1] in row {bad}")
    off = np.abs(p.sum(axis=1) - 1.0) > ROW_SUM_TOL
    if np.any(off):
        bad = int(np.argmax(off))
        raise DataError(
            f"{what} needs rows of probabilities summing to 1, row {bad} sums to {p[bad].sum():.6g}"
        )
    return y, p


def _labels(values: ArrayLike, k: int, *, what: str, name: str) -> np.ndarray:
    """``values`` as a flat int array of class indices in 0 … k−1 (at least one)."""
    a = np.asarray(values)
    if a.ndim != 1 or a.size == 0:
        raise DataError(f"{what} needs {name} as a flat, non-empty array, got shape {a.shape}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise DataError(f"{what} needs integer class indices in {name}")
    elif a.dtype.kind not in "iub":
        raise DataError(f"{what} needs integer class indices in {name}, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if a.min() < 0 or a.max() >= k:
        raise DataError(
            f"{what} needs {name} in 0..{k - 1}, got values from {a.min()} to {a.max()}"
        )
    return a


def _n_classes(n_classes: int) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ConfigError(f"n_classes must be an integer >= 2, got {shown(n_classes)}")
    return int(n_classes)


def _positive(positive: int | None, k: int) -> int | None:
    """The positive class index: ``positive`` checked in 0 … k−1; None → 1 for k = 2, else None."""
    if positive is None:
        return 1 if k == 2 else None
    if isinstance(positive, bool) or not isinstance(positive, (int, np.integer)):
        raise ConfigError(f"positive class must be a class index, got {shown(positive)}")
    if not (0 <= positive < k):
        raise ConfigError(f"positive class must be in 0..{k - 1}, got {positive}")
    return int(positive)


# --------------------------------------------------------------------------- metrics


def _label_part(y: np.ndarray, pred: np.ndarray, k: int) -> dict:
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    support = cm.sum(axis=1)
    present = support > 0
    recall = np.diag(cm)[present] / support[present]
    return {"balanced_accuracy": float(recall.mean()), "confusion_matrix": cm.tolist()}


def _roc_auc(y: np.ndarray, p: np.ndarray, pos: int | None) -> float | None:
    k = p.shape[1]
    if np.unique(y).size < k:
        return None  # some class absent: a one-vs-rest AUC has no positives (or no negatives)
    if k == 2:
        return float(roc_auc_score(y == pos, p[:, pos]))
    # one-vs-rest macro average, as roc_auc_score(multi_class="ovr") computes it, but without its
    # strict rows-sum-to-1 check (rows of float32 models sum to 1 only within ROW_SUM_TOL)
    return float(np.mean([roc_auc_score(y == c, p[:, c]) for c in range(k)]))


def _brier(y: np.ndarray, p: np.ndarray, pos: int) -> float:
    n, k = p.shape
    if k == 2:
        return float(np.mean((p[:, pos] - (y == pos)) ** 2))
    onehot = np.zeros_like(p)
    onehot[np.arange(n), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def _sens_spec(actual: np.ndarray, predicted: np.ndarray) -> dict:
    tp = int(np.sum(actual & predicted))
    fn = int(np.sum(actual & ~predicted))
    tn = int(np.sum(~actual & ~predicted))
    fp = int(np.sum(~actual & predicted))
    return {
        "sensitivity": tp / (tp + fn) if tp + fn else None,
        "specificity": tn / (tn + fp) if tn + fp else None,
    }
