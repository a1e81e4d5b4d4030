"""The user's NPZ archives: arrays X, y, optional X_test/y_test, errors naming the array."""

import numpy as np
import pytest

from neurotwin import tasks
from neurotwin.errors import ConfigError, DataError


def npz_file(tmp_path, name="arrays.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_images_are_flattened_with_their_shape(tmp_path):
    X = np.arange(20 * 3 * 4, dtype=np.float32).reshape(20, 3, 4)
    y = np.array(["odd", "even"] * 10)
    task = tasks.load(npz_file(tmp_path, X=X, y=y), seed=2)
    assert task.name == "arrays" and task.input_shape == (3, 4) and task.n_features == 12
    assert task.kind == "classification" and task.class_names == ["even", "odd"]
    assert (task.n_train, task.n_test) == (15, 5)
    # each row is still one image, and its label matches its index parity
    for row, label in zip(task.X_train, task.y_train, strict=True):
        index = int(row[0]) // 12
        assert np.array_equal(row, X[index].ravel()) and task.class_names[label] == y[index]
    assert task.source["kind"] == "classification" and len(task.source["sha256"]) == 64


def test_fixed_split_is_used_as_given(tmp_path):
    rng = np.random.default_rng(0)
    X, X_test = rng.normal(size=(30, 5)), rng.normal(size=(7, 5))
    y, y_test = X[:, 0] * 2.5, X_test[:, 0] * 2.5
    task = tasks.load(npz_file(tmp_path, X=X, y=y, X_test=X_test, y_test=y_test), seed=9)
    assert task.kind == "regression" and task.class_names is None
    assert task.fixed_split
    np.testing.assert_array_equal(task.X_train, X)
    np.testing.assert_array_equal(task.y_test, y_test)


def test_missing_x_is_named(tmp_path):
    with pytest.raises(DataError, match=r"array 'X' is missing; found \['y'\]"):
        tasks.load(npz_file(tmp_path, y=np.zeros(4)))


def test_mismatched_lengths_are_named(tmp_path):
    path = npz_file(tmp_path, X=np.zeros((10, 2)), y=np.zeros(9))
    with pytest.raises(DataError, match=r"array 'y' has 9 entries but 'X' has 10 samples"):
        tasks.load(path)


def test_test_arrays_come_in_pairs(tmp_path):
    path = npz_file(tmp_path, X=np.zeros((10, 2)), y=np.zeros(10), X_test=np.zeros((3, 2)))
    with pytest.raises(DataError, match=r"'X_test' is given without 'y_test'"):
        tasks.load(path)


def test_wrong_ndim_and_nan_are_named(tmp_path):
    with pytest.raises(DataError, match=r"array 'X' has shape \(10,\)"):
        tasks.load(npz_file(tmp_path, "a.npz", X=np.zeros(10), y=np.zeros(10)))
    X = np.zeros((10, 3))
    X[4, 1] = np.nan
    with pytest.raises(DataError, match=r"array 'X' holds a non-finite value .* index \(4, 1\)"):
        tasks.load(npz_file(tmp_path, "b.npz", X=X, y=np.arange(10) % 2))


def test_not_an_archive(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"hello")
    with pytest.raises(DataError, match="not a readable .npz archive"):
        tasks.load(path)


def test_target_option_is_rejected_for_npz(tmp_path):
    path = npz_file(tmp_path, X=np.zeros((10, 2)), y=np.arange(10) % 2)
    with pytest.raises(ConfigError, match="--target applies to .csv"):
        tasks.load(path, target="label")
