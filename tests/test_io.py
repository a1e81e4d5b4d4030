"""Checks of the one set of atomic writers (neurotwin.io) that every file neurotwin writes uses."""

import json
import os
import stat
import sys

import numpy as np
import pytest

from neurotwin import io
from neurotwin.errors import DataError
from neurotwin.io import atomic_write_bytes, atomic_write_json, atomic_write_text, dumps, plain


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

    monkeypatch.setattr(io.os, failing, boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b"new content")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["results.json"]


def test_atomic_write_interrupted_by_ctrl_c_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "row.json"
    atomic_write_bytes(path, b"old")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(io.os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(path, b"new")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["row.json"]


def test_atomic_write_text_is_utf8(tmp_path):
    text = "R² ≥ 0.5 — naïve\n"
    path = atomic_write_text(tmp_path / "report.html", text)
    assert path.read_bytes() == text.encode("utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_atomic_write_honours_umask_not_mkstemp_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write_bytes(tmp_path / "x.bin", b"x")
    finally:
        os.umask(old)
    # 0o666 with group and others' write bits masked off
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_dumps_is_strict_json_of_numpy_values():
    text = dumps({"a": np.int64(3), "b": (1, 2), "c": np.array([[0.5]])}, what="x", indent=None)
    assert text == '{"a": 3, "b": [1, 2], "c": [[0.5]]}'
    assert dumps({"name": "R²"}, what="x", indent=None) == '{"name": "R²"}'  # not \u00b2


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), np.float64("nan")])
def test_dumps_refuses_non_finite_naming_what(bad):
    with pytest.raises(DataError, match="the task block"):
        dumps({"x": [1.0, bad]}, what="the task block")


def test_dumps_refuses_circular_reference():
    loop = {}
    loop["self"] = loop
    with pytest.raises(DataError, match="manifest"):
        dumps(loop, what="manifest")


def test_plain_gives_builtin_types_and_a_deep_copy():
    source = {"x": np.float32(0.25), "y": [np.int32(1), (2, 3)], "z": {"k": np.bool_(True)}}
    out = plain(source, what="row")
    assert out == {"x": 0.25, "y": [1, [2, 3]], "z": {"k": True}}
    assert type(out["x"]) is float and type(out["y"][0]) is int and type(out["z"]["k"]) is bool
    out["z"]["k"] = False
    assert source["z"]["k"]  # the source is untouched


def test_results_and_report_are_written_through_these_writers(tmp_path, monkeypatch):
    """A failing rename in neurotwin.io stops results.json and report.html alike."""
    from neurotwin.experiment.store import write_results
    from neurotwin.report import write_report

    doc = {
        "schema_version": 1,
        "neurotwin_version": "0.1.0",
        "task": {"name": "t", "kind": "classification", "n_train": 4, "n_test": 2, "metric": "a"},
        "manifest": {
            "command": "c",
            "python": "3",
            "torch": "2",
            "numpy": "2",
            "threads": 1,
            "device": "cpu",
        },
        "results": [],
        "summary": [],
        "comparisons": [],
    }

    def boom(*args, **kwargs):
        raise OSError("rename refused")

    monkeypatch.setattr(io.os, "replace", boom)
    with pytest.raises(OSError, match="rename refused"):
        write_results(tmp_path, doc)
    with pytest.raises(OSError, match="rename refused"):
        write_report(doc, tmp_path)
    assert os.listdir(tmp_path) == []
