"""Checks of the results store: atomic files, row files, the shipped schema and the merge."""

import copy
import json
import os
import re

import numpy as np
import pytest
from scipy import stats

from neurotwin.errors import ConfigError, DataError
from neurotwin.experiment import store
from neurotwin.experiment.store import (
    atomic_write_bytes,
    atomic_write_json,
    load_schema,
    merge,
    read_row,
    row_filename,
    validate_results,
    write_results,
)

# The example document of DESIGN.md, "Results (OUT/)", verbatim.
DESIGN_EXAMPLE = {
    "schema_version": 1,
    "neurotwin_version": "0.1.0",
    "task": {
        "name": "digits",
        "kind": "classification",
        "n_train": 1347,
        "n_test": 450,
        "metric": "accuracy",
    },
    "manifest": {
        "command": "...",
        "python": "3.11.7",
        "torch": "2.13.0",
        "numpy": "...",
        "threads": 2,
        "device": "cpu",
    },
    "results": [
        {
            "model": "hebbian",
            "variant": None,
            "paradigm": "brain",
            "rule": "krotov_hopfield",
            "seed": 0,
            "config": {"n_hidden": 200, "p": 3, "readout_power": 3, "epochs": 1000},
            "metrics": {
                "test_accuracy": 0.962,
                "test_accuracy_std": 0.0,
                "train_seconds": 7.1,
                "params": 14810,
                "ops_per_inference": {
                    "dense_mac": 14800,
                    "effective_mac": 8540,
                    "ac": 0,
                    "neuron_updates": 210,
                },
                "energy_nj_per_inference": 39.3,
                "lesion": {
                    "fraction": [0, 0.1, 0.3, 0.5, 0.7, 0.9],
                    "test_accuracy": [0.962, 0.95, 0.92, 0.85, 0.66, 0.2],
                },
            },
            "history": {"epoch": [1, 2], "train_loss": [0.9, 0.4], "val_accuracy": [0.91, 0.95]},
        }
    ],
    "summary": [
        {
            "model": "mlp",
            "variant": None,
            "test_accuracy": {"mean": 0.976, "ci95": [0.97, 0.98], "n": 3},
        }
    ],
    "comparisons": [
        {
            "a": {"model": "mlp", "variant": None},
            "b": {"model": "hebbian", "variant": "random_first_layer"},
            "test": "mcnemar_exact",
            "seed": 0,
            "p": 0.21,
        }
    ],
}

REQUIRED_PATHS = [
    "schema_version",
    "neurotwin_version",
    "task",
    "task.name",
    "task.kind",
    "task.n_train",
    "task.n_test",
    "task.metric",
    "manifest",
    "manifest.command",
    "manifest.python",
    "manifest.torch",
    "manifest.numpy",
    "manifest.threads",
    "manifest.device",
    "results",
    "results[0].model",
    "results[0].variant",
    "results[0].paradigm",
    "results[0].rule",
    "results[0].seed",
    "results[0].config",
    "results[0].metrics",
    "results[0].metrics.test_accuracy",
    "results[0].metrics.train_seconds",
    "results[0].metrics.params",
    "results[0].metrics.ops_per_inference",
    "results[0].metrics.ops_per_inference.dense_mac",
    "results[0].metrics.ops_per_inference.effective_mac",
    "results[0].metrics.ops_per_inference.ac",
    "results[0].metrics.ops_per_inference.neuron_updates",
    "results[0].metrics.energy_nj_per_inference",
    "results[0].metrics.lesion",
    "results[0].metrics.lesion.fraction",
    "results[0].metrics.lesion.test_accuracy",
    "results[0].history",
    "results[0].history.epoch",
    "results[0].history.train_loss",
    "summary",
    "summary[0].model",
    "summary[0].variant",
    "summary[0].test_accuracy",
    "summary[0].test_accuracy.n",
    "comparisons",
    "comparisons[0].a",
    "comparisons[0].b",
    "comparisons[0].test",
    "comparisons[0].seed",
    "comparisons[0].p",
]


def _parent_and_key(doc, path):
    """The container holding the last key of a dotted path like 'results[0].metrics.lesion'."""
    parts = [p for p in re.split(r"[.\[\]]+", path) if p]
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    return node, parts[-1]


def test_design_example_is_valid():
    validate_results(DESIGN_EXAMPLE)


@pytest.mark.parametrize("path", REQUIRED_PATHS)
def test_schema_requires_design_keys(path):
    doc = copy.deepcopy(DESIGN_EXAMPLE)
    parent, key = _parent_and_key(doc, path)
    del parent[key]
    with pytest.raises(DataError) as info:
        validate_results(doc)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("results document is invalid at $")
    # the missing key is named (for the test metric: as one of the accepted alternatives)
    assert repr(key) in message


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("schema_version", 2),
        ("task.kind", "clustering"),
        ("results[0].paradigm", "quantum"),
        ("results[0].variant", 3),
        ("results[0].metrics.test_accuracy", 1.5),
        ("comparisons[0].p", 1.2),
        ("comparisons[0].test", "t_test"),
        ("manifest.threads", "two"),
    ],
)
def test_schema_rejects_bad_values(path, value):
    doc = copy.deepcopy(DESIGN_EXAMPLE)
    parent, key = _parent_and_key(doc, path)
    parent[key] = value
    with pytest.raises(DataError, match=re.escape(path.split(".")[-1].split("[")[0])):
        validate_results(doc)


def test_schema_allows_new_keys_and_regression_metrics():
    doc = copy.deepcopy(DESIGN_EXAMPLE)
    doc["task"]["kind"] = "regression"
    metrics = doc["results"][0]["metrics"]
    metrics["test_r2"] = metrics.pop("test_accuracy")
    metrics["test_mse"] = 0.3
    metrics["lesion"]["test_r2"] = metrics["lesion"].pop("test_accuracy")
    metrics["brand_new_metric"] = {"anything": [1, 2]}
    doc["summary"][0]["test_r2"] = doc["summary"][0].pop("test_accuracy")
    validate_results(doc)


def test_load_schema_is_draft_2020_12_and_a_fresh_copy():
    from jsonschema import Draft202012Validator

    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    schema["required"].clear()
    assert load_schema()["required"]


# --- atomic files ---------------------------------------------------------------------------------


def test_atomic_write_json_round_trip_with_numpy(tmp_path):
    path = atomic_write_json(tmp_path / "a" / "b.json", {"x": np.float32(0.5), "y": np.arange(3)})
    assert json.loads(path.read_text()) == {"x": 0.5, "y": [0, 1, 2]}
    assert os.listdir(tmp_path / "a") == ["b.json"]


def test_atomic_write_json_unencodable_keeps_old_file(tmp_path):
    path = tmp_path / "row.json"
    atomic_write_json(path, {"ok": 1})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"ok": 2, "bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1}
    assert os.listdir(tmp_path) == ["row.json"]


def test_atomic_write_json_refuses_nan(tmp_path):
    with pytest.raises(DataError, match="row.json"):
        atomic_write_json(tmp_path / "row.json", {"test_r2": float("nan")})
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_atomic_write_failure_after_temp_file_keeps_old_file(tmp_path, monkeypatch, failing):
    path = tmp_path / "results.json"
    atomic_write_bytes(path, b"old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.os, failing, boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b"new content")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["results.json"]


# --- rows -----------------------------------------------------------------------------------------


def test_row_filename():
    assert row_filename("hebbian", None, 0) == "hebbian-s0.json"
    assert (
        row_filename("hebbian", "random_first_layer", 12) == "hebbian-random_first_layer-s12.json"
    )
    assert row_filename("mlp", None, np.int64(3)) == "mlp-s3.json"


@pytest.mark.parametrize(
    ("model", "variant", "seed"),
    [("../mlp", None, 0), ("mlp", "a/b", 0), ("", None, 0), ("mlp", None, -1), ("mlp", None, 1.0)],
)
def test_row_filename_rejects_unsafe_names(model, variant, seed):
    with pytest.raises(ConfigError):
        row_filename(model, variant, seed)


def _row(model, seed, accuracy, predictions, *, variant=None, energy=10.0, seconds=1.0):
    return {
        "model": model,
        "variant": variant,
        "paradigm": "artificial" if model == "mlp" else "brain",
        "rule": "backprop" if model == "mlp" else "krotov_hopfield",
        "seed": seed,
        "config": {"epochs": 2},
        "spec": {"task": "toy", "quick": True},
        "metrics": {
            "test_accuracy": accuracy,
            "test_accuracy_std": 0.0,
            "train_seconds": seconds,
            "params": 100,
            "ops_per_inference": {
                "dense_mac": 100,
                "effective_mac": 50,
                "dense_ac": 0,
                "ac": 0,
                "neuron_updates": 10,
            },
            "energy_nj_per_inference": energy,
            "lesion": {"fraction": [0.0, 0.5, 1.0], "test_accuracy": [accuracy, 0.5, 0.1]},
        },
        "history": {"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_accuracy": [0.8, 0.9]},
        "figures": {},
        "predictions": list(predictions),
    }


def test_read_row_round_trip(tmp_path):
    row = _row("mlp", 0, np.float64(0.9), np.array([0, 1, 2]))
    path = atomic_write_json(tmp_path / "rows" / row_filename("mlp", None, 0), row)
    assert read_row(path)["predictions"] == [0, 1, 2]


def test_read_row_invalid_json_names_the_file(tmp_path):
    path = tmp_path / "mlp-s0.json"
    path.write_text('{"model": "mlp", "seed"')
    with pytest.raises(DataError, match="mlp-s0.json"):
        read_row(path)


def test_read_row_missing_key_names_file_and_path(tmp_path):
    row = _row("mlp", 0, 0.9, [0, 1])
    del row["metrics"]["lesion"]
    path = atomic_write_json(tmp_path / "mlp-s0.json", row)
    with pytest.raises(DataError, match=r"mlp-s0\.json.*\$\.metrics.*lesion"):
        read_row(path)


def test_read_row_missing_file_is_data_error(tmp_path):
    with pytest.raises(DataError, match="nope.json"):
        read_row(tmp_path / "nope.json")


# --- merge ----------------------------------------------------------------------------------------

TASK = {"name": "toy", "kind": "classification", "n_train": 60, "n_test": 20, "metric": "accuracy"}
MANIFEST = {
    "command": "neurotwin compare",
    "python": "3.11",
    "torch": "2.5",
    "numpy": "2.0",
    "threads": 2,
    "device": "cpu",
}


def _flip(y, n):
    """Predictions equal to y except that the first n are wrong."""
    pred = np.array(y)
    pred[:n] = (pred[:n] + 1) % 3
    return pred


def test_merge_two_models_two_seeds():
    y = {0: np.arange(20) % 3, 1: (np.arange(20) + 1) % 3}
    rows = [
        _row("mlp", 0, 1.0, y[0], energy=10.0, seconds=2.0),
        _row("hebbian", 0, 0.95, _flip(y[0], 1), energy=4.0, seconds=5.0),
        _row("mlp", 1, 1.0, y[1], energy=12.0, seconds=4.0),
        _row("hebbian", 1, 0.6, _flip(y[1], 8), energy=6.0, seconds=7.0),
    ]
    doc = merge(rows, TASK, {s: v.tolist() for s, v in y.items()}, MANIFEST, "0.1.0")

    assert doc["schema_version"] == 1 and doc["neurotwin_version"] == "0.1.0"
    assert [(r["model"], r["seed"]) for r in doc["results"]] == [
        ("mlp", 0),
        ("hebbian", 0),
        ("mlp", 1),
        ("hebbian", 1),
    ]
    assert all("predictions" not in r and "spec" not in r for r in doc["results"])
    assert "predictions" in rows[0]  # the caller's rows are not modified

    mlp, hebbian = doc["summary"]
    assert (mlp["model"], mlp["paradigm"], mlp["rule"]) == ("mlp", "artificial", "backprop")
    assert mlp["test_accuracy"] == {"mean": 1.0, "std": 0.0, "ci95": [1.0, 1.0], "n": 2}
    assert mlp["energy_nj_per_inference"]["mean"] == 11.0
    assert mlp["within_noise_vs_first"] is None
    acc = hebbian["test_accuracy"]
    # two values: s = 0.35 / sqrt(2); half-width = t_{0.975,1} * s / sqrt(2) = 12.7062 * 0.175
    assert acc["mean"] == pytest.approx(0.775)
    assert acc["std"] == pytest.approx(0.35 / np.sqrt(2))
    assert acc["ci95"] == pytest.approx(
        [0.775 - 12.706204736 * 0.175, 0.775 + 12.706204736 * 0.175]
    )
    assert hebbian["train_seconds"]["mean"] == 6.0
    # seed 0: one discordant sample, p = 1; seed 1: eight, all against hebbian, p = 2 / 2^8
    assert hebbian["within_noise_vs_first"] is False

    c0, c1 = doc["comparisons"]
    assert c0["a"] == {"model": "mlp", "variant": None}
    assert c0["b"] == {"model": "hebbian", "variant": None}
    assert (c0["test"], c0["seed"], c0["n01"], c0["n10"], c0["p"]) == (
        "mcnemar_exact",
        0,
        0,
        1,
        1.0,
    )
    assert (c1["seed"], c1["n01"], c1["n10"]) == (1, 0, 8)
    assert c1["p"] == pytest.approx(2 / 256)


def test_merge_within_noise_and_unpaired_seeds():
    y = np.arange(20) % 2  # one fixed split for every seed
    rows = [
        _row("mlp", 0, 0.9, _flip(y, 2)),
        _row("mlp", 1, 0.9, _flip(y, 2)),
        _row("hebbian", 0, 0.85, _flip(y, 3)),
        _row("hebbian", 1, 0.8, _flip(y, 4)),
        _row("hebbian", 7, 0.8, _flip(y, 4), variant="random_first_layer"),
    ]
    doc = merge(rows, TASK, y, MANIFEST, "0.1.0")
    assert [(c["b"]["variant"], c["seed"]) for c in doc["comparisons"]] == [(None, 0), (None, 1)]
    noise = [s["within_noise_vs_first"] for s in doc["summary"]]
    assert noise == [None, True, None]
    assert doc["summary"][2]["test_accuracy"]["ci95"] is None


def test_merge_regression_uses_wilcoxon_on_squared_errors():
    rng = np.random.default_rng(1)
    y = rng.normal(size=30)
    task = dict(TASK, kind="regression", metric="r2")
    pred_a, pred_b = y + 0.1 * rng.normal(size=30), y + 0.5 * rng.normal(size=30)
    rows = []
    for model, pred in (("linear", pred_a), ("snn", pred_b)):
        row = _row(model, 0, None, pred)
        metrics = row["metrics"]
        del metrics["test_accuracy"], metrics["test_accuracy_std"]
        metrics.update(test_r2=0.5, test_r2_std=0.0, test_mse=0.2)
        metrics["lesion"] = {"fraction": [0.0, 1.0], "test_r2": [0.5, -0.1]}
        rows.append(row)
    doc = merge(rows, task, {0: y}, MANIFEST, "0.1.0")
    (pair,) = doc["comparisons"]
    assert pair["test"] == "wilcoxon"
    assert pair["p"] == pytest.approx(stats.wilcoxon((pred_a - y) ** 2, (pred_b - y) ** 2).pvalue)
    assert set(doc["summary"][0]) >= {"test_r2", "test_mse"}


def test_merge_rejects_duplicates_and_bad_predictions():
    y = np.arange(10) % 2
    with pytest.raises(DataError, match="two rows"):
        merge([_row("mlp", 0, 1.0, y), _row("mlp", 0, 1.0, y)], TASK, y, MANIFEST, "0.1.0")
    with pytest.raises(DataError, match="predictions"):
        merge([_row("mlp", 0, 1.0, y), _row("hh", 0, 1.0, y[:5])], TASK, y, MANIFEST, "0.1.0")
    with pytest.raises(DataError, match="seed 0"):
        merge([_row("mlp", 0, 1.0, y), _row("hh", 0, 1.0, y)], TASK, {1: y}, MANIFEST, "0.1.0")


def test_write_results_round_trip_and_refuses_invalid(tmp_path):
    path = write_results(tmp_path, DESIGN_EXAMPLE)
    assert path == tmp_path / "results.json"
    assert json.loads(path.read_text()) == DESIGN_EXAMPLE
    bad = copy.deepcopy(DESIGN_EXAMPLE)
    del bad["task"]
    with pytest.raises(DataError, match="task"):
        write_results(tmp_path / "other", bad)
    assert not (tmp_path / "other").exists()
