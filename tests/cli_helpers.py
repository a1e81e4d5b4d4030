"""Helpers of the command-line tests: run ``neurotwin`` in this process and check a bad-input error."""

from neurotwin.cli import main


def call(capsys, *args) -> tuple[int, str, str]:
    """``neurotwin ARGS`` in this process: (exit status, stdout, stderr)."""
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(status: int, err: str, *words: str) -> str:
    """Exit status 2, no traceback, exactly one line on stderr that contains every word."""
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]
