"""The scikit-learn wrappers (:mod:`neurotwin.sklearn`): scikit-learn's own estimator checks, and
the tools users reach for (cross-validation, pipelines, grid search, permutation importance)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import load_iris
from sklearn.inspection import permutation_importance
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import estimator_checks_generator

from neurotwin.errors import ConfigError
from neurotwin.learners import registry
from neurotwin.sklearn import NeuroTwinClassifier, NeuroTwinRegressor
from neurotwin.tasks import Task

# Tiny tensors gain nothing from a second thread (see the fixture in conftest.py).
pytestmark = pytest.mark.usefixtures("one_thread")

#: Quick settings (the learners' quick presets, small networks, a faster rate): scikit-learn's
#: checks fit each estimator dozens of times on small data sets.
CHECKED = [
    NeuroTwinClassifier("mlp", quick=True, hidden=(32,), lr=1e-2),
    NeuroTwinClassifier("hebbian", quick=True, epochs=20, n_hidden=32, readout_lr=3e-2),
    NeuroTwinRegressor("mlp", quick=True, hidden=(32,), lr=1e-2),
]

#: scikit-learn checks skipped for every wrapper, with the reason (kept in step with the module
#: docstring of neurotwin.sklearn); each has a replacement test below.
SKIPPED_CHECKS = {
    "check_methods_subset_invariance": (
        "the models compute in float32 (PyTorch), and a one-row batch can differ from the full "
        "batch in the last float32 bit (BLAS blocks a matmul by batch size), while the check "
        "compares the float64 outputs at 1e-7; test_predictions_do_not_depend_on_the_batch "
        "checks the same at float32 precision"
    ),
}


def _check_id(value) -> str:
    """A readable test id: the estimator's learner, or the check's name and keyword arguments."""
    if isinstance(value, BaseEstimator):
        return f"{type(value).__name__}-{value.learner}"
    func = getattr(value, "func", value)
    kwargs = ",".join(f"{k}={v}" for k, v in getattr(value, "keywords", {}).items())
    return f"{func.__name__}({kwargs})" if kwargs else func.__name__


@pytest.mark.parametrize(
    "estimator, check",
    [
        case
        for estimator in CHECKED
        for case in estimator_checks_generator(
            estimator, expected_failed_checks=SKIPPED_CHECKS, mark="skip"
        )
    ],
    ids=_check_id,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def quick_mlp(**options) -> NeuroTwinClassifier:
    return NeuroTwinClassifier("mlp", quick=True, hidden=(16,), lr=1e-2, **options)


def test_options_are_parameters_and_survive_clone():
    clf = NeuroTwinClassifier("mlp", seed=3, hidden=(8,), lr=0.01)
    params = clf.get_params()
    assert params["hidden"] == (8,) and params["lr"] == 0.01 and params["seed"] == 3
    copy = clone(clf)
    assert copy.get_params() == params
    assert copy.set_params(lr=0.1, seed=4) is copy
    assert (copy.get_params()["lr"], copy.seed, clf.get_params()["lr"]) == (0.1, 4, 0.01)
    assert "lr=0.01" in repr(clf)
    with pytest.raises(ValueError, match="no nested"):
        clf.set_params(lr__x=1)


def test_unknown_option_is_a_clear_error_at_fit(iris):
    X, y = iris
    clf = NeuroTwinClassifier("mlp", n_hiden=5)  # no error before fit
    with pytest.raises(ConfigError, match=r"unknown option\(s\) n_hiden; valid options: .*hidden"):
        clf.fit(X, y)
    with pytest.raises(ConfigError, match="unknown learner 'nope'"):
        NeuroTwinClassifier("nope").fit(X, y)
    with pytest.raises(ConfigError, match="hebbian handles classification"):
        NeuroTwinRegressor("hebbian", quick=True).fit(X, X[:, 0])


def test_string_labels_round_trip_and_probabilities(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = quick_mlp().fit(X, names)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.score(X, names) > 0.8
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(X))
    assert clf.n_features_in_ == 4 and clf.learner_.n_features == 4
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))


@pytest.mark.parametrize("name", ["mlp", "hebbian"])
def test_fit_trains_on_all_samples(iris, monkeypatch, name):
    """The learner gets all of X as its training part (it holds out only its own 10 %
    validation slice); the test part is a one-sample placeholder."""
    X, y = iris
    klass = registry.get(name)
    seen = []

    def spy(self, task, **kwargs):
        seen.append(task)
        return original(self, task, **kwargs)

    original = klass.fit
    monkeypatch.setattr(klass, "fit", spy)
    clf = NeuroTwinClassifier(name, quick=True, epochs=2, seed=5).fit(X, y)
    (task,) = seen
    np.testing.assert_array_equal(task.X_train, X)
    np.testing.assert_array_equal(task.y_train, y)
    assert task.n_test == 1 and task.class_names == ["0", "1", "2"] and task.seed == 5
    assert clf.learner_.n_outputs == 3 and len(clf.history_.epoch) >= 1


def test_same_seed_same_predictions(iris):
    X, y = iris
    a = quick_mlp(seed=1).fit(X, y).predict_proba(X)
    b = quick_mlp(seed=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    r1 = NeuroTwinRegressor("mlp", quick=True, seed=2).fit(X[:, :3], X[:, 3]).predict(X[:, :3])
    r2 = NeuroTwinRegressor("mlp", quick=True, seed=2).fit(X[:, :3], X[:, 3]).predict(X[:, :3])
    assert r1.dtype == np.float64
    np.testing.assert_array_equal(r1, r2)


def test_cross_val_score_and_pipeline(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), quick_mlp())
    # an option the wrapper was not given is set through the pipeline's step__option names
    pipe.set_params(neurotwinclassifier__weight_decay=0.0)
    assert pipe.get_params()["neurotwinclassifier__weight_decay"] == 0.0
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.6)


def test_grid_search_over_learner_options(iris):
    X, y = iris
    search = GridSearchCV(quick_mlp(epochs=5), {"lr": [1e-3, 3e-2]}, cv=2).fit(X, y)
    assert search.best_params_["lr"] in (1e-3, 3e-2)
    assert search.best_estimator_.get_params()["lr"] == search.best_params_["lr"]
    hebbian = GridSearchCV(
        NeuroTwinClassifier("hebbian", quick=True, epochs=5), {"n_hidden": [8, 16]}, cv=2
    ).fit(X, y)
    assert hebbian.best_params_["n_hidden"] in (8, 16)


def test_from_learner_and_permutation_importance(iris, tmp_path):
    X, y = iris
    task = Task.from_arrays(X, y, seed=0)
    fitted = quick_mlp().fit(task.X_train, task.y_train).learner_
    fitted.save(tmp_path / "model")
    learner = type(fitted).load(tmp_path / "model")
    wrapped = NeuroTwinClassifier.from_learner(learner)
    assert wrapped.learner_ is learner  # no copy
    assert list(wrapped.classes_) == [0, 1, 2] and wrapped.n_features_in_ == 4
    np.testing.assert_array_equal(wrapped.predict(task.X_test), learner.predict(task.X_test))
    result = permutation_importance(wrapped, task.X_test, task.y_test, n_repeats=3, random_state=0)
    assert result.importances.shape == (4, 3) and result.importances_mean.shape == (4,)
    # the parameters describe the learner, so a clone refits the same configuration
    assert clone(wrapped).get_params()["hidden"] == (16,)
    with pytest.raises(ConfigError, match="NeuroTwinClassifier"):
        NeuroTwinRegressor.from_learner(learner)
    regressor = NeuroTwinRegressor("mlp", quick=True).fit(X[:, :3], X[:, 3]).learner_
    wrapped_r = NeuroTwinRegressor.from_learner(regressor)
    assert wrapped_r.score(X[:, :3], X[:, 3]) == pytest.approx(
        NeuroTwinRegressor("mlp", quick=True).fit(X[:, :3], X[:, 3]).score(X[:, :3], X[:, 3])
    )


def test_tiny_data_fits_or_says_why():
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert NeuroTwinClassifier("mlp", quick=True).fit(X, ["a", "b"]).predict(X).shape == (2,)
    with pytest.raises(ValueError, match="at least 2 samples, got n_samples=1"):
        NeuroTwinRegressor("mlp", quick=True).fit(X[:1], [1.0])
    with pytest.raises(ValueError, match="one class"):
        NeuroTwinClassifier("mlp", quick=True).fit(X, ["a", "a"])


@pytest.mark.parametrize("estimator", CHECKED, ids=_check_id)
def test_predictions_do_not_depend_on_the_batch(estimator):
    """check_methods_subset_invariance at float32 precision: row by row as in one batch."""
    rng = np.random.RandomState(0)
    X = 3 * rng.uniform(size=(20, 3))
    y = X[:, 0].astype(int) if isinstance(estimator, NeuroTwinClassifier) else X[:, 0]
    fitted = clone(estimator).fit(X, y)
    methods = (
        ["predict", "predict_proba"] if isinstance(fitted, NeuroTwinClassifier) else ["predict"]
    )
    for method in methods:
        full = getattr(fitted, method)(X)
        by_row = np.concatenate([getattr(fitted, method)(row[None]) for row in X])
        np.testing.assert_allclose(full, by_row, rtol=1e-5, atol=1e-6, err_msg=method)


def test_dataframe_column_names_reach_the_task(iris, monkeypatch):
    """Column names (pandas is optional, so a stand-in frame scikit-learn is told to read) become
    ``feature_names_in_`` and the task's feature names; other names at predict time are refused."""
    import sklearn.utils.validation as validation

    class Frame:
        def __init__(self, values, columns):
            self.values, self.columns, self.shape = values, columns, values.shape

        def __array__(self, dtype=None, copy=None):
            return self.values if dtype is None else self.values.astype(dtype)

        def __len__(self):
            return len(self.values)

    original = validation._get_feature_names
    monkeypatch.setattr(
        validation,
        "_get_feature_names",
        lambda X: np.asarray(X.columns, dtype=object) if isinstance(X, Frame) else original(X),
    )
    X, y = iris
    klass = registry.get("mlp")
    seen = []
    original_fit = klass.fit
    monkeypatch.setattr(
        klass, "fit", lambda self, task, **kw: seen.append(task) or original_fit(self, task, **kw)
    )
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    clf = quick_mlp(epochs=2).fit(Frame(X, names), y)
    assert list(clf.feature_names_in_) == names and seen[0].feature_names == names
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(Frame(X, ["a", "b", "c", "d"]))
