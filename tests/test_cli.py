"""Checks of the ``neurotwin`` command line: exit status, one-line errors, --json, files written.

Bad input is checked in-process through :func:`neurotwin.cli.main` (fast); whole runs go through
``python -m neurotwin`` in a subprocess, as a user would start them.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from cli_helpers import assert_one_line_error, call
from neurotwin.experiment.store import validate_results


def run_cli(*args, env=None, timeout=600, cwd=None) -> subprocess.CompletedProcess:
    """``python -m neurotwin ARGS`` in a subprocess, text output captured."""
    return subprocess.run(
        [sys.executable, "-m", "neurotwin", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=cwd,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``: relative path -> bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def blobs_csv(path: Path, n_per_class: int = 30, seed: int = 0) -> Path:
    """Three well separated Gaussian blobs in 3-D, labelled with strings."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, name in enumerate(("setosa_like", "versicolor_like", "virginica_like")):
        centre = np.array([3.0 * k, -2.0 * k, 1.5 * k])
        for x in centre + 0.3 * rng.standard_normal((n_per_class, 3)):
            rows.append([f"{v:.4f}" for v in x] + [name])
    order = rng.permutation(len(rows))
    return write_csv(path, ["f1", "f2", "f3", "label"], [rows[i] for i in order])


def linear_csv(path: Path, n: int = 80, seed: int = 0) -> Path:
    """y = 2 x1 - x2 + small noise, a regression table."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = 2 * X[:, 0] - X[:, 1] + 0.05 * rng.standard_normal(n)
    return write_csv(
        path,
        ["x1", "x2", "y"],
        [[f"{a:.4f}", f"{b:.4f}", f"{c:.4f}"] for (a, b), c in zip(X, y, strict=True)],
    )


# --- bad input: exit status 2 and one line ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--task", "no_such_task"], ["no_such_task", "iris", "digits"]),
        (["--models", "mlp,nope"], ["nope", "mlp", "hebbian"]),
        (["--seeds", "0,x"], ["'x'", "--seeds"]),
        (["--seeds", "-1"], ["'-1'", "--seeds"]),
        (["--seeds", "0,0"], ["--seeds", "repeat"]),
        (["--epochs", "0"], ["--epochs", "'0'"]),
        (["--epochs", "-3"], ["--epochs", "'-3'"]),
        (["--epochs", "abc"], ["--epochs", "'abc'"]),
        (["--kind", "bogus"], ["--kind", "bogus", "classification", "regression"]),
        (["--bogus-option"], ["--bogus-option"]),
    ],
    ids=[
        "unknown-task",
        "unknown-learner",
        "seeds-not-a-number",
        "seeds-negative",
        "seeds-repeated",
        "epochs-zero",
        "epochs-negative",
        "epochs-not-a-number",
        "kind-bogus",
        "unknown-option",
    ],
)
def test_bad_option_exits_2_with_one_line(capsys, tmp_path, args, words):
    out = tmp_path / "run"
    status, stdout, err = call(capsys, "compare", "--task", "iris", "--quick", "--out", out, *args)
    assert_one_line_error(status, err, *words)
    assert stdout == ""
    assert not out.exists()


def test_bad_input_in_a_subprocess_exits_2_without_traceback(tmp_path):
    proc = run_cli("compare", "--task", "no_such_task", "--seeds", "0", "--out", tmp_path / "run")
    assert_one_line_error(proc.returncode, proc.stderr, "no_such_task")
    assert proc.stdout == ""
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_device_cuda_without_a_gpu_exits_2(capsys, tmp_path):
    status, _, err = call(
        capsys, "compare", "--task", "iris", "--quick", "--seeds", "0", "--device", "cuda",
        "--out", tmp_path / "run",
    )  # fmt: skip
    assert_one_line_error(status, err, "cuda", "cpu")


def test_out_that_is_an_existing_file_exits_2(capsys, tmp_path):
    out = tmp_path / "results.txt"
    out.write_text("not a folder\n")
    status, _, err = call(
        capsys, "compare", "--task", "iris", "--quick", "--seeds", "0", "--out", out
    )
    assert_one_line_error(status, err, str(out), "file")
    assert out.read_text() == "not a folder\n"


def test_out_under_a_read_only_folder_exits_2(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.geteuid() == 0 or os.access(locked, os.W_OK):
            pytest.skip("running as root: a read-only folder is still writable")
        out = locked / "run"
        status, _, err = call(
            capsys, "compare", "--task", "iris", "--quick", "--seeds", "0", "--out", out
        )
        assert_one_line_error(status, err, str(out), "cannot be written")
        assert not out.exists()
    finally:
        locked.chmod(0o700)


def test_out_below_a_file_exits_2(capsys, tmp_path):
    # the same failure as a read-only folder, but one that root cannot write through either
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    out = blocker / "run"
    status, _, err = call(
        capsys, "compare", "--task", "iris", "--quick", "--seeds", "0", "--out", out
    )
    assert_one_line_error(status, err, str(out), "cannot be written")


def test_csv_with_nan_names_the_row_and_column(capsys, tmp_path):
    rows = [[1.0, 2.0, "a"], [1.5, 2.5, "b"], [1.1, 2.1, "a"], [1.6, "nan", "b"], [0.9, 1.9, "a"]]
    rows += [[1.4, 2.4, "b"]] * 4 + [[1.0, 2.0, "a"]] * 4
    path = write_csv(tmp_path / "nan.csv", ["alpha", "beta", "label"], rows)
    status, _, err = call(
        capsys, "compare", "--task", path, "--target", "label", "--quick", "--seeds", "0",
        "--out", tmp_path / "run",
    )  # fmt: skip
    assert_one_line_error(status, err, "row 4", "'beta'")
    assert not (tmp_path / "run").exists()


def test_csv_with_a_text_feature_names_the_column(capsys, tmp_path):
    rows = [[1.0, "red", "a"], [1.5, "blue", "b"]] * 6
    path = write_csv(tmp_path / "text.csv", ["size", "colour", "label"], rows)
    status, _, err = call(
        capsys, "compare", "--task", path, "--target", "label", "--quick", "--seeds", "0",
        "--out", tmp_path / "run",
    )  # fmt: skip
    assert_one_line_error(status, err, "'colour'", "numeric")


def test_csv_without_the_target_column_lists_the_columns(capsys, tmp_path):
    path = blobs_csv(tmp_path / "blobs.csv")
    status, _, err = call(
        capsys, "compare", "--task", path, "--target", "species", "--quick", "--seeds", "0",
        "--out", tmp_path / "run",
    )  # fmt: skip
    assert_one_line_error(status, err, "'species'", "f1", "f2", "f3", "label")


def test_csv_with_a_single_sample_class_exits_2(capsys, tmp_path):
    rows = [[0.1 * i, 1.0, "common"] for i in range(10)] + [
        [0.2 * i, 5.0, "other"] for i in range(10)
    ]
    rows.append([9.0, 9.0, "loner"])
    path = write_csv(tmp_path / "loner.csv", ["a", "b", "label"], rows)
    status, _, err = call(
        capsys, "compare", "--task", path, "--target", "label", "--quick", "--seeds", "0",
        "--out", tmp_path / "run",
    )  # fmt: skip
    assert_one_line_error(status, err, "loner")


def test_npz_without_x_exits_2(capsys, tmp_path):
    path = tmp_path / "noX.npz"
    np.savez(path, features=np.zeros((10, 3)), y=np.arange(10) % 2)
    status, _, err = call(
        capsys, "compare", "--task", path, "--quick", "--seeds", "0", "--out", tmp_path / "run"
    )
    assert_one_line_error(status, err, "'X'", "missing")


def test_npz_with_mismatched_lengths_exits_2(capsys, tmp_path):
    path = tmp_path / "mismatch.npz"
    np.savez(path, X=np.zeros((12, 3)), y=np.arange(10) % 2)
    status, _, err = call(
        capsys, "compare", "--task", path, "--quick", "--seeds", "0", "--out", tmp_path / "run"
    )
    assert_one_line_error(status, err, "12", "10")


def test_classification_only_learner_on_a_regression_task_exits_2(capsys, tmp_path):
    status, _, err = call(
        capsys, "compare", "--task", "diabetes", "--models", "hebbian", "--quick", "--seeds", "0",
        "--out", tmp_path / "run",
    )  # fmt: skip
    assert_one_line_error(status, err, "hebbian", "regression")
    assert not (tmp_path / "run").exists()


def test_offline_mnist_without_files_fails_at_once_saying_how_to_provide_them(tmp_path):
    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    cache.mkdir()
    env = {
        **os.environ,
        "NEUROTWIN_OFFLINE": "1",
        "NEUROTWIN_DATA": str(data),
        "XDG_CACHE_HOME": str(cache),
    }
    t0 = time.monotonic()
    proc = run_cli(
        "compare", "--task", "mnist", "--quick", "--seeds", "0", "--out", tmp_path / "X",
        env=env, timeout=60,
    )  # fmt: skip
    assert time.monotonic() - t0 < 10
    line = assert_one_line_error(proc.returncode, proc.stderr, "--data-dir", "NEUROTWIN_DATA")
    assert "idx" in line.lower() or "ubyte" in line.lower(), line
    assert not (tmp_path / "X").exists()
    assert list(cache.rglob("*.gz")) == []


# --- whole runs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """``compare --task digits --quick --seeds 0,1 --json``: (process, out folder)."""
    out = tmp_path_factory.mktemp("digits") / "run"
    proc = run_cli(
        "compare", "--task", "digits", "--quick", "--seeds", "0,1", "--out", out, "--json"
    )
    return proc, out


def check_compare_document(proc, out: Path, seeds=(0, 1)) -> dict:
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # stdout holds one JSON document and nothing else
    validate_results(doc)
    plan = [
        ("mlp", None),
        ("mlp", "unit_encoding"),
        ("hebbian", None),
        ("hebbian", "random_first_layer"),
    ]
    got = sorted((r["model"], r["variant"] or "", r["seed"]) for r in doc["results"])
    assert got == sorted((m, v or "", s) for m, v in plan for s in seeds)
    assert [(s["model"], s["variant"]) for s in doc["summary"]] == plan
    for entry in doc["summary"]:
        assert entry["test_accuracy"]["n"] == len(seeds)
    pairs = {
        (c["a"]["variant"], c["b"]["model"], c["b"]["variant"], c["relation"], c["seed"])
        for c in doc["comparisons"]
    }
    vs_first = {(None, m, v, "vs_first", s) for m, v in plan[1:] for s in seeds}
    vs_control = {("random_first_layer", "hebbian", None, "vs_control", s) for s in seeds}
    assert pairs == vs_first | vs_control
    for comparison in doc["comparisons"]:
        assert comparison["test"] == "mcnemar_exact"
        assert 0.0 <= comparison["p"] <= comparison["p_holm"] <= 1.0
    assert {(v["b"]["variant"], v["relation"]) for v in doc["verdicts"]} == {
        (v, "vs_first") for _, v in plan[1:]
    } | {(None, "vs_control")}
    rows = sorted(p.name for p in (out / "rows").iterdir())
    assert rows == sorted(f"{m}{'-' + v if v else ''}-s{s}.json" for m, v in plan for s in seeds)
    assert json.loads((out / "results.json").read_text()) == doc
    assert (out / "report.html").stat().st_size > 0
    assert any((out / "figures").iterdir())
    assert sorted(p.name for p in (out / "models").iterdir()) == [r[:-5] for r in rows]
    return doc


def test_compare_iris_json_prints_one_valid_document(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("compare", "--task", "iris", "--quick", "--seeds", "0,1", "--out", out, "--json")
    check_compare_document(proc, out)


def test_compare_digits_json_prints_one_valid_document(digits_run):
    proc, out = digits_run
    doc = check_compare_document(proc, out)
    assert doc["task"]["name"] == "digits"


def test_compare_without_json_prints_the_table_and_the_paths(digits_run, tmp_path):
    _, out = digits_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)  # resumes: every row is already there
    wide = {**os.environ, "COLUMNS": "200"}  # rich wraps long names and paths at 80 otherwise
    proc = run_cli(
        "compare", "--task", "digits", "--quick", "--seeds", "0,1", "--out", copy, env=wide
    )
    shown = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.returncode == 0, shown
    for word in ("mlp", "hebbian", "random_first_layer"):
        assert word in proc.stdout, shown
    assert str(copy / "results.json") in proc.stdout, shown
    assert str(copy / "report.html") in proc.stdout, shown


def test_bad_input_leaves_an_existing_run_untouched(capsys, digits_run, tmp_path):
    _, out = digits_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    before = snapshot(copy)
    for bad in (["--seeds", "0,x"], ["--epochs", "0"], ["--models", "mlp,nope"]):
        status, _, err = call(capsys, "compare", "--task", "digits", "--quick", "--out", copy, *bad)
        assert_one_line_error(status, err)
    assert snapshot(copy) == before
    assert not [p for p in copy.rglob("*") if p.name.startswith(".")]


def test_regression_task_runs_mlp_only(capsys, tmp_path):
    out = tmp_path / "run"
    status, stdout, err = call(
        capsys, "compare", "--task", "diabetes", "--quick", "--seeds", "0", "--out", out, "--json"
    )
    assert status == 0, err
    doc = json.loads(stdout)
    validate_results(doc)
    assert doc["task"]["kind"] == "regression"
    assert [(r["model"], r["variant"], r["seed"]) for r in doc["results"]] == [
        ("mlp", None, 0),
        ("mlp", "unit_encoding", 0),
    ]
    metrics = doc["results"][0]["metrics"]
    assert {"test_r2", "test_mse"} <= set(metrics)
    assert "test_accuracy" not in metrics
    assert metrics["test_mse"] > 0
    entry, _ = doc["summary"]
    assert entry["test_r2"]["n"] == 1 and entry["test_mse"]["n"] == 1
    # the encoding control is compared with Wilcoxon on squared errors (never McNemar)
    assert [c["test"] for c in doc["comparisons"]] == ["wilcoxon"]
    assert sorted(p.name for p in (out / "rows").iterdir()) == [
        "mlp-s0.json",
        "mlp-unit_encoding-s0.json",
    ]


def test_own_classification_csv_with_string_labels_runs_end_to_end(capsys, tmp_path):
    path = blobs_csv(tmp_path / "blobs.csv")
    out = tmp_path / "run"
    # full epochs (not --quick): on 67 training rows the quick preset stops after ~45 steps
    status, stdout, err = call(
        capsys, "compare", "--task", path, "--target", "label", "--models", "mlp",
        "--seeds", "0", "--out", out, "--json",
    )  # fmt: skip
    assert status == 0, err
    doc = json.loads(stdout)
    validate_results(doc)
    assert doc["task"]["kind"] == "classification"
    assert doc["task"]["name"] == "blobs"
    # three blobs 10 standard deviations apart: any working classifier separates them
    assert doc["results"][0]["metrics"]["test_accuracy"] >= 0.9
    assert doc["task"]["class_names"] == ["setosa_like", "versicolor_like", "virginica_like"]
    assert (out / "results.json").is_file() and (out / "report.html").is_file()


@pytest.mark.slow
def test_own_classification_csv_with_the_default_models_runs_end_to_end(tmp_path):
    path = blobs_csv(tmp_path / "blobs.csv")
    out = tmp_path / "run"
    proc = run_cli(
        "compare", "--task", path, "--target", "label", "--quick", "--seeds", "0",
        "--out", out, "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    validate_results(doc)
    assert {r["model"] for r in doc["results"]} == {"mlp", "hebbian"}


def test_own_regression_csv_with_kind_regression_runs_end_to_end(capsys, tmp_path):
    path = linear_csv(tmp_path / "linear.csv")
    out = tmp_path / "run"
    status, stdout, err = call(
        capsys, "compare", "--task", path, "--target", "y", "--kind", "regression", "--quick",
        "--seeds", "0", "--out", out, "--json",
    )  # fmt: skip
    assert status == 0, err
    doc = json.loads(stdout)
    validate_results(doc)
    assert doc["task"]["kind"] == "regression"
    assert [(r["model"], r["variant"]) for r in doc["results"]] == [
        ("mlp", None),
        ("mlp", "unit_encoding"),
    ]
    assert {"test_r2", "test_mse"} <= set(doc["results"][0]["metrics"])


# --- list ------------------------------------------------------------------------------------


def test_list_prints_learners_and_tasks(capsys):
    status, out, _ = call(capsys, "list")
    assert status == 0
    for word in ("mlp", "hebbian", "digits", "mnist", "iris"):
        assert word in out


def test_list_json_has_learners_with_defaults_and_tasks(capsys):
    status, out, _ = call(capsys, "list", "--json")
    assert status == 0
    info = json.loads(out)
    learners = {item["name"]: item for item in info["learners"]}
    assert {"mlp", "hebbian"} <= set(learners)
    for item in learners.values():
        assert item["defaults"] and "epochs" in item["defaults"]
        assert item["description"]
    (control,) = learners["hebbian"]["variants"]
    assert (control["name"], control["rule"]) == ("random_first_layer", "none")
    assert learners["hebbian"]["controls"] == {"None": "random_first_layer"}
    assert "1000 on digits" in learners["hebbian"]["auto"]["epochs"]
    assert learners["hebbian"]["kinds"] == ["classification"]
    assert {"digits", "mnist", "iris"} <= {t["name"] for t in info["tasks"]}
