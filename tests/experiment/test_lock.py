"""Checks of the run-folder lock: one run at a time per folder, stale locks taken over, the lock
gone however the run ends."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from neurotwin.cli import main
from neurotwin.errors import ConfigError
from neurotwin.experiment import lock, runner
from neurotwin.experiment.store import read_row, row_filename, validate_results

IRIS = ["compare", "--task", "iris", "--models", "mlp", "--quick", "--seeds", "0"]


def compare(out: Path, *extra: str) -> list[str]:
    return [*IRIS, "--out", str(out), *extra]


def dead_pid() -> int:
    """The pid of a process that has run and been waited for: no process has it now (until the
    system reuses it, which takes a whole cycle of pids)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def live_pid():
    """The pid of a running process (a sleeping Python), ended after the test."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def write_lock(out: Path, **holder) -> bytes:
    out.mkdir(parents=True, exist_ok=True)
    data = json.dumps(
        {"started": "2025-01-01T00:00:00+00:00", "command": "neurotwin compare", **holder}
    ).encode()
    (out / lock.LOCK_FILE).write_bytes(data)
    return data


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_two_runs_started_together_into_one_folder_one_finishes_and_one_exits_2(tmp_path):
    # Both import torch for seconds, then race for the lock; the winner holds it for a fit,
    # the probes and a report. Should one start so late that the other has already finished,
    # it simply resumes (both exit 0); that is retried, as it tests nothing.
    for attempt in range(3):
        out = tmp_path / f"run{attempt}"
        cmd = [sys.executable, "-m", "neurotwin", *compare(out)]
        procs = [
            subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        errs = [p.communicate(timeout=600)[1] for p in procs]
        statuses = [p.returncode for p in procs]
        assert sorted(statuses) in ([0, 0], [0, 2]), (statuses, errs)
        doc = json.loads((out / "results.json").read_text())
        validate_results(doc)
        rows = {p.name: read_row(p) for p in (out / "rows").glob("*.json")}
        assert sorted(rows) == ["mlp-s0.json", "mlp-unit_encoding-s0.json"]
        for result in doc["results"]:  # results.json is made of exactly these rows
            row = rows[row_filename(result["model"], result["variant"], result["seed"])]
            assert result == {k: v for k, v in row.items() if k not in ("spec", "predictions")}
        assert not (out / lock.LOCK_FILE).exists()
        if sorted(statuses) == [0, 2]:
            loser = errs[statuses.index(2)]
            line = one_line(loser)
            assert line.startswith(f"neurotwin: error: {out} is in use by another neurotwin run")
            winner = procs[statuses.index(0)]
            assert f"pid {winner.pid} on {socket.gethostname()} since " in line
            assert "wait for it or choose another --out" in line
            return
    pytest.fail("the two runs never overlapped in three attempts")


def test_the_lock_holds_this_run_while_rows_are_computed(tmp_path, monkeypatch):
    out = tmp_path / "run"
    seen = []
    real = runner.run_row

    def run_row(*args, **kwargs):
        seen.append(json.loads((out / lock.LOCK_FILE).read_text()))
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_row", run_row)
    runner.compare("iris", "mlp", seeds="0", quick=True, out=out, show_progress=False,
                   report=False, command="the command")  # fmt: skip
    assert len(seen) == 2  # mlp and its unit_encoding row
    holder = seen[0]
    assert holder["pid"] == os.getpid()
    assert holder["host"] == socket.gethostname()
    assert holder["command"] == "the command"
    assert holder["started"].endswith("+00:00")
    assert not (out / lock.LOCK_FILE).exists()


def test_a_live_holder_stops_the_run_at_once_naming_it(tmp_path, capsys, live_pid):
    out = tmp_path / "run"
    before = write_lock(out, pid=live_pid, host=socket.gethostname())
    status = main(compare(out))
    line = one_line(capsys.readouterr().err)
    assert status == 2
    assert line == (
        f"neurotwin: error: {out} is in use by another neurotwin run (pid {live_pid} on "
        f"{socket.gethostname()} since 2025-01-01T00:00:00+00:00: neurotwin compare); "
        "wait for it or choose another --out"
    )
    assert (out / lock.LOCK_FILE).read_bytes() == before
    assert list((out / "rows").iterdir()) == []  # nothing computed, nothing written
    assert not (out / "results.json").exists()


def test_a_stale_lock_of_an_ended_process_is_taken_over(tmp_path, capsys):
    out = tmp_path / "run"
    pid = dead_pid()
    write_lock(out, pid=pid, host=socket.gethostname())
    assert main(compare(out, "--no-report")) == 0
    err = capsys.readouterr().err
    assert f"{out / lock.LOCK_FILE} was left by a run that has ended (pid {pid} on " in err
    assert "taking it over" in err
    validate_results(json.loads((out / "results.json").read_text()))
    assert not (out / lock.LOCK_FILE).exists()


def test_an_unreadable_lock_is_taken_over(tmp_path, capsys):
    # what a run killed between creating the lock and writing it would leave
    out = tmp_path / "run"
    out.mkdir()
    (out / lock.LOCK_FILE).write_bytes(b"")
    assert main(compare(out, "--no-report")) == 0
    assert "is not a readable lock" in capsys.readouterr().err
    assert not (out / lock.LOCK_FILE).exists()


def test_a_lock_from_another_host_is_never_assumed_stale(tmp_path, capsys):
    out = tmp_path / "run"
    before = write_lock(out, pid=dead_pid(), host="elsewhere.example")
    assert main(compare(out)) == 2
    line = one_line(capsys.readouterr().err)
    assert "in use by another neurotwin run" in line
    assert "on elsewhere.example since" in line
    assert "never assumed stale" in line
    assert f"delete {out / lock.LOCK_FILE}" in line
    assert (out / lock.LOCK_FILE).read_bytes() == before


def test_the_lock_is_gone_after_success(tmp_path):
    out = tmp_path / "run"
    assert main(compare(out, "--json")) == 0
    assert not (out / lock.LOCK_FILE).exists()


def test_the_lock_is_gone_after_a_bad_input_error(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(compare(out, "--no-report")) == 0
    assert main(compare(out, "--no-report", "--epochs", "2")) == 2  # other settings
    assert "computed with other settings" in capsys.readouterr().err
    assert not (out / lock.LOCK_FILE).exists()


def test_the_lock_is_gone_after_a_runtime_failure(tmp_path, capsys, monkeypatch):
    def run_row(*args, **kwargs):
        raise RuntimeError("training diverged")

    monkeypatch.setattr(runner, "run_row", run_row)
    out = tmp_path / "run"
    assert main(compare(out)) == 1
    assert "training diverged" in one_line(capsys.readouterr().err)
    assert not (out / lock.LOCK_FILE).exists()


def test_the_lock_is_gone_after_ctrl_c(tmp_path, capsys, monkeypatch):
    def run_row(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_row", run_row)
    out = tmp_path / "run"
    assert main(compare(out)) == 130
    assert "interrupted" in one_line(capsys.readouterr().err)
    assert not (out / lock.LOCK_FILE).exists()
    assert (out / "rows").is_dir()  # the run had started


def test_a_nested_run_into_the_same_folder_is_refused(tmp_path):
    with lock.run_lock(tmp_path, "outer"):
        with pytest.raises(ConfigError, match=f"pid {os.getpid()} .*: outer"):
            lock.acquire(tmp_path, "inner")
        assert json.loads((tmp_path / lock.LOCK_FILE).read_text())["command"] == "outer"
    assert not (tmp_path / lock.LOCK_FILE).exists()


def test_a_lock_left_by_a_dead_run_with_this_process_pid_is_stale(tmp_path, capsys):
    # pids repeat across containers: the same pid on the same host is not proof of a live run
    write_lock(tmp_path, pid=os.getpid(), host=socket.gethostname())
    with lock.run_lock(tmp_path, "mine"):
        assert json.loads((tmp_path / lock.LOCK_FILE).read_text())["command"] == "mine"
    assert "taking it over" in capsys.readouterr().err


def test_a_takeover_leaves_alone_a_lock_that_changed_since_it_was_read(tmp_path):
    # Two runs found the same stale lock; the first replaced it with its own, live one. The
    # second must not delete that.
    stale = write_lock(tmp_path, pid=dead_pid(), host=socket.gethostname())
    live = write_lock(tmp_path, pid=os.getpid(), host=socket.gethostname(), command="first")
    lock._remove_if_unchanged(tmp_path / lock.LOCK_FILE, stale)
    assert (tmp_path / lock.LOCK_FILE).read_bytes() == live
    lock._remove_if_unchanged(tmp_path / lock.LOCK_FILE, live)
    assert not (tmp_path / lock.LOCK_FILE).exists()
    assert not (tmp_path / ".lock.takeover").exists()


def test_a_takeover_file_left_by_a_killed_run_is_cleared(tmp_path):
    stale = write_lock(tmp_path, pid=dead_pid(), host=socket.gethostname())
    guard = tmp_path / ".lock.takeover"
    guard.write_bytes(b"")
    old = time.time() - 60
    os.utime(guard, (old, old))
    lock._remove_if_unchanged(tmp_path / lock.LOCK_FILE, stale)
    assert not (tmp_path / lock.LOCK_FILE).exists()
    assert not guard.exists()
