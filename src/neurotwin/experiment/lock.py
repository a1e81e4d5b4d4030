"""The run-folder lock: one neurotwin run at a time computes rows in a run folder.

``OUT/.lock`` is created atomically (``O_CREAT | O_EXCL``: of two runs that try at once, exactly
one succeeds) holding ``{"pid", "host", "started", "command"}`` as JSON, and removed when the run
ends, however it ends (success, error, Ctrl-C). A run that finds the lock held by a live run stops
at once with a :class:`ConfigError` naming the holder, so the rows and results.json of a folder
always come from one run's settings.

A lock is *stale* when its host is this host and its pid is not a running process (the run was
killed with kill -9, or the machine lost power); a stale lock is taken over, and the new run says
so on stderr. A lock written on another host is never assumed stale: this host cannot see that
host's processes, so the message says how to remove it by hand.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from neurotwin.errors import ConfigError, one_line

LOCK_FILE = ".lock"
# Held for the milliseconds of a takeover, so that of two runs that both found the same stale
# lock, only one removes it (the other then finds the new, live lock).
_TAKEOVER_FILE = ".lock.takeover"
_TAKEOVER_STALE_S = 10.0  # a takeover file older than this was left by a killed run
_UNREADABLE_WAIT_S = 1.0  # a lock is written in one call right after it is created

# The lock files this process holds, with what it wrote there (a nested run must not take them).
_held: dict[str, bytes] = {}


@contextlib.contextmanager
def run_lock(out_dir: str | os.PathLike, command: str) -> Iterator[Path]:
    """``with run_lock(out_dir, command):`` hold ``out_dir/.lock`` for the block; yields its path.

    Raises :class:`ConfigError` at once when a live run holds it; a stale lock taken over is
    announced in one line on stderr.
    """
    path = acquire(out_dir, command)
    try:
        yield path
    finally:
        release(path)


def acquire(out_dir: str | os.PathLike, command: str) -> Path:
    """Create ``out_dir/.lock`` for this process, taking over a stale one; return its path."""
    path = Path(out_dir) / LOCK_FILE
    payload = json.dumps(
        {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": one_line(command),
        }
    ).encode("utf-8")
    took_over = None
    for _ in range(20):  # each pass either creates the lock or removes a stale one
        if _create(path, payload):
            _held[str(path.resolve())] = payload
            if took_over is not None:
                print(f"neurotwin: {took_over}", file=sys.stderr)
            return path
        seen = _read(path)
        if seen is None:  # released between our attempt and the read: try again
            continue
        raw, holder = seen
        if holder is not None and _alive(holder, path):
            raise ConfigError(_in_use(path, holder))
        if holder is None:
            took_over = f"{path} is not a readable lock (left by a run killed as it started)"
        else:
            took_over = f"{path} was left by a run that has ended ({_describe(holder)})"
        took_over += "; taking it over"
        _remove_if_unchanged(path, raw)
    raise ConfigError(
        f"{path} keeps changing (other neurotwin runs are starting in {path.parent}); "
        "wait for them or choose another --out"
    )


def release(path: str | os.PathLike) -> None:
    """Remove the lock at ``path`` if this process holds it (and it is still its own file)."""
    path = Path(path)
    payload = _held.pop(str(path.resolve()), None)
    if payload is None:
        return
    with contextlib.suppress(OSError):
        if path.read_bytes() == payload:
            path.unlink()


def _create(path: Path, payload: bytes) -> bool:
    """Create ``path`` holding ``payload``; False when it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConfigError(
            f"--out {path.parent} cannot be locked ({exc.strerror or exc}); "
            "choose a writable folder"
        ) from None
    try:
        os.write(fd, payload)  # one call, so a reader sees the whole holder or (briefly) nothing
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    os.close(fd)
    return True


def _read(path: Path) -> tuple[bytes, dict | None] | None:
    """``(bytes, holder)`` of the lock file, holder None when it is not a valid lock; None when
    the file is gone. A lock that is empty is re-read for a moment: its run may be writing it."""
    deadline = time.monotonic() + _UNREADABLE_WAIT_S
    while True:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(
                f"{path} cannot be read ({exc.strerror or exc}); if no neurotwin run is using "
                f"{path.parent}, delete {path}"
            ) from None
        holder = _parse(raw)
        if holder is not None or time.monotonic() > deadline:
            return raw, holder
        time.sleep(0.05)


def _parse(raw: bytes) -> dict | None:
    try:
        holder = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(holder, dict):
        return None
    pid = holder.get("pid")
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return None
    if not isinstance(holder.get("host"), str):
        return None
    return holder


def _alive(holder: dict, path: Path) -> bool:
    """Whether the run that wrote ``holder`` may still be running (anything but a sure no)."""
    if holder["host"] != socket.gethostname():
        return True  # another host's processes cannot be seen from here
    pid = holder["pid"]
    if pid == os.getpid():
        # this process: held only if it took it (a nested run); else a dead run had our pid
        return str(path.resolve()) in _held
    if os.name == "nt":
        return True  # os.kill(pid, 0) would end the process on Windows: never assume stale
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: a process of another user has that pid
        return True
    return True


def _remove_if_unchanged(path: Path, raw: bytes) -> None:
    """Delete the stale lock ``path`` if it still holds ``raw``, under the takeover file, so a
    lock that another run has meanwhile taken over is left alone."""
    guard = path.with_name(_TAKEOVER_FILE)
    deadline = time.monotonic() + 5.0
    while not _create(guard, b""):
        with contextlib.suppress(OSError):
            if time.time() - guard.stat().st_mtime > _TAKEOVER_STALE_S:
                guard.unlink()
                continue
        if time.monotonic() > deadline:
            raise ConfigError(
                f"{guard} is in the way (another neurotwin run is taking over {path}); "
                f"wait for it, or delete {guard} if no run is starting"
            )
        time.sleep(0.02)
    try:
        with contextlib.suppress(FileNotFoundError):
            if path.read_bytes() == raw:
                path.unlink()
    finally:
        with contextlib.suppress(OSError):
            guard.unlink()


def _in_use(path: Path, holder: dict) -> str:
    message = (
        f"{path.parent} is in use by another neurotwin run ({_describe(holder)}); "
        "wait for it or choose another --out"
    )
    if holder["host"] != socket.gethostname():
        message += (
            f" (a lock from another host is never assumed stale: if you know that run has "
            f"ended, delete {path})"
        )
    return message


def _describe(holder: dict) -> str:
    """``pid P on HOST since T: COMMAND``, on one line."""
    text = f"pid {holder['pid']} on {one_line(holder['host'])}"
    if holder.get("started"):
        text += f" since {one_line(holder['started'])}"
    if holder.get("command"):
        text += f": {one_line(holder['command'])}"
    return text
