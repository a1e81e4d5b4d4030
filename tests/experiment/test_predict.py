"""``neurotwin predict``: a saved model applied to new rows reproduces its run's test predictions
exactly, and bad input (other columns, non-numeric cells, a missing or edited model) is one line."""

import csv
import json

import numpy as np
import pytest
from sklearn.datasets import make_classification

import neurotwin as nt
from cli_helpers import assert_one_line_error, call
from neurotwin.experiment.predict import predict

pytestmark = pytest.mark.usefixtures("one_thread")

COLUMNS = ["age", "dose", "marker_a", "marker_b", "marker_c"]


def _write(path, header, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A quick run of mlp and hebbian on a patients CSV with string labels; seed 1."""
    folder = tmp_path_factory.mktemp("predict")
    X, y = make_classification(n_samples=160, n_features=5, n_informative=3, random_state=0)
    labels = np.where(y == 1, "sick", "well")
    data = _write(
        folder / "patients.csv",
        ["outcome", *COLUMNS],
        [[lab, *map(repr, map(float, x))] for lab, x in zip(labels, X, strict=True)],
    )
    out = folder / "run"
    nt.compare(
        str(data),
        "mlp,hebbian",
        seeds=[1],
        quick=True,
        out=out,
        target="outcome",
        show_progress=False,
        report=False,
    )
    task = nt.tasks.load(str(data), 1, target="outcome")
    # the test part as a new file: columns shuffled, the target still there (it is ignored)
    order = [3, 0, 4, 1, 2]
    new = _write(
        folder / "new.csv",
        ["outcome"] + [COLUMNS[j] for j in order],
        [
            [task.class_names[t], *(repr(float(x[j])) for j in order)]
            for x, t in zip(task.X_test, task.y_test, strict=True)
        ],
    )
    return {"folder": folder, "out": out, "task": task, "new": new}


@pytest.mark.parametrize("row", ["mlp-s1", "hebbian-random_first_layer-s1"])
def test_predict_reproduces_the_runs_test_predictions(run, row, tmp_path):
    stored = json.loads((run["out"] / "rows" / f"{row}.json").read_text())
    result = predict(run["out"] / "models" / row, run["new"], out=tmp_path / "p.csv")
    names = run["task"].class_names
    assert result["labels"] == [names[i] for i in stored["predictions"]]
    with open(tmp_path / "p.csv") as fh:
        lines = list(csv.DictReader(fh))
    assert [r["prediction"] for r in lines] == result["labels"]
    proba = np.array([[float(r[f"p_{c}"]) for c in names] for r in lines])
    assert np.allclose(proba.sum(1), 1.0) and np.array_equal(
        proba.argmax(1), np.asarray(stored["predictions"])
    )


def test_cli_predict_writes_beside_the_file_by_default(run, capsys):
    status, out, err = call(capsys, "predict", run["out"] / "models" / "mlp-s1", run["new"])
    assert status == 0, err
    assert (run["folder"] / "new-predictions.csv").exists()
    assert "predictions" in out


def test_other_columns_are_refused_naming_them(run, tmp_path, capsys):
    rows = [[1, 2, 3, 4, 5]]
    bad = _write(tmp_path / "bad.csv", ["age", "dose", "marker_a", "marker_b", "weight"], rows)
    status, _, err = call(capsys, "predict", run["out"] / "models" / "mlp-s1", bad)
    assert_one_line_error(status, err, "missing marker_c", "not in training weight")


def test_a_non_numeric_cell_is_refused_naming_it(run, tmp_path, capsys):
    bad = _write(tmp_path / "bad.csv", COLUMNS, [[1, 2, "high", 4, 5]])
    status, _, err = call(capsys, "predict", run["out"] / "models" / "mlp-s1", bad)
    assert_one_line_error(status, err, "marker_a", "not numeric")


def test_a_missing_truncated_or_edited_model_is_refused(run, tmp_path, capsys):
    import shutil

    status, _, err = call(capsys, "predict", tmp_path / "no-model", run["new"])
    assert_one_line_error(status, err, "no-model")
    edited = tmp_path / "edited"
    shutil.copytree(run["out"] / "models" / "mlp-s1", edited)
    config = json.loads((edited / "config.json").read_text())
    config["data"]["feature_names"][0] = "tampered"
    (edited / "config.json").write_text(json.dumps(config))
    status, _, err = call(capsys, "predict", edited, run["new"])
    assert_one_line_error(status, err, "config.json")
    truncated = tmp_path / "truncated"
    shutil.copytree(run["out"] / "models" / "mlp-s1", truncated)
    weights = truncated / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-16])
    status, _, err = call(capsys, "predict", truncated, run["new"])
    assert_one_line_error(status, err, "model.safetensors")


def test_the_input_file_is_never_overwritten(run, capsys):
    before = run["new"].read_bytes()
    model = run["out"] / "models" / "mlp-s1"
    status, _, err = call(capsys, "predict", model, run["new"], "--out", run["new"])
    assert_one_line_error(status, err, "is the input file")
    assert run["new"].read_bytes() == before


def test_npz_rows_of_the_wrong_width_are_refused(run, tmp_path, capsys):
    np.savez(tmp_path / "rows.npz", X=np.zeros((3, 4)))
    status, _, err = call(
        capsys, "predict", run["out"] / "models" / "mlp-s1", tmp_path / "rows.npz"
    )
    assert_one_line_error(status, err, "4 features", "takes 5")
