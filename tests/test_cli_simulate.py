"""``neurotwin simulate``: each model exits 0 and writes its files; each bad input exits 2 with one
line, no traceback and no folder created.

Runs and bad inputs go through :func:`neurotwin.cli.main` in this process (fast); one run goes
through ``python -m neurotwin`` as a user starts it.
"""

import json
import subprocess
import sys

import pytest

from cli_helpers import assert_one_line_error, call

PNG = b"\x89PNG\r\n\x1a\n"


def assert_files(out, figures) -> dict:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert sorted(summary["figures"]) == sorted(figures)
    for rel in summary["figures"].values():
        assert (out / rel).read_bytes().startswith(PNG)
    page = (out / "simulation.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(figures)
    return summary


NEURON_FIGURES = ["membrane", "raster", "fi_curve"]
NETWORK_FIGURES = ["raster", "population_rate", "membrane"]


@pytest.mark.parametrize(
    "args, figures",
    [
        (["lif", "--current", "2.5", "--duration", "40"], NEURON_FIGURES),
        (["izhikevich", "--preset", "chattering", "--duration", "20"], NEURON_FIGURES),
        (["hh", "--duration", "8", "--dt", "0.02"], NEURON_FIGURES),
        (["network", "--duration", "20", "--seed", "3"], NETWORK_FIGURES),
    ],
)
def test_each_model_exits_0_and_writes_its_files(capsys, tmp_path, args, figures):
    out = tmp_path / "out"
    status, stdout, err = call(capsys, "simulate", *args, "--out", out)
    assert status == 0, err
    summary = assert_files(out, figures)
    assert summary["model"] == args[0]
    assert str(out / "simulation.html") in stdout and str(out / "summary.json") in stdout
    assert f"{summary['n_steps']:,} steps" in stdout


def test_json_prints_the_summary_alone(capsys, tmp_path):
    out = tmp_path / "out"
    status, stdout, _ = call(capsys, "simulate", "lif", "--duration", "30", "--json", "--out", out)
    assert status == 0
    doc = json.loads(stdout)
    assert doc == json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (doc["model"], doc["duration_ms"], doc["dt_ms"]) == ("lif", 30.0, 0.1)


def test_default_out_is_runs_simulate_model_preset(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ("simulate", "izhikevich", "--preset", "fast_spiking", "--duration", "10")
    status, _, err = call(capsys, *args)
    assert status == 0, err
    assert (tmp_path / "runs" / "simulate-izhikevich-fast_spiking" / "simulation.html").is_file()


@pytest.mark.parametrize(
    "args, words",
    [
        ([], ["no model given", "lif, izhikevich, hh, network"]),
        (["bogus"], ["unknown model", "lif, izhikevich, hh, network"]),
        (["izhikevich", "--preset", "bogus"], ["unknown preset", "regular_spiking"]),
        (["lif", "--preset", "x"], ["no presets", "izhikevich"]),
        (["lif", "--dt", "0"], ["dt_ms", "> 0"]),
        (["lif", "--dt", "-1"], ["dt_ms", "> 0"]),
        (["lif", "--dt", "50"], ["too large", "tau_m_ms"]),
        (["hh", "--dt", "0.1"], ["too large", "0.05"]),
        (["lif", "--dt", "nan"], ["dt_ms", "finite"]),
        (["lif", "--duration", "-5"], ["duration_ms", "> 0"]),
        (["lif", "--duration", "nan"], ["duration_ms", "finite"]),
        (["lif", "--duration", "inf"], ["duration_ms", "finite"]),
        (["lif", "--duration", "1e7"], ["100,000 steps", "duration_ms <= 10000"]),
        (["lif", "--current", "-1"], ["current", "give 0 to"]),
        (["lif", "--current", "nan"], ["current", "finite"]),
        (["lif", "--current", "inf"], ["current", "finite"]),
        (["lif", "--current", "abc"], ["--current", "invalid float"]),
        (["lif", "--seed", "-3"], ["seed"]),
        (["lif", "--seed", "1.5"], ["seed"]),
        (["lif", "--bogus"], ["unrecognized arguments"]),
        (["network", "--current", "1"], ["takes no current"]),
        (["network", "--preset", "big"], ["unknown preset", "w1"]),
        (["network", "--dt", "5"], ["dt_ms"]),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(capsys, tmp_path, args, words):
    out = tmp_path / "out"
    status, _, err = call(capsys, "simulate", *args, "--out", out)
    assert_one_line_error(status, err, *words)
    assert not out.exists()


def test_bad_input_with_the_default_out_creates_no_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = call(capsys, "simulate", "lif", "--duration", "-1")
    assert_one_line_error(status, err, "duration_ms")
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_exits_2(capsys, tmp_path):
    out = tmp_path / "file"
    out.write_text("keep")
    status, _, err = call(capsys, "simulate", "lif", "--out", out)
    assert_one_line_error(status, err, "existing file")
    assert out.read_text() == "keep"


def test_a_run_in_a_subprocess_prints_only_the_json_summary(tmp_path):
    out = tmp_path / "out"
    ok = subprocess.run(
        [sys.executable, "-m", "neurotwin", "simulate", "lif", "--duration", "20", "--json"]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == json.loads((out / "summary.json").read_text(encoding="utf-8"))
