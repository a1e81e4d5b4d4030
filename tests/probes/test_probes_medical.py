"""The diagnosis, intervals and explanations probes on fitted learners: keys, definitions checked
against scikit-learn, and explanations that find features known to be informative."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

import neurotwin as nt
from neurotwin.errors import ConfigError
from neurotwin.learners.registry import get
from neurotwin.probes.base import ProbeContext, run_probes
from neurotwin.probes.diagnosis import diagnosis_probe
from neurotwin.probes.explanations import explanations_probe

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def cancer():
    return nt.tasks.load("breast_cancer", seed=0)


@pytest.fixture(scope="module")
def cancer_mlp(cancer):
    learner = get("mlp")(quick=True)
    learner.fit(cancer, seed=0)
    return learner


def test_breast_cancer_calls_malignant_positive(cancer, cancer_mlp):
    ctx = ProbeContext(cancer_mlp, cancer, seed=0, predictions=cancer_mlp.predict(cancer.X_test))
    d = diagnosis_probe(ctx)["diagnosis"]
    assert d["positive_class"] == "malignant" and d["positive"] == 0
    proba = cancer_mlp.predict_proba(cancer.X_test)
    # AUC of P(malignant) for the malignant class, as scikit-learn computes it
    assert d["roc_auc"] == pytest.approx(roc_auc_score(cancer.y_test == 0, proba[:, 0]))
    called = proba[:, 0] >= 0.5
    sick = cancer.y_test == 0
    assert d["sensitivity"] == pytest.approx((called & sick).sum() / sick.sum())
    assert d["specificity"] == pytest.approx((~called & ~sick).sum() / (~sick).sum())
    cal = d["calibration"]
    assert cal["n"] == cancer.n_test and cal["n_bins"] == 15 and cal["floor"] > 0


def test_threshold_and_positive_options_change_the_call(cancer, cancer_mlp):
    preds = cancer_mlp.predict(cancer.X_test)
    low = ProbeContext(cancer_mlp, cancer, seed=0, predictions=preds, options={"threshold": 0.05})
    high = ProbeContext(cancer_mlp, cancer, seed=0, predictions=preds, options={"threshold": 0.95})
    a, b = diagnosis_probe(low)["diagnosis"], diagnosis_probe(high)["diagnosis"]
    assert a["sensitivity"] >= b["sensitivity"] and a["specificity"] <= b["specificity"]
    other = ProbeContext(
        cancer_mlp, cancer, seed=0, predictions=preds, options={"positive": "benign"}
    )
    c = diagnosis_probe(other)["diagnosis"]
    assert c["positive_class"] == "benign" and c["positive"] == 1
    bad = ProbeContext(cancer_mlp, cancer, seed=0, predictions=preds, options={"positive": "x"})
    with pytest.raises(ConfigError, match="not a class of breast_cancer"):
        diagnosis_probe(bad)


def test_classification_rows_carry_diagnosis_and_explanations(cancer, cancer_mlp):
    metrics, _ = run_probes(cancer_mlp, cancer, seed=0)
    assert {"diagnosis", "explanations"} <= set(metrics)
    assert "intervals" not in metrics


def test_regression_rows_get_calibrated_intervals():
    task = nt.tasks.load("diabetes", seed=0)
    learner = get("linear")()
    learner.fit(task, seed=0)
    metrics, pred = run_probes(learner, task, seed=0)
    iv = metrics["intervals"]
    assert iv["level"] == pytest.approx(0.9) and iv["n_calibration"] == len(
        task.validation_split(0)[3]
    )
    # the half-width is one number for every test sample: coverage is exactly what it implies
    half = iv["mean_width"] / 2
    assert iv["coverage"] == pytest.approx(np.mean(np.abs(task.y_test - pred) <= half + 1e-9))
    assert metrics["test_mae"] == pytest.approx(np.mean(np.abs(task.y_test - pred)))
    assert "diagnosis" not in metrics


def test_explanations_find_the_informative_features():
    # three informative columns (placed first by shuffle=False), five pure-noise columns; with
    # this seed every informative column separates the classes on its own (ANOVA F 362-427,
    # noise columns <= 1), so "informative" is a fact about the data, not about the model
    X, y = make_classification(
        n_samples=800,
        n_features=8,
        n_informative=3,
        n_redundant=0,
        n_repeated=0,
        n_classes=3,
        n_clusters_per_class=1,
        shuffle=False,
        random_state=1,
    )
    names = ["signal_a", "signal_b", "signal_c"] + [f"noise_{i}" for i in range(5)]
    task = nt.tasks.Task.from_arrays(X, y, seed=0, feature_names=names)
    learner = get("mlp")()
    learner.fit(task, seed=0)
    ctx = ProbeContext(learner, task, seed=0, predictions=learner.predict(task.X_test))
    ex = explanations_probe(ctx)["explanations"]
    perm = np.asarray(ex["permutation"]["mean"])
    assert perm[:3].min() > perm[3:].max(), dict(zip(names, perm.round(4), strict=True))
    assert set(ex["top"][:3]) == set(names[:3])
    assert set(ex["top_integrated_gradients"][:3]) == set(names[:3])


def test_image_tasks_are_not_explained_pixel_by_pixel():
    task = nt.tasks.load("digits28", seed=0)

    class Stub:
        kind = None

    ctx = ProbeContext(Stub(), task, seed=0)
    out = explanations_probe(ctx)["explanations"]
    assert "skipped" in out and "784 features" in out["skipped"]
