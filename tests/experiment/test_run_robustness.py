"""Checks that a run survives what should not end it (a figure that fails, an input of any
width), and that the command line refuses hostile values with exit status 2 and one line."""

import io
import json
import signal
import subprocess
import sys
import time
import types

import numpy as np
import pytest
from matplotlib.image import imread

from neurotwin import plots
from neurotwin.cli import main
from neurotwin.errors import ConfigError
from neurotwin.experiment import runner
from neurotwin.experiment.store import read_row, validate_results
from neurotwin.learners.base import MAX_EPOCHS
from neurotwin.learners.hebbian import HebbianLearner
from neurotwin.tasks.base import Task

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HEBBIAN = ["compare", "--task", "iris", "--models", "hebbian", "--quick", "--seeds", "0"]


def png_size(png: bytes) -> tuple[int, int]:
    """(height, width) in pixels of a PNG, read back by a decoder."""
    assert png.startswith(PNG_MAGIC)
    return imread(io.BytesIO(png)).shape[:2]


def one_line_error(status: int, err: str, *words: str) -> str:
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("neurotwin: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


# --- figures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_features", [1, 7, 1700, 5000])
def test_receptive_fields_of_any_input_width_make_a_png_of_bounded_size(n_features):
    weights = np.random.default_rng(0).standard_normal((200, n_features))
    png = plots.receptive_fields_png(weights, None)
    height, width = png_size(png)
    assert plots.MIN_PX <= height <= plots.MAX_PX
    assert plots.MIN_PX <= width <= plots.MAX_PX
    assert len(png) < 4_000_000


def test_a_non_image_unit_is_wrapped_into_a_near_square_grid():
    assert plots.grid_shape(1) == (1, 1)
    assert plots.grid_shape(7) == (3, 3)
    assert plots.grid_shape(1700) == (41, 42)  # 1,722 cells >= 1,700
    assert plots.grid_shape(5000) == (71, 71)


def test_a_thin_image_shape_still_makes_a_png_a_few_pixels_tall():
    # what the hebbian figure passed before: a 1 x 1700 strip per unit, 0 pixels tall
    png = plots.receptive_fields_png(np.ones((200, 1700)), (1, 1700))
    height, width = png_size(png)
    assert height >= plots.MIN_PX
    assert width <= plots.MAX_PX


def test_receptive_fields_draw_at_most_max_units_and_non_finite_weights():
    weights = np.random.default_rng(0).standard_normal((2000, 64))
    weights[0, :3] = [np.nan, np.inf, -np.inf]
    height, width = png_size(plots.receptive_fields_png(weights, (8, 8), n_show=10_000))
    assert max(height, width) <= plots.MAX_PX


def test_hebbian_receptive_fields_of_a_wide_table_task():
    rng = np.random.default_rng(0)
    X = rng.random((80, 1700))
    y = np.repeat([0, 1], 40)
    task = Task.from_arrays(X, y, seed=0, name="wide")
    learner = HebbianLearner(quick=True, n_hidden=20)
    learner.fit(task, seed=0, epochs=2)
    height, width = png_size(learner.figures(task)["receptive_fields"])
    assert min(height, width) >= plots.MIN_PX


def test_a_learner_whose_figures_fail_still_saves_its_rows_results_and_report(
    tmp_path, capsys, monkeypatch
):
    def figures(self, task):
        raise RuntimeError("cannot write empty image")

    monkeypatch.setattr(HebbianLearner, "figures", figures)
    out = tmp_path / "run"
    assert main([*HEBBIAN, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    warning = "figures: RuntimeError: cannot write empty image"
    for label in ("hebbian-s0", "hebbian-random_first_layer-s0"):
        row = read_row(out / "rows" / f"{label}.json")
        assert row["warnings"] == [warning]
        assert row["figures"] == {}
        assert (out / "models" / label).is_dir()
        assert f"neurotwin: warning: {label}: {warning}\n" in err
    doc = json.loads((out / "results.json").read_text())
    validate_results(doc)
    assert [r["warnings"] for r in doc["results"]] == [[warning], [warning]]
    assert (out / "report.html").stat().st_size > 0
    assert not (out / "figures").exists()


def test_a_figure_that_cannot_be_written_is_a_warning_and_the_others_are_kept(
    tmp_path, capsys, monkeypatch
):
    def figures(self, task):
        return {"broken": None, "fine": b"\x89PNG\r\n\x1a\n"}

    monkeypatch.setattr(HebbianLearner, "figures", figures)
    out = tmp_path / "run"
    assert main([*HEBBIAN, "--out", str(out), "--no-report"]) == 0
    row = read_row(out / "rows" / "hebbian-s0.json")
    assert row["figures"] == {"fine": "figures/hebbian-s0-fine.png"}
    assert len(row["warnings"]) == 1 and row["warnings"][0].startswith("figure broken: TypeError")
    assert (out / "figures" / "hebbian-s0-fine.png").exists()
    assert not list((out / "figures").glob("*broken*"))


def test_figures_are_drawn_after_the_row_and_model_are_saved(tmp_path, monkeypatch):
    out = tmp_path / "run"
    seen = []
    real = HebbianLearner.figures

    def figures(self, task):
        label = "hebbian-s0" if self.variant is None else f"hebbian-{self.variant}-s0"
        seen.append((out / "rows" / f"{label}.json").exists() and (out / "models" / label).exists())
        return real(self, task)

    monkeypatch.setattr(HebbianLearner, "figures", figures)
    assert main([*HEBBIAN, "--out", str(out), "--no-report", "--json"]) == 0
    assert seen == [True, True]
    row = read_row(out / "rows" / "hebbian-s0.json")
    assert row["figures"] == {"receptive_fields": "figures/hebbian-s0-receptive_fields.png"}
    assert "warnings" not in row


# --- hostile command-line values --------------------------------------------------------------


@pytest.mark.parametrize("value", ["²", "①", "٣", "-1", "1.5", "4294967296", "9" * 40, "9" * 5000])
def test_a_seed_that_is_not_ascii_digits_or_not_32_bit_exits_2_naming_it(tmp_path, capsys, value):
    out = tmp_path / "run"
    status = main(["compare", "--task", "iris", "--quick", "--seeds", value, "--out", str(out)])
    line = one_line_error(status, capsys.readouterr().err, "--seeds", repr(value)[:30])
    assert len(line) < 300
    assert not out.exists()


def test_the_largest_seed_runs(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["compare", "--task", "iris", "--models", "mlp", "--quick", "--seeds", "4294967295"]
    assert main([*args, "--out", str(out), "--no-report"]) == 0
    assert {r["seed"] for r in json.loads((out / "results.json").read_text())["results"]} == {
        2**32 - 1
    }


@pytest.mark.parametrize("value", ["10**30", "1" + "0" * 30, "100001", "٣", "²", "0", "9" * 5000])
def test_epochs_out_of_range_exit_2_at_once_stating_the_maximum(
    tmp_path, capsys, monkeypatch, value
):
    def load(*args, **kwargs):
        raise AssertionError("the task was loaded before --epochs was checked")

    monkeypatch.setattr(runner.tasks, "load", load)
    out = tmp_path / "run"
    status = main(["compare", "--task", "iris", "--quick", "--epochs", value, "--out", str(out)])
    one_line_error(status, capsys.readouterr().err, "--epochs", "100000", repr(value)[:30])
    assert not out.exists()


def test_epochs_up_to_the_maximum_are_accepted_and_no_more():
    assert runner.check_epochs("100000") == MAX_EPOCHS == 100_000
    assert runner.check_epochs(" 007 ") == 7
    assert runner.check_epochs(3) == 3
    assert runner.check_epochs(None) is None
    for value in (10**400, 100_001, 0, 2.5, float("inf"), True, "1e3"):
        with pytest.raises(ConfigError, match="from 1 to 100000"):
            runner.check_epochs(value)


def test_an_out_name_longer_than_the_os_allows_exits_2(tmp_path, capsys):
    out = tmp_path / ("a" * 300) / "run"
    status = main(["compare", "--task", "iris", "--quick", "--seeds", "0", "--out", str(out)])
    one_line_error(status, capsys.readouterr().err, "--out", "cannot be written")


def test_no_command_exits_2_with_one_line_naming_the_commands(capsys):
    status = main([])
    one_line_error(status, capsys.readouterr().err, "compare", "list")


# --- Ctrl-C while starting ----------------------------------------------------------------------


def fake_cli(monkeypatch, body):
    module = types.ModuleType("neurotwin.cli")
    module.main = body
    monkeypatch.setitem(sys.modules, "neurotwin.cli", module)


def test_ctrl_c_while_importing_exits_130_with_one_line(monkeypatch, capsys):
    from neurotwin import _entry

    def interrupted():
        raise KeyboardInterrupt

    fake_cli(monkeypatch, interrupted)
    with pytest.raises(SystemExit) as exit_:
        _entry.main()
    assert exit_.value.code == 130
    assert capsys.readouterr().err == "neurotwin: interrupted\n"


def test_the_entry_point_exits_with_the_cli_status(monkeypatch):
    from neurotwin import _entry

    fake_cli(monkeypatch, lambda: 2)
    with pytest.raises(SystemExit) as exit_:
        _entry.main()
    assert exit_.value.code == 2


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_while_the_command_starts_exits_130_with_one_line():
    eager = subprocess.run(
        [sys.executable, "-c", "import sys, neurotwin; sys.exit('torch' in sys.modules)"]
    )
    if eager.returncode:
        pytest.skip("'import neurotwin' imports torch, before the entry point can catch Ctrl-C")
    proc = subprocess.Popen(
        [sys.executable, "-m", "neurotwin", "list"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.3)  # past the interpreter's start, inside the seconds of importing torch
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, err
    assert err.startswith("neurotwin: interrupted") and len(err.splitlines()) == 1, err
