"""Atomic files: the one set of writers every file neurotwin writes goes through.

A file is written to a temp file in the same folder, flushed, fsynced and renamed over the target
with ``os.replace``; the folder is then fsynced so the rename itself survives a power cut. Ctrl-C or
kill -9 at any moment leaves either the old file or the new one, never a torn one. A kill can leave a
``.<name>.<pid>.<random>.tmp`` file behind; readers ignore dot files.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from neurotwin.errors import DataError


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """``with atomic_file(path) as f:`` write ``f`` (binary); ``path`` appears whole when the block
    ends, or not at all when it raises.

    Missing parent folders are created. On any exception (KeyboardInterrupt included) the temp
    file is removed and an existing target is left untouched. The file gets the usual permissions
    (umask applies), unlike ``mkstemp``'s 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`); return the path."""
    with atomic_file(path) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` as UTF-8 with :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Serialise ``obj`` as indented UTF-8 JSON and write it with :func:`atomic_write_bytes`.

    numpy scalars and arrays are written as plain numbers and lists. NaN and infinity are refused
    (strict JSON cannot hold them) with a :class:`DataError`; an object JSON cannot encode raises
    ``TypeError``. Either way nothing is written.
    """
    return atomic_write_text(path, dumps(obj, what=str(path)) + "\n")


def dumps(obj: Any, *, what: str, indent: int | None = 2) -> str:
    """Strict JSON text of ``obj`` (numpy values as plain numbers); :class:`DataError` naming
    ``what`` for NaN, infinity or a circular reference."""
    try:
        return json.dumps(
            obj, indent=indent, ensure_ascii=False, allow_nan=False, default=_json_default
        )
    except ValueError as exc:
        raise DataError(f"{what}: cannot be written as JSON: {exc}") from exc


def plain(obj: Any, *, what: str) -> Any:
    """A deep copy of ``obj`` made of plain JSON types (numpy scalars become Python numbers)."""
    return json.loads(dumps(obj, what=what, indent=None))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _fsync_dir(folder: Path) -> None:
    # Directories cannot be opened on Windows and some file systems refuse fsync on them;
    # the rename has happened either way, only its durability across a power cut is weaker.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
