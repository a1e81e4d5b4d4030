"""``neurotwin memory capacity``: writes its files; bad input exits 2 with one line, nothing written."""

import json

import pytest

from neurotwin.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def test_capacity_writes_summary_figures_and_page(capsys, tmp_path):
    out = tmp_path / "out"
    status = main(
        [
            "memory",
            "capacity",
            "--rule",
            "modern",
            "--n",
            "64",
            "--trials",
            "1",
            "--out",
            str(out),
            "--json",
        ]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert json.loads(captured.out) == summary
    assert sorted(summary["figures"]) == ["completion", "energy", "recall_vs_load"]
    for rel in summary["figures"].values():
        assert (out / rel).read_bytes().startswith(PNG)
    assert (out / "memory.html").read_text(encoding="utf-8").count("data:image/png;base64,") == 3


@pytest.mark.parametrize(
    "args",
    [
        ["--rule", "oja"],
        ["--n", "1"],
        ["--n", "5000"],
        ["--n", "nan"],
        ["--trials", "-1"],
        ["--seed", "x"],
        [],
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(capsys, tmp_path, args):
    out = tmp_path / "out"
    argv = ["memory", "capacity", *args, "--out", str(out)] if args else ["memory"]
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()
