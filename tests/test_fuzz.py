"""Property-based fuzzing of the command line and of the files it reads.

Whatever the arguments or the bytes of a data file, ``neurotwin`` ends with exit status 0 or 2,
prints at most one line on stderr, and never a traceback; and the process's peak memory (resident
set, torch included) stays under 1 GiB for inputs of a few kilobytes. A fast share runs in CI; the
slow run (``pytest -m slow``) draws at least 500 command lines and 300 files.
"""

from __future__ import annotations

import io
import resource
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurotwin.cli import main

FAST, SLOW_CLI, SLOW_FILES = 25, 500, 150  # SLOW_FILES per file type: 150 CSV + 150 NPZ

PEAK_MEMORY_BYTES = 1 << 30  # 1 GiB for the whole process, for any input under 10 MB
_SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _run(capsys, argv: list[str]) -> tuple[int, str]:
    before = _peak_rss_bytes()
    status = main(argv)
    err = capsys.readouterr().err
    # ru_maxrss is the peak over the process's life: a case is judged when it raised that peak
    # (in a full test run an earlier test may already have set it above the bound)
    peak = _peak_rss_bytes()
    assert peak <= max(before, PEAK_MEMORY_BYTES), f"peak memory {peak / 2**20:.0f} MiB: {argv}"
    return status, err


def _check(status: int, err: str, argv) -> None:
    assert status in (0, 2), f"exit {status} for {argv}: {err}"
    assert "Traceback" not in err, f"traceback for {argv}: {err}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) <= 1, f"{len(lines)} lines on stderr for {argv}: {err}"
    if status == 2:
        assert lines and lines[0].startswith("neurotwin: error: "), err


def _peak_rss_bytes() -> int:
    """The peak resident set of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


# --- command lines --------------------------------------------------------------------------

_WEIRD_TEXT = st.one_of(
    st.sampled_from(["", " ", "-1", "0", "1", "3", "10**30", "1e3", "²", "①", "٣", "0,0", "a,b"]),
    st.sampled_from(["9" * 40, "4294967296", "2,1,0", ",", "0,", "nan", "inf", "1.5"]),
    st.text(max_size=12),
)
_OPTIONS = {
    "--task": st.sampled_from(
        ["iris", "digits", "nope", "", "x.csv", "x.npz", "mnist", "diabetes"]
    ),
    "--models": st.one_of(
        st.sampled_from(["mlp", "hebbian", "all", "mlp,mlp", "", "x"]), _WEIRD_TEXT
    ),
    "--seeds": _WEIRD_TEXT,
    "--epochs": _WEIRD_TEXT,
    "--device": st.sampled_from(["cpu", "cuda", "auto", "gpu", ""]),
    "--target": st.sampled_from(["y", "label", ""]),
    "--kind": st.sampled_from(["classification", "regression", "banana"]),
    "--data-dir": st.sampled_from(["/nonexistent", ""]),
}


_SIMULATE_OPTIONS = {
    "--preset": st.sampled_from(["chattering", "fast_spiking", "squid_axon", "w1", "x", ""]),
    "--current": _WEIRD_TEXT,
    "--dt": st.one_of(st.sampled_from(["0.1", "0.01", "0", "-1", "1e9", "nan"]), _WEIRD_TEXT),
    "--seed": _WEIRD_TEXT,
}
# a valid simulation runs: keep it short (20 ms), or give a weird duration
_DURATIONS = st.one_of(st.just("20"), st.sampled_from(["0", "-5", "inf", "1e12", "x"]))


@st.composite
def command_lines(draw) -> list[str]:
    command = draw(
        st.sampled_from(["compare", "compare", "compare", "simulate", "list", "bogus", ""])
    )
    argv = [command] if command else []
    if command == "simulate":
        argv.append(draw(st.sampled_from(["lif", "izhikevich", "hh", "network", "bogus"])))
        for option in draw(
            st.lists(st.sampled_from(sorted(_SIMULATE_OPTIONS)), max_size=3, unique=True)
        ):
            argv += [option, draw(_SIMULATE_OPTIONS[option])]
        argv += ["--duration", draw(_DURATIONS), "--json"]
    if command == "compare":
        for option in draw(st.lists(st.sampled_from(sorted(_OPTIONS)), max_size=4, unique=True)):
            argv += [option, draw(_OPTIONS[option])]
        # a valid command line trains: keep that small (one quick mlp on iris)
        argv += ["--quick", "--no-report", "--json"]
        if "--models" not in argv:
            argv += ["--models", "mlp"]
        if "--seeds" not in argv:
            argv += ["--seeds", "0"]
        if draw(st.booleans()):
            argv += [draw(st.sampled_from(["--bogus", "--seeds", "-x"]))]
    elif command == "list" and draw(st.booleans()):
        argv += ["--json"]
    return argv


def _with_out(argv: list[str], out: Path) -> list[str]:
    return [*argv, "--out", str(out)] if argv[:1] in (["compare"], ["simulate"]) else argv


def _fuzz_cli(capsys, argv):
    with tempfile.TemporaryDirectory() as tmp:
        full = _with_out(argv, Path(tmp) / "run")
        if "--task" in full and full[full.index("--task") + 1] in ("iris", "digits", "diabetes"):
            if "--models" in full and full[full.index("--models") + 1] in ("all", "hebbian"):
                full[full.index("--models") + 1] = "mlp"  # keep the valid runs small
        status, err = _run(capsys, full)
        _check(status, err, full)


@settings(max_examples=FAST, **_SETTINGS)
@given(argv=command_lines())
def test_any_command_line_exits_0_or_2_with_one_line(capsys, argv):
    _fuzz_cli(capsys, argv)


@pytest.mark.slow
@settings(max_examples=SLOW_CLI, **_SETTINGS)
@given(argv=command_lines())
def test_many_command_lines_exit_0_or_2_with_one_line(capsys, argv):
    _fuzz_cli(capsys, argv)


# --- data files -----------------------------------------------------------------------------


def _valid_csv() -> bytes:
    rng = np.random.default_rng(0)
    rows = ["a,b,c,y"]
    for i in range(60):
        x = rng.normal(size=3)
        rows.append(",".join(f"{v:.3f}" for v in x) + f",{i % 2}")
    return ("\n".join(rows) + "\n").encode()


def _valid_npz() -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    np.savez_compressed(buf, X=rng.normal(size=(60, 4)), y=np.arange(60) % 3)
    return buf.getvalue()


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """``base`` with a few bytes flipped, inserted, deleted or the file cut."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "cut", "replace_text"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 16))]
        elif op == "cut":
            del data[i:]
        else:
            token = draw(st.sampled_from([b"nan", b"1e308", b"", b"x", b",", b"\n", b"-", b"\x00"]))
            data[i : i + 1] = token
    return bytes(data)


def _fuzz_file(capsys, data: bytes, suffix: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"data{suffix}"
        path.write_bytes(data)
        argv = ["compare", "--task", str(path), "--models", "mlp", "--quick", "--seeds", "0"]
        argv += ["--out", str(Path(tmp) / "run"), "--no-report", "--json"]
        if suffix == ".csv":
            argv += ["--target", "y"]
        status, err = _run(capsys, argv)
        _check(status, err, f"{suffix} file of {len(data)} bytes")


@settings(max_examples=FAST, **_SETTINGS)
@given(data=mutated(_valid_csv()))
def test_any_csv_file_exits_0_or_2_with_one_line(capsys, data):
    _fuzz_file(capsys, data, ".csv")


@settings(max_examples=FAST, **_SETTINGS)
@given(data=mutated(_valid_npz()))
def test_any_npz_file_exits_0_or_2_with_one_line(capsys, data):
    _fuzz_file(capsys, data, ".npz")


@pytest.mark.slow
@settings(max_examples=SLOW_FILES, **_SETTINGS)
@given(data=mutated(_valid_csv()))
def test_many_csv_files_exit_0_or_2_with_one_line(capsys, data):
    _fuzz_file(capsys, data, ".csv")


@pytest.mark.slow
@settings(max_examples=SLOW_FILES, **_SETTINGS)
@given(data=mutated(_valid_npz()))
def test_many_npz_files_exit_0_or_2_with_one_line(capsys, data):
    _fuzz_file(capsys, data, ".npz")
