"""The user's CSV files: parsing, kind inference, and one-line errors that name row and column."""

import hashlib

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from neurotwin import tasks
from neurotwin.errors import ConfigError, DataError


def csv_file(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def animals(tmp_path, n=40):
    """n rows: a = i, b = 2 i, label cycling through dog, cat, eel, ant."""
    names = ["dog", "cat", "eel", "ant"]
    lines = ["a,label,b"] + [f"{i},{names[i % 4]},{2 * i}" for i in range(n)]
    return csv_file(tmp_path, "\n".join(lines) + "\n", "animals.csv")


def test_string_target_becomes_sorted_class_indices(tmp_path):
    path = animals(tmp_path)
    task = tasks.load(str(path), seed=1, target="label")
    assert task.name == "animals" and task.kind == "classification"
    assert task.class_names == ["ant", "cat", "dog", "eel"]
    assert task.feature_names == ["a", "b"]
    X = np.concatenate([task.X_train, task.X_test])
    y = np.concatenate([task.y_train, task.y_test])
    names = ["dog", "cat", "eel", "ant"]
    for (a, b), label in zip(X, y, strict=True):
        assert b == 2 * a
        assert task.class_names[label] == names[int(a) % 4]
    assert task.y_train.dtype == np.int64 and X.dtype == np.float64
    # 40 rows, 10 per class: the 10 test rows hold 2 or 3 of each class
    assert task.n_test == 10
    assert np.all(np.abs(np.bincount(task.y_test, minlength=4) - 2.5) <= 1)


def test_split_is_the_documented_sklearn_call(tmp_path):
    path = animals(tmp_path)
    task = tasks.load(path, seed=11, target="label")
    a = np.arange(40, dtype=float)
    X = np.stack([a, 2 * a], axis=1)
    # rows cycle dog, cat, eel, ant; sorted classes are ant=0, cat=1, dog=2, eel=3
    y = np.array([{0: 2, 1: 1, 2: 3, 3: 0}[i % 4] for i in range(40)])
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=11, stratify=y)
    np.testing.assert_array_equal(task.X_test, X_te)
    np.testing.assert_array_equal(task.y_train, y_tr)


def test_source_identifies_the_file(tmp_path):
    path = animals(tmp_path)
    task = tasks.load(path, target="label")
    assert task.source["path"] == str(path.resolve())
    assert task.source["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert task.source["target"] == "label" and task.source["kind"] == "classification"


@pytest.mark.parametrize("cell", ["nan", "", "NA", "inf"])
def test_bad_feature_cell_names_row_and_column(tmp_path, cell):
    rows = [f"{i},{i % 2},{i}" for i in range(12)]
    rows[2] = f"2,0,{cell}"  # third data row, file line 4
    path = csv_file(tmp_path, "x,y,z\n" + "\n".join(rows))
    with pytest.raises(DataError, match=r"row 3 \(line 4\), column 'z'") as info:
        tasks.load(path, target="y")
    assert "\n" not in str(info.value)


def test_non_numeric_column_is_named(tmp_path):
    rows = [f"{i},{'red' if i % 2 else 'blue'},{i % 2}" for i in range(12)]
    path = csv_file(tmp_path, "size,colour,y\n" + "\n".join(rows))
    with pytest.raises(
        DataError, match=r"column 'colour' is not numeric \(row 1, line 2: 'blue'\)"
    ):
        tasks.load(path, target="y")


def test_missing_target_column_lists_columns(tmp_path):
    path = animals(tmp_path)
    with pytest.raises(DataError, match=r"no column 'species'; the columns are: a, label, b"):
        tasks.load(path, target="species")


def test_no_target_asks_for_one(tmp_path):
    path = animals(tmp_path)
    with pytest.raises(ConfigError, match=r"--target COLUMN.*columns: a, label, b"):
        tasks.load(path)


def test_class_with_one_sample_is_named(tmp_path):
    rows = [f"{i},{'a' if i % 2 else 'b'}" for i in range(12)] + ["99,zebra"]
    path = csv_file(tmp_path, "x,y\n" + "\n".join(rows))
    with pytest.raises(DataError, match=r"class 'zebra' \(1\) has fewer than 2 samples"):
        tasks.load(path, target="y")


@pytest.mark.parametrize("text", ["", "a,b\n", "\n\n"])
def test_empty_file_or_no_rows(tmp_path, text):
    with pytest.raises(DataError, match="empty|no data rows"):
        tasks.load(csv_file(tmp_path, text), target="b")


def test_ragged_row_is_named(tmp_path):
    path = csv_file(tmp_path, "a,b\n1,2\n3\n")
    with pytest.raises(DataError, match="line 3 has 1 cells but the header has 2"):
        tasks.load(path, target="b")


def test_kind_is_inferred_and_can_be_forced(tmp_path):
    small_ints = "x,y\n" + "\n".join(f"{i},{i % 3}" for i in range(30))
    floats = "x,y\n" + "\n".join(f"{i},{i * 0.37}" for i in range(30))
    many_ints = "x,y\n" + "\n".join(f"{i},{i}" for i in range(30))  # 30 distinct > 20
    assert tasks.load(csv_file(tmp_path, small_ints, "s.csv"), target="y").kind == "classification"
    assert tasks.load(csv_file(tmp_path, floats, "f.csv"), target="y").kind == "regression"
    assert tasks.load(csv_file(tmp_path, many_ints, "m.csv"), target="y").kind == "regression"
    forced = tasks.load(tmp_path / "s.csv", target="y", kind="regression")
    assert forced.kind == "regression" and forced.y_train.dtype == np.float64
    numeric_classes = tasks.load(tmp_path / "s.csv", target="y")
    assert numeric_classes.class_names == ["0", "1", "2"]
    with pytest.raises(
        ConfigError, match="kind 'sequence' is not one of classification, regression"
    ):
        tasks.load(tmp_path / "s.csv", target="y", kind="sequence")


def test_numeric_classes_sort_numerically(tmp_path):
    text = "x,y\n" + "\n".join(f"{i},{[2, 10, 1][i % 3]}" for i in range(30))
    task = tasks.load(csv_file(tmp_path, text), target="y")
    assert task.class_names == ["1", "2", "10"]


def test_string_target_cannot_be_regressed(tmp_path):
    with pytest.raises(DataError, match="not numeric"):
        tasks.load(animals(tmp_path), target="label", kind="regression")


def test_nonexistent_file_lists_datasets(tmp_path):
    with pytest.raises(DataError, match=r"no such file.*digits"):
        tasks.load(tmp_path / "nope.csv", target="y")


def test_infinite_target_is_named(tmp_path):
    rows = [f"{i},{i * 0.5}" for i in range(12)]
    rows[5] = "5,inf"
    with pytest.raises(DataError, match=r"row 6 \(line 7\), target column 'y' is 'inf'"):
        tasks.load(csv_file(tmp_path, "x,y\n" + "\n".join(rows)), target="y")
