"""Diagnosis metrics against scikit-learn's on random data, binary and multiclass, and errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from neurotwin.errors import ConfigError, DataError
from neurotwin.evaluation import classification_metrics, label_metrics


def _random(n: int, k: int, seed: int):
    """Labels correlated with random probabilities (so AUC is neither 0.5 nor 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    p = np.exp(logits)
    return y, p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_matches_sklearn(seed):
    y, p = _random(300, 2, seed)
    threshold = 0.3
    m = classification_metrics(y, p, positive=None, threshold=threshold)
    assert list(m) == [
        "roc_auc",
        "balanced_accuracy",
        "log_loss",
        "brier",
        "confusion_matrix",
        "sensitivity",
        "specificity",
        "threshold",
        "positive",
    ]
    pred = p.argmax(axis=1)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p[:, 1]))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p[:, 1]))
    assert m["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()
    at_t = (p[:, 1] >= threshold).astype(int)
    assert m["sensitivity"] == pytest.approx(skm.recall_score(y, at_t, pos_label=1))
    assert m["specificity"] == pytest.approx(skm.recall_score(y, at_t, pos_label=0))
    assert m["threshold"] == threshold and m["positive"] == 1


def test_binary_positive_zero_swaps_roles():
    y, p = _random(200, 2, 5)
    m = classification_metrics(y, p, positive=0, threshold=0.6)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y == 0, p[:, 0]))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y == 0, p[:, 0]))
    at_t = (p[:, 0] >= 0.6).astype(int)
    assert m["sensitivity"] == pytest.approx(skm.recall_score(y == 0, at_t))
    assert m["specificity"] == pytest.approx(skm.recall_score(y != 0, 1 - at_t))


@pytest.mark.parametrize("seed", [0, 1])
def test_multiclass_matches_sklearn(seed):
    y, p = _random(400, 4, seed)
    m = classification_metrics(y, p, positive=None)
    assert set(m) == {"roc_auc", "balanced_accuracy", "log_loss", "brier", "confusion_matrix"}
    pred = p.argmax(axis=1)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p, multi_class="ovr"))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p))
    # sklearn's multiclass Brier is the original sum over classes, as documented here
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p))
    assert m["confusion_matrix"] == skm.confusion_matrix(y, pred, labels=range(4)).tolist()


def test_multiclass_one_vs_rest_positive():
    y, p = _random(300, 3, 7)
    m = classification_metrics(y, p, positive=2, threshold=0.4)
    at_t = (p[:, 2] >= 0.4).astype(int)
    assert m["sensitivity"] == pytest.approx(skm.recall_score(y == 2, at_t))
    assert m["specificity"] == pytest.approx(skm.recall_score(y != 2, 1 - at_t))
    assert m["positive"] == 2 and m["threshold"] == 0.4


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_absent_class_gives_none_auc_not_a_crash():
    y, p = _random(100, 3, 3)
    y = np.where(y == 1, 0, y)  # class 1 never occurs
    m = classification_metrics(y, p, positive=1)
    assert m["roc_auc"] is None
    assert m["sensitivity"] is None  # no positives: TP + FN = 0
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, p.argmax(axis=1)))
    yb, pb = _random(50, 2, 3)
    mb = classification_metrics(np.zeros_like(yb), pb, positive=None)
    assert mb["roc_auc"] is None and mb["sensitivity"] is None and mb["specificity"] is not None


def test_log_loss_clips_zero_probability():
    m = classification_metrics([0, 1], [[0.0, 1.0], [0.0, 1.0]], positive=None)
    assert m["log_loss"] == pytest.approx(-np.log(1e-15) / 2)


def test_label_metrics_match_sklearn():
    y, p = _random(300, 3, 11)
    rng = np.random.default_rng(0)
    pred = np.where(rng.random(300) < 0.7, y, rng.integers(0, 3, 300))
    m = label_metrics(y, pred, 3, positive=1)
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()
    assert m["sensitivity"] == pytest.approx(skm.recall_score(y == 1, pred == 1))
    assert m["specificity"] == pytest.approx(skm.recall_score(y != 1, pred != 1))
    assert m["positive"] == 1
    assert set(label_metrics(y, pred, 3, positive=None)) == {
        "balanced_accuracy",
        "confusion_matrix",
    }
    assert label_metrics(y % 2, pred % 2, 2, positive=None)["positive"] == 1


def test_results_are_plain_python():
    y, p = _random(50, 2, 0)
    m = classification_metrics(y, p, positive=None)
    for key, value in m.items():
        if key == "confusion_matrix":
            assert all(type(v) is int for row in value for v in row)
        else:
            assert type(value) in (float, int), key


@pytest.mark.parametrize("threshold", [0, 1, -0.1, 1.5, float("nan"), "x"])
def test_threshold_outside_open_unit_interval(threshold):
    y, p = _random(20, 2, 0)
    with pytest.raises(ConfigError, match=r"--threshold must be between 0 and 1 \(exclusive\)"):
        classification_metrics(y, p, positive=None, threshold=threshold)


def test_bad_positive_class():
    y, p = _random(20, 3, 0)
    with pytest.raises(ConfigError, match="positive class"):
        classification_metrics(y, p, positive=3)


@pytest.mark.parametrize(
    "y, p, match",
    [
        ([0, 1], [0.2, 0.8], "shape"),
        ([0, 1, 1], [[0.2, 0.8], [0.5, 0.5]], "one label per row"),
        ([0, 1], [[np.nan, 1.0], [0.5, 0.5]], "NaN"),
        ([0, 1], [[0.2, 0.2], [0.5, 0.5]], "summing to 1"),
        ([0, 2], [[0.2, 0.8], [0.5, 0.5]], r"0\.\.1"),
        ([0.5, 1], [[0.2, 0.8], [0.5, 0.5]], "integer"),
    ],
)
def test_bad_data_is_a_one_line_data_error(y, p, match):
    with pytest.raises(DataError, match=match) as info:
        classification_metrics(y, p, positive=None)
    assert "\n" not in str(info.value)


def test_label_metrics_bad_lengths():
    with pytest.raises(DataError, match="as many predictions"):
        label_metrics([0, 1, 1], [0, 1], 2, positive=None)
