"""Bundled scikit-learn datasets: sizes, dtypes, and the seed-drawn stratified split."""

import numpy as np
import pytest

from neurotwin import tasks
from neurotwin.errors import ConfigError


def test_digits_split_sizes_and_shapes():
    task = tasks.load("digits", seed=0)
    # 1797 images; a 25 % test part is ceil(0.25 * 1797) = 450
    assert (task.n_train, task.n_test) == (1347, 450)
    assert task.X_train.shape == (1347, 64) and task.input_shape == (8, 8)
    assert task.kind == "classification" and task.metric == "accuracy"
    assert task.class_names == [str(d) for d in range(10)]
    assert task.X_train.dtype == np.float64 and task.y_train.dtype == np.int64
    # raw pixel intensities 0..16, not scaled
    assert task.X_train.min() == 0.0 and task.X_train.max() == 16.0


@pytest.mark.parametrize(
    "name,n,n_features,n_classes",
    [("iris", 150, 4, 3), ("wine", 178, 13, 3), ("breast_cancer", 569, 30, 2)],
)
def test_classification_datasets_have_known_sizes(name, n, n_features, n_classes):
    task = tasks.load(name, seed=3)
    assert task.n_train + task.n_test == n
    assert task.n_test == int(np.ceil(0.25 * n))
    assert task.n_features == n_features and task.n_classes == n_classes
    assert len(task.feature_names) == n_features
    assert all(isinstance(f, str) for f in task.feature_names)
    assert set(np.unique(task.y_train)) == set(range(n_classes))
    assert task.source["name"] == name


def test_diabetes_is_unscaled_regression():
    task = tasks.load("diabetes", seed=0)
    assert task.kind == "regression" and task.metric == "r2" and task.class_names is None
    assert task.y_train.dtype == np.float64
    assert task.n_train + task.n_test == 442
    # the raw age column is in years, not the centred/scaled version
    age = task.X_train[:, task.feature_names.index("age")]
    assert 19 <= age.min() and age.max() <= 79


@pytest.mark.parametrize("name", ["digits", "iris", "wine", "breast_cancer"])
def test_split_is_stratified(name):
    task = tasks.load(name, seed=7)
    y_all = np.concatenate([task.y_train, task.y_test])
    overall = np.bincount(y_all) / len(y_all)
    in_test = np.bincount(task.y_test, minlength=len(overall))
    assert np.all(np.abs(in_test - overall * task.n_test) <= 1.0)


def test_same_seed_same_split_other_seed_other_split():
    a, b, c = tasks.load("wine", seed=5), tasks.load("wine", seed=5), tasks.load("wine", seed=6)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.X_test, c.X_test)
    assert not a.fixed_split  # the runner must reload it for every seed
    # both splits partition the same rows
    rows_a = np.unique(np.concatenate([a.X_train, a.X_test]), axis=0)
    rows_c = np.unique(np.concatenate([c.X_train, c.X_test]), axis=0)
    np.testing.assert_array_equal(rows_a, rows_c)


def test_available_lists_every_dataset_with_a_description():
    names = tasks.available()
    assert {"digits", "breast_cancer", "diabetes", "iris", "wine", "mnist", "fashion_mnist"} <= set(
        names
    )
    for name in names:
        assert tasks.DESCRIPTIONS[name] and "\n" not in tasks.DESCRIPTIONS[name]


def test_unknown_name_lists_choices():
    with pytest.raises(ConfigError, match="unknown task 'digitz'.*digits.*mnist"):
        tasks.load("digitz")


def test_target_option_rejected_for_named_dataset():
    with pytest.raises(ConfigError, match="--target"):
        tasks.load("iris", target="species")
