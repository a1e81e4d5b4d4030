"""Error types, one per kind of mistake.

The CLI turns :class:`ConfigError` and :class:`DataError` into exit status 2 with the message alone;
any other exception is a runtime failure (exit status 1).
"""

from __future__ import annotations


class NeurotwinError(Exception):
    """Base class of every error neurotwin raises on purpose."""


class ConfigError(NeurotwinError, ValueError):
    """A bad name, value or option: the message names it and the accepted choices."""


class DataError(NeurotwinError, ValueError):
    """Unreadable or invalid data: the message names the file, row or column and what is wrong."""


class NumericalError(NeurotwinError, RuntimeError):
    """A computation diverged (NaN or infinite values) during training or evaluation."""


class ModelFileError(DataError):
    """A model folder that is missing, corrupt or from an unknown version; the message names the
    file and what is wrong."""


def one_line(value, limit: int = 200) -> str:
    """``value`` as text on one line (whitespace runs collapsed), at most ``limit`` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(value) -> str:
    """``repr(value)`` short enough to quote a bad value in a one-line error message."""
    return one_line(repr(value), 40)


def pick(table, name, what: str):
    """``table[name]``, or a :class:`ConfigError` "unknown ``what`` ``name``; choose one of: …"
    listing the table's keys when ``name`` is not a text key of it."""
    if not isinstance(name, str) or name not in table:
        raise ConfigError(f"unknown {what} {shown(name)}; choose one of: {', '.join(table)}")
    return table[name]


def open_unit(value, name: str) -> float:
    """``value`` as a float strictly between 0 and 1 (a probability threshold, a miscoverage α,
    a confidence level), or a :class:`ConfigError` "``name`` must be between 0 and 1
    (exclusive), got …"; NaN and non-numbers fail too."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not 0.0 < number < 1.0:  # NaN fails too
        raise ConfigError(f"{name} must be between 0 and 1 (exclusive), got {shown(value)}")
    return number
