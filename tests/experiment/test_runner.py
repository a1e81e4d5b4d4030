"""Checks of the comparison runner: resume from row files, and kill -9 leaving only whole files."""

import copy
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import neurotwin as nt
from neurotwin.cli import main
from neurotwin.errors import ConfigError
from neurotwin.experiment import runner
from neurotwin.experiment.store import read_row, validate_results

PLAN = [
    ("mlp", None),
    ("mlp", "unit_encoding"),
    ("hebbian", None),
    ("hebbian", "random_first_layer"),
]


def row_names(seeds) -> list[str]:
    return sorted(f"{m}{'-' + v if v else ''}-s{s}.json" for m, v in PLAN for s in seeds)


def visible(folder: Path) -> list[Path]:
    """Files in ``folder`` that are not dot files (a kill may leave a ``.name.tmp`` behind)."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in visible(folder)}


def without_timings(doc: dict) -> dict:
    """The results document less what depends on the clock: train_seconds and the manifest."""
    doc = copy.deepcopy(doc)
    doc.pop("manifest")
    for row in doc["results"]:
        row["metrics"].pop("train_seconds")
    for entry in doc["summary"]:
        entry.pop("train_seconds")
    return doc


def without_manifest_times(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    for key in ("started", "finished"):
        doc["manifest"].pop(key)
    return doc


@pytest.fixture
def counted_rows(monkeypatch):
    """Record (model, variant, seed) of every row the runner actually computes."""
    computed = []
    real = runner.run_row

    def run_row(learner, task, *, seed, **kwargs):
        computed.append((learner.name, learner.variant, seed))
        return real(learner, task, seed=seed, **kwargs)

    monkeypatch.setattr(runner, "run_row", run_row)
    return computed


def test_rerun_with_the_same_settings_recomputes_nothing(tmp_path, counted_rows):
    out = tmp_path / "run"
    settings = dict(seeds="0", quick=True, out=out, show_progress=False, command="test")
    first = runner.compare("digits", **settings)
    assert sorted(counted_rows, key=str) == sorted(((m, v, 0) for m, v in PLAN), key=str)
    assert [p.name for p in visible(out / "rows")] == row_names([0])
    stamps = mtimes(out / "rows")
    counted_rows.clear()

    second = runner.compare("digits", **settings)
    assert counted_rows == []
    assert mtimes(out / "rows") == stamps
    validate_results(second)
    assert without_manifest_times(second) == without_manifest_times(first)
    on_disk = json.loads((out / "results.json").read_text())
    assert without_manifest_times(on_disk) == without_manifest_times(first)


def test_rerun_with_other_settings_exits_2_naming_the_row_file(tmp_path, capsys):
    out = tmp_path / "run"
    common = ["compare", "--task", "digits", "--quick", "--seeds", "0", "--out", str(out)]
    assert main([*common, "--json"]) == 0
    capsys.readouterr()
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    status = main([*common, "--epochs", "2"])
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert str(out / "rows" / "mlp-s0.json") in line
    assert "--out" in line
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_adding_a_seed_computes_only_the_new_rows(tmp_path, counted_rows):
    out = tmp_path / "run"
    settings = dict(quick=True, out=out, show_progress=False, report=False)
    runner.compare("digits", seeds="0", **settings)
    stamps = mtimes(out / "rows")
    counted_rows.clear()

    doc = runner.compare("digits", seeds="0,1", **settings)
    assert sorted(counted_rows, key=str) == sorted(((m, v, 1) for m, v in PLAN), key=str)
    assert [p.name for p in visible(out / "rows")] == row_names([0, 1])
    assert {k: v for k, v in mtimes(out / "rows").items() if k.endswith("-s0.json")} == stamps
    got = {(r["model"], r["variant"], r["seed"]) for r in doc["results"]}
    assert got == {(m, v, s) for m, v in PLAN for s in (0, 1)}
    assert all(entry["test_accuracy"]["n"] == 2 for entry in doc["summary"])


def test_rerun_with_other_settings_prints_one_line_on_stderr(tmp_path, capsys):
    out = tmp_path / "run"
    common = ["compare", "--task", "iris", "--models", "mlp", "--quick", "--seeds", "0"]
    assert main([*common, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main([*common, "--out", str(out), "--epochs", "2"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"neurotwin: error: {out / 'rows' / 'mlp-s0.json'} was computed with other settings; "
        "pass another --out (or delete that folder) to run these"
    ]


def test_rerun_says_it_resumes_and_how_many_rows_were_done(tmp_path, capsys):
    out = tmp_path / "run"
    common = ["compare", "--task", "iris", "--models", "mlp", "--quick", "--out", str(out)]
    assert main([*common, "--seeds", "0"]) == 0
    assert "resuming" not in capsys.readouterr().err
    assert main([*common, "--seeds", "0,1"]) == 0
    err = capsys.readouterr().err
    assert f"neurotwin: resuming in {out}: 2 of 4 rows already done" in " ".join(err.split())


def neurotwin(*args) -> list[str]:
    return [sys.executable, "-m", "neurotwin", *map(str, args)]


@pytest.mark.parametrize(
    "task",
    [
        "digits",
        pytest.param("iris", marks=pytest.mark.slow),
    ],
)
def test_kill_9_leaves_whole_rows_and_the_rerun_matches_an_uninterrupted_run(tmp_path, task):
    a, b = tmp_path / "A", tmp_path / "B"
    args = ["compare", "--task", task, "--quick", "--seeds", "0,1,2", "--json"]
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = subprocess.Popen(neurotwin(*args, "--out", a), **quiet)
    try:
        deadline = time.monotonic() + 300
        while not ((a / "rows").is_dir() and visible(a / "rows")):
            assert killed.poll() is None, "the run ended before writing a row"
            assert time.monotonic() < deadline, "no row file within 300 s"
            time.sleep(0.01)
        killed.send_signal(signal.SIGKILL)
    finally:
        killed.kill()
        killed.wait(timeout=30)
    assert killed.returncode == -signal.SIGKILL
    for path in visible(a / "rows"):
        json.loads(path.read_text())  # whole JSON, not a torn file
        read_row(path)  # and a valid row
    assert not (a / "results.json").exists()

    rerun = subprocess.run(neurotwin(*args, "--out", a), capture_output=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr.decode()
    # B runs after A, not beside it: two torch processes on the same cores slow both threefold
    subprocess.run(neurotwin(*args, "--out", b), check=True, timeout=600, **quiet)

    doc_a = json.loads((a / "results.json").read_text())
    doc_b = json.loads((b / "results.json").read_text())
    assert json.loads(rerun.stdout) == doc_a
    validate_results(doc_a)
    assert len(doc_a["results"]) == len(PLAN) * 3
    assert without_timings(doc_a) == without_timings(doc_b)
    assert [p.name for p in visible(a / "rows")] == [p.name for p in visible(b / "rows")]
    for row_a, row_b in zip(visible(a / "rows"), visible(b / "rows"), strict=True):
        ra, rb = read_row(row_a), read_row(row_b)
        ra["metrics"].pop("train_seconds")
        rb["metrics"].pop("train_seconds")
        assert ra == rb, row_a.name


def test_a_row_stopped_while_drawing_gets_its_figures_from_the_saved_model(tmp_path, counted_rows):
    out = tmp_path / "run"
    args = ["compare", "--task", "digits", "--models", "hebbian", "--quick", "--seeds", "0"]
    assert main([*args, "--out", str(out), "--no-report", "--json"]) == 0
    row_path = out / "rows" / "hebbian-s0.json"
    finished = read_row(row_path)
    assert finished["figures"] and "figures_pending" not in finished
    drawn = {name: (out / rel).read_bytes() for name, rel in finished["figures"].items()}
    # the state a kill between writing the row and drawing its figures leaves behind
    row = dict(finished, figures={}, figures_pending=True)
    row_path.write_text(json.dumps(row))
    for rel in finished["figures"].values():
        (out / rel).unlink()
    computed = len(counted_rows)

    assert main([*args, "--out", str(out), "--no-report", "--json"]) == 0
    assert len(counted_rows) == computed  # nothing trained again
    again = read_row(row_path)
    assert again == finished
    assert {name: (out / rel).read_bytes() for name, rel in again["figures"].items()} == drawn


def test_a_row_whose_model_is_lost_keeps_its_numbers_and_warns_about_its_figures(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["compare", "--task", "digits", "--models", "hebbian", "--quick", "--seeds", "0"]
    assert main([*args, "--out", str(out), "--no-report", "--json"]) == 0
    row_path = out / "rows" / "hebbian-s0.json"
    finished = read_row(row_path)
    row_path.write_text(json.dumps(dict(finished, figures={}, figures_pending=True)))
    (out / "models" / "hebbian-s0" / "config.json").unlink()
    capsys.readouterr()

    assert main([*args, "--out", str(out), "--no-report", "--json"]) == 0
    again = read_row(row_path)
    assert again["metrics"] == finished["metrics"] and again["figures"] == {}
    assert "figures_pending" not in again
    assert "config.json" in again["warnings"][0]
    assert "neurotwin: warning: hebbian-s0: figures: ModelFileError" in capsys.readouterr().err


@pytest.mark.slow
def test_kill_9_at_random_points_and_a_rerun_matches_an_uninterrupted_run(tmp_path):
    """Five kills at instants drawn (seeded) over a whole run's duration, each on the folder the
    last one left, then one rerun: the results equal an uninterrupted run's, timings aside."""
    a, b = tmp_path / "A", tmp_path / "B"
    args = ["compare", "--task", "iris", "--quick", "--seeds", "0,1", "--json"]
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    subprocess.run(neurotwin(*args, "--out", b), check=True, timeout=600, **quiet)
    whole = time.monotonic() - start
    rng = random.Random(20261124)
    killed_at = []
    for _ in range(5):
        delay = rng.uniform(0.2, whole)
        proc = subprocess.Popen(neurotwin(*args, "--out", a), **quiet)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            killed_at.append(round(delay, 2))
        finally:
            proc.kill()
            proc.wait(timeout=30)
        for path in visible(a / "rows") if (a / "rows").is_dir() else []:
            read_row(path)  # every row file left is whole and valid
    assert killed_at, "every run finished before its kill; the test killed nothing"
    rerun = subprocess.run(neurotwin(*args, "--out", a), capture_output=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr.decode()
    doc_a = json.loads((a / "results.json").read_text())
    doc_b = json.loads((b / "results.json").read_text())
    assert without_timings(doc_a) == without_timings(doc_b), killed_at
    assert (a / "report.html").is_file()
    assert sorted(p.name for p in visible(a / "figures")) == sorted(
        p.name for p in visible(b / "figures")
    )


def test_the_plan_takes_the_learners_that_fit_the_task():
    from neurotwin.experiment.runner import _plan, parse_models

    rows = nt.tasks.load("digits_rows", 0)
    digits = nt.tasks.load("digits", 0)
    # --models all: every learner that can take the task, the reference first where it fits
    assert {n for n, _ in _plan(parse_models("all"), rows, explicit=False)} == {
        "rnn",
        "lstm",
        "gru",
    }
    on_digits = [n for n, _ in _plan(parse_models("all"), digits, explicit=False)]
    assert on_digits[0] == "mlp" and "cnn" in on_digits and "rnn" not in on_digits
    # the default models take no sequence task: the learners that do run instead
    assert {n for n, _ in _plan(parse_models(None), rows, explicit=False)} == {
        "rnn",
        "lstm",
        "gru",
    }
    with pytest.raises(ConfigError, match="rnn needs a sequence task"):
        _plan(["mlp", "rnn"], digits, explicit=True)
