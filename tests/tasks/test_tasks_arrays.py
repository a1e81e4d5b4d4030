"""Task.from_arrays: the user's arrays validated and split like every other task."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from neurotwin.errors import ConfigError, DataError
from neurotwin.tasks import Task


def blobs(n=40, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    return rng.normal(size=(n, 3)) + y[:, None], y


def test_integer_labels_are_classification_split_as_sklearn_does():
    X, y = blobs(n=40, n_classes=4)
    task = Task.from_arrays(X, y, seed=5)
    assert task.kind == "classification" and task.metric == "accuracy"
    assert task.class_names == ["0", "1", "2", "3"] and task.y_train.dtype == np.int64
    assert task.feature_names == ["x0", "x1", "x2"] and task.input_shape == (3,)
    assert task.name == "arrays" and task.seed == 5 and not task.fixed_split
    # the documented split: train_test_split(test_size=0.25, random_state=seed, stratify=y)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=5, stratify=y
    )
    np.testing.assert_array_equal(task.X_train, X_train)
    np.testing.assert_array_equal(task.X_test, X_test)
    np.testing.assert_array_equal(task.y_test, y_test)


def test_string_labels_are_sorted_classes():
    X, y = blobs(n=30, n_classes=3)
    names = np.array(["cat", "ant", "bee"])[y]
    task = Task.from_arrays(X, names, seed=1)
    assert task.class_names == ["ant", "bee", "cat"]
    assert [task.class_names[i] for i in task.y_test] == list(
        train_test_split(names, test_size=0.25, random_state=1, stratify=names)[1]
    )


def test_real_targets_are_regression_split_unstratified():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1
    task = Task.from_arrays(X, y, seed=3)
    assert task.kind == "regression" and task.metric == "r2" and task.class_names is None
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=3)
    np.testing.assert_array_equal(task.X_test, X_test)
    np.testing.assert_array_equal(task.y_train, y_train)


def test_kind_can_be_forced_and_is_checked():
    X, y = blobs(n=40)
    assert Task.from_arrays(X, y, kind="regression").y_train.dtype == np.float64
    assert Task.from_arrays(X, y, kind="sequence").metric == "accuracy"
    with pytest.raises(ConfigError, match="unknown task kind 'clasification'.*classification"):
        Task.from_arrays(X, y, kind="clasification")


def test_images_are_flattened_with_their_shape():
    X = np.arange(20 * 4 * 5, dtype=np.uint16).reshape(20, 4, 5)
    y = np.arange(20) % 2
    task = Task.from_arrays(X, y, seed=0)
    assert task.input_shape == (4, 5) and task.n_features == 20
    assert task.X_train.dtype == np.float64
    for row, label in zip(task.X_train, task.y_train, strict=True):
        index = int(row[0]) // 20
        np.testing.assert_array_equal(row, X[index].ravel())
        assert label == index % 2


def test_input_shape_and_names_can_be_given():
    X, y = blobs(n=20)
    X = np.hstack([X, X])  # 6 features
    task = Task.from_arrays(
        X,
        y,
        input_shape=(2, 3),
        feature_names=list("abcdef"),
        class_names=["no", "yes"],
        name="mine",
    )
    assert task.input_shape == (2, 3) and task.feature_names == list("abcdef")
    assert task.class_names == ["no", "yes"] and task.name == "mine"
    with pytest.raises(ConfigError, match=r"input_shape \(4, 4\) holds 16 values but X has 6"):
        Task.from_arrays(X, y, input_shape=(4, 4))
    with pytest.raises(ConfigError, match="2 feature_names given but X has 6 features"):
        Task.from_arrays(X, y, feature_names=["a", "b"])
    with pytest.raises(DataError, match=r"label 2 is outside 0..1"):
        Task.from_arrays(X, y + 1, class_names=["no", "yes"])


def test_test_arrays_make_a_fixed_split():
    X, y = blobs(n=30, n_classes=3)
    X_test, y_test = blobs(n=9, n_classes=3, seed=1)
    task = Task.from_arrays(X, y, X_test, y_test, seed=4)
    assert task.fixed_split and task.seed == 4
    np.testing.assert_array_equal(task.X_train, X)
    np.testing.assert_array_equal(task.X_test, X_test)
    np.testing.assert_array_equal(task.y_test, y_test)
    assert task.source["split"] == "fixed (X_test, y_test)"
    # the same arrays give the same task whatever the seed
    np.testing.assert_array_equal(Task.from_arrays(X, y, X_test, y_test, seed=9).X_test, X_test)


def test_source_identifies_the_arrays():
    X, y = blobs()
    a, b = Task.from_arrays(X, y), Task.from_arrays(X.copy(), y.copy())
    assert a.source == b.source and len(a.source["arrays_sha256"]) == 64
    X[0, 0] += 1.0
    assert Task.from_arrays(X, y).source != a.source


@pytest.mark.parametrize(
    "arrays,error,message",
    [
        (
            lambda X, y: (np.where(np.arange(120).reshape(40, 3) == 7, np.nan, X), y),
            DataError,
            r"array 'X' holds a non-finite value \(NaN or inf\) at index \(2, 1\)",
        ),
        (lambda X, y: (X, y[:-1]), DataError, r"array 'y' has 39 entries but 'X' has 40 samples"),
        (
            lambda X, y: (X, np.r_[y[:-1], 2]),
            DataError,
            r"class '2' \(1\) has fewer than 2 samples",
        ),
        (lambda X, y: (X[:0], y[:0]), DataError, r"array 'X' has no samples"),
        (lambda X, y: (X[:, 0], y), DataError, r"array 'X' has shape \(40,\)"),
        (lambda X, y: (X.astype(str), y), DataError, r"array 'X' has dtype <U.*must hold numbers"),
        (lambda X, y: (X, np.c_[y, y]), DataError, r"array 'y' has shape \(40, 2\); it must be"),
    ],
)
def test_bad_input_is_named_in_one_line(arrays, error, message):
    X, y = arrays(*blobs())
    with pytest.raises(error, match=message) as info:
        Task.from_arrays(X, y)
    assert "\n" not in str(info.value) and str(info.value).startswith("arrays: ")


def test_bad_test_arrays_are_named():
    X, y = blobs(n=30)
    with pytest.raises(DataError, match="'X_test' is given without 'y_test'"):
        Task.from_arrays(X, y, X_test=X)
    with pytest.raises(DataError, match=r"'X_test' has samples of shape \(2,\) but 'X' has \(3,\)"):
        Task.from_arrays(X, y, X[:, :2], y)
    with pytest.raises(DataError, match="'y' and 'y_test' must both hold numbers or both strings"):
        Task.from_arrays(X, y, X, y.astype(str))
    with pytest.raises(DataError, match="array 'X_test' has no samples"):
        Task.from_arrays(X, y, X[:0], y[:0])
