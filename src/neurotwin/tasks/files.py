"""The user's own data: a ``.csv`` table with a target column, or a ``.npz`` archive of arrays.

CSV: a header row, numeric feature columns, a target column of numbers or strings. NPZ: arrays
``X`` ``(n, n_features)`` or ``(n, H, W)`` images, ``y`` ``(n,)``, and optionally ``X_test`` and
``y_test`` for a fixed split (otherwise the split is drawn from the seed as for bundled data).
Every bad cell or array is reported with its row, column or array name.

Each loader is a few named steps: CSV reads the table, selects the columns, parses the features
and the target; NPZ reads the archive. Both then hand the arrays to
:meth:`~neurotwin.tasks.base.Task.from_arrays`, the one path that infers the kind, encodes the
classes and draws the split.
"""

from __future__ import annotations

import csv
import hashlib
import math
import zipfile
from pathlib import Path

import numpy as np

from neurotwin.errors import ConfigError, DataError
from neurotwin.tasks.base import Task

#: The kinds a file's target can be read as (``--kind``).
FILE_KINDS = ("classification", "regression")
#: Cells read as missing values (compared lower-cased, stripped).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-nan"})


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


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


def read_csv_columns(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """``(header, rows, line_numbers)`` of a CSV file with a header row; blank lines skipped."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            rows, lines = [], []
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                rows.append(row)
                lines.append(reader.line_num)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: not a readable UTF-8 CSV file ({exc})") from None
    if header is None or not any(h.strip() for h in header):
        raise DataError(f"{path}: the file is empty; it needs a header row and data rows")
    header = [h.strip() for h in header]
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{path}: column {i + 1} has no name in the header row")
        if header.index(name) != i:
            raise DataError(f"{path}: column name {name!r} appears twice in the header row")
    if not rows:
        raise DataError(f"{path}: no data rows after the header ({', '.join(header)})")
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(header):
            raise DataError(
                f"{path}: line {line} has {len(row)} cells but the header has {len(header)} columns"
            )
    return header, rows, lines


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
    header, rows, lines = read_csv_columns(path)
    t_col, feature_cols = select_columns(path, header, target)
    X = parse_features(path, header, rows, lines, feature_cols)
    y = parse_target(path, header[t_col], [row[t_col] for row in rows], lines)
    return Task.from_arrays(
        X,
        y,
        kind=kind,
        seed=seed,
        name=path.stem,
        feature_names=[header[j] for j in feature_cols],
        source={"path": str(path), "sha256": sha256_of(path), "target": target},
        where=str(path),
    )


def select_columns(path: Path, header: list[str], target: str | None) -> tuple[int, list[int]]:
    """``(target column, feature columns)``: indices into ``header``."""
    if target is None:
        raise ConfigError(
            f"{path}: name the target column with --target COLUMN (target=...); columns: "
            f"{', '.join(header)}"
        )
    if target not in header:
        raise DataError(f"{path}: no column {target!r}; the columns are: {', '.join(header)}")
    t_col = header.index(target)
    feature_cols = [j for j in range(len(header)) if j != t_col]
    if not feature_cols:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    return t_col, feature_cols


def parse_features(
    path: Path, header: list[str], rows: list[list[str]], lines: list[int], feature_cols: list[int]
) -> np.ndarray:
    """``X`` ``(n_rows, len(feature_cols))`` float64; every cell a finite number."""
    X = np.empty((len(rows), len(feature_cols)), dtype=np.float64)
    for i, (row, line) in enumerate(zip(rows, lines, strict=True)):
        for k, j in enumerate(feature_cols):
            value = _cell_value(row[j])
            if value is None:
                raise DataError(
                    f"{path}: column {header[j]!r} is not numeric (row {i + 1}, line {line}: "
                    f"{row[j].strip()!r}); features must be numbers — encode or drop that column"
                )
            if not math.isfinite(value):
                raise DataError(
                    f"{path}: row {i + 1} (line {line}), column {header[j]!r} is "
                    f"{row[j].strip() or 'empty'!r}; every feature cell needs a finite number — "
                    f"fill in or drop that row"
                )
            X[i, k] = value
    return X


def parse_target(path: Path, target: str, column: list[str], lines: list[int]) -> np.ndarray:
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
        source={"path": str(path), "sha256": sha256_of(path), "target": "y"},
        where=str(path),
    )


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The named arrays of an NPZ archive (no pickled objects), which must include ``X`` and
    ``y``."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not named arrays")
        with loaded as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz archive of plain arrays ({exc})") from None
    for key in ("X", "y"):
        if key not in arrays:
            raise DataError(
                f"{path}: array {key!r} is missing; found {sorted(arrays) or 'no arrays'}, need X "
                f"(n, features) or (n, H, W) and y (n,), optionally X_test and y_test"
            )
    return arrays
