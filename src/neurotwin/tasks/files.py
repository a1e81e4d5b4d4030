"""The user's own data: a ``.csv`` table with a target column, or a ``.npz`` archive of arrays.

CSV: a header row, numeric feature columns, a target column of numbers or strings. NPZ: arrays
``X`` ``(n, n_features)`` or ``(n, H, W)`` images, ``y`` ``(n,)``, and optionally ``X_test`` and
``y_test`` for a fixed split (otherwise the split is drawn from the seed as for bundled data).
Every bad cell or array is reported with its row, column or array name.

Inputs are bounded before they are read: a CSV file (its size, and its features as float64), and
each array of an NPZ archive (its size as declared by its ``.npy`` header and as unpacked from the
archive), may take at most :func:`max_array_bytes` (2 GiB, or ``$NEUROTWIN_MAX_ARRAY_BYTES``), so
a small file cannot claim or unpack to more memory than that.

Each loader is a few named steps: CSV checks the header, selects the columns, parses each row's
features as it is read, then the target; NPZ checks each array's header, then reads it. Both then hand the arrays to
:meth:`~neurotwin.tasks.base.Task.from_arrays`, the one path that infers the kind, encodes the
classes and draws the split.
"""

from __future__ import annotations

import array
import csv
import hashlib
import math
import os
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurotwin.errors import ConfigError, DataError
from neurotwin.tasks.arrays import MAX_ABS_VALUE, TOO_LARGE
from neurotwin.tasks.base import Task

#: The kinds a file's target can be read as (``--kind``).
FILE_KINDS = ("classification", "regression")
#: Cells read as missing values (compared lower-cased, stripped).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-nan"})
#: The most bytes one input may take in memory (a CSV file's text, or one array of an NPZ
#: archive) unless ``$NEUROTWIN_MAX_ARRAY_BYTES`` says otherwise: 2 GiB.
MAX_ARRAY_BYTES = 2 * 1024**3
#: The environment variable that overrides :data:`MAX_ARRAY_BYTES` (a whole number of bytes).
MAX_ARRAY_BYTES_ENV = "NEUROTWIN_MAX_ARRAY_BYTES"
#: The arrays an NPZ archive may hold (any other member is ignored, never read).
NPZ_ARRAYS = ("X", "y", "X_test", "y_test")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def max_array_bytes() -> int:
    """The memory budget of one input in bytes: ``$NEUROTWIN_MAX_ARRAY_BYTES`` when set, else
    :data:`MAX_ARRAY_BYTES`."""
    text = os.environ.get(MAX_ARRAY_BYTES_ENV, "").strip()
    if not text:
        return MAX_ARRAY_BYTES
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(
            f"{MAX_ARRAY_BYTES_ENV}={text!r} is not a positive whole number of bytes "
            f"(e.g. {MAX_ARRAY_BYTES} for 2 GiB); set it so or unset it"
        )
    return value


def format_bytes(n: int) -> str:
    """``n`` bytes in binary units: ``512 B``, ``10.0 MiB``, ``2.9 TiB``."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"):
        value /= 1024
        if value < 1024 or unit == "YiB":
            return f"{value:.1f} {unit}" if value < 1e6 else f"{value:.3g} {unit}"
    raise AssertionError("unreachable")


def _over_budget(what: str, budget: int) -> str:
    """The end of a message refusing ``what`` (the thing and its size) over ``budget``."""
    return (
        f"{what}; the limit is {format_bytes(budget)} ({MAX_ARRAY_BYTES_ENV}) — use a smaller "
        f"file, or raise the limit if the memory is there"
    )


def _file_source(path: Path, target: str | None, kind: str | None) -> dict[str, Any]:
    """A file task's ``source``: its path, SHA-256 and target column, and the kind when forced
    (absent when inferred, so sources of earlier runs stay equal)."""
    source = {"path": str(path), "sha256": sha256_of(path), "target": target}
    if kind is not None:
        source["kind"] = kind
    return source


def check_kind(kind: str | None) -> None:
    """Raise :class:`ConfigError` unless ``kind`` is None or one of :data:`FILE_KINDS`."""
    if kind is not None and kind not in FILE_KINDS:
        raise ConfigError(f"kind {kind!r} is not one of {', '.join(FILE_KINDS)} (or None to infer)")


# ---------------------------------------------------------------------------------------- CSV


def _cell_value(cell: str) -> float | None:
    """The float in ``cell``; NaN for a missing value; None when it is not a number."""
    text = cell.strip()
    if text.lower() in MISSING:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return None


def load_csv(
    path: str | Path, seed: int = 0, *, target: str | None = None, kind: str | None = None
) -> Task:
    """Load a CSV file: ``target`` names the label column, every other column is a feature.

    Features must be finite numbers; the target may be numbers or strings. ``kind`` None infers it
    (see :func:`~neurotwin.tasks.arrays.infer_kind`). The split is drawn from ``seed``
    (stratified for classification).
    """
    path = Path(path).resolve()
    check_kind(kind)
    header, t_col, feature_cols, X, column, lines = read_csv(path, target)
    y = parse_target(path, header[t_col], column, lines)
    return Task.from_arrays(
        X,
        y,
        kind=kind,
        seed=seed,
        name=path.stem,
        feature_names=[header[j] for j in feature_cols],
        source=_file_source(path, target, kind),
        where=str(path),
    )


def _checked_size(path: Path) -> int:
    """:func:`max_array_bytes`, after checking that the file at ``path`` can be read and is
    not larger than that (refused before it is read)."""
    budget = max_array_bytes()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if size > budget:
        raise DataError(f"{path}: {_over_budget(f'the file is {format_bytes(size)}', budget)}")
    return budget


def _check_growth(path: Path, values: array.array, budget: int, line: int) -> None:
    """Refuse a CSV file whose features, read so far up to ``line``, exceed ``budget`` bytes as
    float64."""
    if len(values) * 8 > budget:
        n_bytes = format_bytes(len(values) * 8)
        what = f"its features reach {n_bytes} as float64 at line {line}"
        raise DataError(f"{path}: {_over_budget(what, budget)}")


def read_csv(
    path: Path, target: str | None
) -> tuple[list[str], int, list[int], np.ndarray, list[str], Sequence[int]]:
    """``(header, target column, feature columns, X, target cells, line numbers)`` of a CSV file
    with a header row; blank lines skipped.

    The file is refused before it is read when larger than :func:`max_array_bytes`, and while it
    is read when its features would take more than that as float64. Rows are parsed as they are
    read (:func:`parse_row`), so memory holds 8 bytes per feature cell and the target column's
    text, not the table's text (a Python string per cell, ~10 times the file's size).
    """
    budget = _checked_size(path)
    values, column, lines = array.array("d"), [], array.array("q")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = check_header(path, next(reader, None))
            t_col, feature_cols = select_columns(path, header, target)
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                parse_row(
                    path, header, row, (len(column) + 1, reader.line_num), feature_cols, values
                )
                column.append(row[t_col])
                lines.append(reader.line_num)
                _check_growth(path, values, budget, reader.line_num)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: not a readable UTF-8 CSV file ({exc})") from None
    if not column:
        raise DataError(f"{path}: no data rows after the header ({columns(header)})")
    X = np.frombuffer(values, dtype=np.float64).reshape(len(column), len(feature_cols))
    return header, t_col, feature_cols, X, column, lines


def read_feature_csv(
    path: str | Path, feature_names: Sequence[str], *, ignore: Sequence[str] = ()
) -> np.ndarray:
    """The feature matrix ``(n, len(feature_names))`` of a CSV file whose columns are exactly
    ``feature_names`` (in any order) plus, optionally, the columns named in ``ignore`` (a target
    column that new data may still carry), for applying a trained model to new rows.

    A file with a missing or an extra column is refused naming them; cells are checked as in
    :func:`read_csv` (finite numbers, the row and column named).
    """
    path = Path(path)
    budget = _checked_size(path)
    values, n = array.array("d"), 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = check_header(path, next(reader, None))
            missing = [f for f in feature_names if f not in header]
            extra = [h for h in header if h not in feature_names and h not in ignore]
            if missing or extra:
                parts = []
                if missing:
                    parts.append(f"missing {columns(missing)}")
                if extra:
                    parts.append(f"not in training {columns(extra)}")
                raise DataError(
                    f"{path}: its columns differ from the training ones ({'; '.join(parts)}); "
                    f"the model takes: {columns(list(feature_names))}"
                )
            cols = [header.index(f) for f in feature_names]
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                n += 1
                parse_row(path, header, row, (n, reader.line_num), cols, values)
                _check_growth(path, values, budget, reader.line_num)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: not a readable UTF-8 CSV file ({exc})") from None
    if n == 0:
        raise DataError(f"{path}: no data rows after the header")
    return np.frombuffer(values, dtype=np.float64).reshape(n, len(feature_names))


def columns(header: list[str]) -> str:
    """The column names, comma-separated; a name with control characters (a line break) quoted
    with escapes, so a message stays one line."""
    return ", ".join(name if name.isprintable() else repr(name) for name in header)


def check_header(path: Path, header: list[str] | None) -> list[str]:
    """The header row's column names, stripped: each named, none twice."""
    if header is None or not any(h.strip() for h in header):
        raise DataError(f"{path}: the file is empty; it needs a header row and data rows")
    header = [h.strip() for h in header]
    seen: set[str] = set()
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{path}: column {i + 1} has no name in the header row")
        if name in seen:
            raise DataError(f"{path}: column name {name!r} appears twice in the header row")
        seen.add(name)
    return header


def select_columns(path: Path, header: list[str], target: str | None) -> tuple[int, list[int]]:
    """``(target column, feature columns)``: indices into ``header``."""
    if target is None:
        raise ConfigError(
            f"{path}: name the target column with --target COLUMN (target=...); columns: "
            f"{columns(header)}"
        )
    if target not in header:
        raise DataError(f"{path}: no column {target!r}; the columns are: {columns(header)}")
    t_col = header.index(target)
    feature_cols = [j for j in range(len(header)) if j != t_col]
    if not feature_cols:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    return t_col, feature_cols


def parse_row(
    path: Path,
    header: list[str],
    row: list[str],
    where: tuple[int, int],
    feature_cols: list[int],
    values: array.array,
) -> None:
    """Append the feature cells of ``row`` (data row ``where[0]``, file line ``where[1]``) to
    ``values`` as float64; each must be a finite number of at most
    :data:`~neurotwin.tasks.arrays.MAX_ABS_VALUE` in magnitude."""
    i, line = where
    if len(row) != len(header):
        raise DataError(
            f"{path}: line {line} has {len(row)} cells but the header has {len(header)} columns"
        )
    for j in feature_cols:
        value = _cell_value(row[j])
        if value is None:
            raise DataError(
                f"{path}: column {header[j]!r} is not numeric (row {i}, line {line}: "
                f"{row[j].strip()!r}); features must be numbers — encode or drop that column"
            )
        if not math.isfinite(value):
            raise DataError(
                f"{path}: row {i} (line {line}), column {header[j]!r} is "
                f"{row[j].strip() or 'empty'!r}; every feature cell needs a finite number — "
                f"fill in or drop that row"
            )
        if abs(value) > MAX_ABS_VALUE:
            raise DataError(
                f"{path}: row {i} (line {line}), column {header[j]!r} is "
                f"{row[j].strip()}, {TOO_LARGE} that column"
            )
        values.append(value)


def parse_target(path: Path, target: str, column: list[str], lines: Sequence[int]) -> np.ndarray:
    """The target column: float64 when every cell is a finite number, else strings."""
    cells = [cell.strip() for cell in column]
    for i, (cell, line) in enumerate(zip(cells, lines, strict=True)):
        if cell.lower() in MISSING:
            raise DataError(
                f"{path}: row {i + 1} (line {line}), target column {target!r} is "
                f"{cell or 'empty'!r}; every row needs a target value — fill in or drop that row"
            )
    numbers = [_cell_value(c) for c in cells]
    if not all(v is not None for v in numbers):
        return np.asarray(cells, dtype=str)
    y = np.asarray(numbers, dtype=np.float64)
    if not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise DataError(
            f"{path}: row {bad + 1} (line {lines[bad]}), target column {target!r} is "
            f"{cells[bad]!r}; targets must be finite"
        )
    return y


# ---------------------------------------------------------------------------------------- NPZ


def load_npz(path: str | Path, seed: int = 0, *, kind: str | None = None) -> Task:
    """Load an NPZ archive with arrays ``X``, ``y`` and optionally ``X_test``, ``y_test``.

    Images ``(n, H, W)`` are flattened to ``(n, H * W)`` with ``input_shape`` ``(H, W)``. With
    ``X_test``/``y_test`` the split is fixed, otherwise it is drawn from ``seed``. The arrays are
    validated as those of :meth:`Task.from_arrays` are.
    """
    path = Path(path).resolve()
    check_kind(kind)
    arrays = read_npz(path)
    return Task.from_arrays(
        arrays["X"],
        arrays["y"],
        arrays.get("X_test"),
        arrays.get("y_test"),
        kind=kind,
        seed=seed,
        name=path.stem,
        source=_file_source(path, "y", kind),
        where=str(path),
    )


def read_npz(path: Path, *, require_y: bool = True) -> dict[str, np.ndarray]:
    """The arrays :data:`NPZ_ARRAYS` of an NPZ archive, which must include ``X`` and (unless
    ``require_y`` is False: new rows to predict) ``y``.

    Each array is checked from its ``.npy`` header before it is read (:func:`check_npz_member`):
    no pickled objects, and no more than :func:`max_array_bytes` declared or unpacked. Other
    members are ignored.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    budget = max_array_bytes()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise DataError(
            f"{path}: not a readable .npz archive of plain arrays ({_why(path, exc)})"
        ) from None
    with archive:
        members = {}
        for info in archive.infolist():
            if not info.is_dir():
                members.setdefault(info.filename.removesuffix(".npy"), info)
        for key in ("X", "y") if require_y else ("X",):
            if key not in members:
                raise DataError(
                    f"{path}: array {key!r} is missing; found {sorted(members) or 'no arrays'}, "
                    f"need X (n, features) or (n, H, W) and y (n,), optionally X_test and y_test"
                )
        keys = [key for key in NPZ_ARRAYS if key in members]
        for key in keys:
            check_npz_member(path, archive, members[key], key, budget)
        return {key: _read_member(path, archive, members[key], key) for key in keys}


def _why(path: Path, exc: BaseException) -> str:
    """Why ``path`` is no zip archive, in words."""
    try:
        with path.open("rb") as fh:
            if fh.read(6) == b"\x93NUMPY":
                return "it is a single .npy array, not named arrays; save X and y with np.savez"
    except OSError:
        pass
    return str(exc)


def check_npz_member(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, budget: int
) -> None:
    """Raise :class:`DataError` unless the member ``info`` holds a plain ``.npy`` array of at most
    ``budget`` bytes whose header agrees with its size. Reads the header only (a few hundred
    bytes, however large or compressed the member is)."""
    where = f"{path}: array {key!r}"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise DataError(
            f"{where} is packed with zip method {info.compress_type}; numpy writes stored or "
            f"deflated members — save the arrays with np.savez or np.savez_compressed"
        )
    try:
        with archive.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            else:  # 3.0 exists only for structured dtypes, which are not numbers or strings
                raise ValueError(f".npy format version {version[0]}.{version[1]} is not read here")
            header_bytes = fh.tell()
    except (OSError, EOFError, RuntimeError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{where} is not a readable .npy array ({exc})") from None
    if dtype.hasobject:
        raise DataError(
            f"{where} holds Python objects (dtype {dtype}), which loading would unpickle and "
            f"which could run code; save numbers or strings"
        )
    declared = math.prod(shape) * dtype.itemsize
    if declared > budget:
        what = f"declares shape {shape} {dtype} = {format_bytes(declared)}"
        raise DataError(f"{where} {_over_budget(what, budget)}")
    unpacked = info.file_size - header_bytes
    if unpacked > budget:
        raise DataError(f"{where} {_over_budget(f'unpacks to {format_bytes(unpacked)}', budget)}")
    if unpacked != declared:
        raise DataError(
            f"{where} declares shape {shape} {dtype} ({declared} bytes of data) but its member "
            f"{info.filename!r} holds {unpacked} bytes of data; the file is damaged — save it again"
        )


def _read_member(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str
) -> np.ndarray:
    """The array of a member checked by :func:`check_npz_member` (no pickles)."""
    try:
        with archive.open(info) as fh:
            return np.lib.format.read_array(fh, allow_pickle=False)
    except (OSError, EOFError, RuntimeError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: array {key!r} is not a readable .npy array ({exc})") from None
