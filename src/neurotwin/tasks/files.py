"""The user's own data: a ``.csv`` table with a target column, or a ``.npz`` archive of arrays.

CSV: a header row, numeric feature columns, a target column of numbers or strings. NPZ: arrays
``X`` ``(n, n_features)`` or ``(n, H, W)`` images, ``y`` ``(n,)``, and optionally ``X_test`` and
``y_test`` for a fixed split (otherwise the split is drawn from the seed as for bundled data).
Every bad cell or array is reported with its row, column or array name.
"""

from __future__ import annotations

import csv
import hashlib
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from neurotwin.errors import ConfigError, DataError
from neurotwin.tasks.base import Task
from neurotwin.tasks.split import check_class_counts, split_task

FILE_KINDS = ("classification", "regression")
#: An integer-valued target with at most this many distinct values is taken as class labels.
MAX_INFERRED_CLASSES = 20
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


def infer_kind(y: np.ndarray) -> str:
    """``classification`` for non-numeric targets or integer values with <= 20 distinct values,
    else ``regression``."""
    if y.dtype.kind not in "iufb":
        return "classification"
    values = np.unique(y)
    integral = bool(np.all(np.mod(values, 1) == 0))
    return "classification" if integral and len(values) <= MAX_INFERRED_CLASSES else "regression"


def encode_target(
    y: np.ndarray, kind: str, where: str, *, seeded_split: bool = True
) -> tuple[np.ndarray, list[str] | None]:
    """``(y, class_names)``: sorted class names and int64 indices for classification (numbers sort
    numerically, integer-valued ones are named without a decimal point), float64 for regression."""
    if kind == "regression":
        if y.dtype.kind not in "iufb":
            raise DataError(
                f"{where}: the target is not numeric (e.g. {y[0]!r}) so it cannot be regressed; "
                f"use kind='classification' (--kind classification)"
            )
        return y.astype(np.float64), None
    values, y_index = np.unique(y, return_inverse=True)
    if values.dtype.kind in "iufb" and np.all(np.mod(values, 1) == 0):
        class_names = [str(int(v)) for v in values]
    else:
        class_names = [str(v) for v in values]
    y_index = y_index.reshape(-1).astype(np.int64)
    if seeded_split:
        check_class_counts(y_index, class_names, where)
    return y_index, class_names


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
    (see :func:`infer_kind`). The split is drawn from ``seed`` (stratified for classification).
    """
    path = Path(path).resolve()
    check_kind(kind)
    header, rows, lines = read_csv_columns(path)
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

    cells = [row[t_col].strip() for row in rows]
    for i, (cell, line) in enumerate(zip(cells, lines, strict=True)):
        if cell.lower() in MISSING:
            raise DataError(
                f"{path}: row {i + 1} (line {line}), target column {target!r} is "
                f"{cell or 'empty'!r}; every row needs a target value — fill in or drop that row"
            )
    numbers = [_cell_value(c) for c in cells]
    if all(v is not None for v in numbers):
        y = np.asarray(numbers, dtype=np.float64)
        if not np.all(np.isfinite(y)):
            bad = int(np.flatnonzero(~np.isfinite(y))[0])
            raise DataError(
                f"{path}: row {bad + 1} (line {lines[bad]}), target column {target!r} is "
                f"{cells[bad]!r}; targets must be finite"
            )
    else:
        y = np.asarray(cells, dtype=str)
    kind = kind or infer_kind(y)
    y, class_names = encode_target(y, kind, str(path))
    feature_names = [header[j] for j in feature_cols]
    source = {"path": str(path), "sha256": sha256_of(path), "target": target, "kind": kind}
    return split_task(
        path.stem,
        kind,
        X,
        y,
        seed=seed,
        feature_names=feature_names,
        class_names=class_names,
        input_shape=(len(feature_cols),),
        source=source,
        where=str(path),
    )


# ---------------------------------------------------------------------------------------- NPZ


def _features(arrays: Any, key: str, path: Path) -> tuple[np.ndarray, tuple[int, ...]]:
    """``(X (n, n_features) float64, input_shape)`` from array ``key``, validated."""
    X = arrays[key]
    if X.ndim not in (2, 3):
        raise DataError(
            f"{path}: array {key!r} has shape {X.shape}; it must be (n, features) or (n, H, W)"
        )
    if X.dtype.kind not in "iufb":
        raise DataError(f"{path}: array {key!r} has dtype {X.dtype}; it must hold numbers")
    X = X.astype(np.float64)
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        raise DataError(
            f"{path}: array {key!r} holds a non-finite value (NaN or inf) at index "
            f"{tuple(int(i) for i in bad[0])}; remove or fill in those samples"
        )
    return X.reshape(len(X), -1), tuple(X.shape[1:])


def _targets(arrays: Any, key: str, path: Path, n: int, x_key: str) -> np.ndarray:
    y = arrays[key]
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{path}: array {key!r} has shape {y.shape}; it must be (n,)")
    if len(y) != n:
        raise DataError(
            f"{path}: array {key!r} has {len(y)} entries but {x_key!r} has {n} samples; "
            f"they must match"
        )
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise DataError(f"{path}: array {key!r} holds a non-finite value at index {bad}")
    if y.dtype.kind not in "iufbUS":
        raise DataError(f"{path}: array {key!r} has dtype {y.dtype}; use numbers or strings")
    return y.astype(str) if y.dtype.kind == "S" else y


def load_npz(path: str | Path, seed: int = 0, *, kind: str | None = None) -> Task:
    """Load an NPZ archive with arrays ``X``, ``y`` and optionally ``X_test``, ``y_test``.

    Images ``(n, H, W)`` are flattened to ``(n, H * W)`` with ``input_shape`` ``(H, W)``. With
    ``X_test``/``y_test`` the split is fixed, otherwise it is drawn from ``seed``.
    """
    path = Path(path).resolve()
    check_kind(kind)
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
    if ("X_test" in arrays) != ("y_test" in arrays):
        have, lack = ("X_test", "y_test") if "X_test" in arrays else ("y_test", "X_test")
        raise DataError(f"{path}: array {have!r} is given without {lack!r}; give both or neither")

    X, input_shape = _features(arrays, "X", path)
    y = _targets(arrays, "y", path, len(X), "X")
    if len(X) == 0:
        raise DataError(f"{path}: array 'X' has no samples")
    fixed = "X_test" in arrays
    source = {"path": str(path), "sha256": sha256_of(path), "target": "y"}
    feature_names = [f"x{i}" for i in range(X.shape[1])]
    if not fixed:
        kind = kind or infer_kind(y)
        y, class_names = encode_target(y, kind, str(path))
        return split_task(
            path.stem,
            kind,
            X,
            y,
            seed=seed,
            feature_names=feature_names,
            class_names=class_names,
            input_shape=input_shape,
            source={**source, "kind": kind},
            where=str(path),
        )

    X_test, test_shape = _features(arrays, "X_test", path)
    if test_shape != input_shape:
        raise DataError(
            f"{path}: array 'X_test' has samples of shape {test_shape} but 'X' has {input_shape}"
        )
    y_test = _targets(arrays, "y_test", path, len(X_test), "X_test")
    if (y.dtype.kind in "US") != (y_test.dtype.kind in "US"):
        raise DataError(f"{path}: arrays 'y' and 'y_test' must both hold numbers or both strings")
    y_all = np.concatenate([y, y_test])
    kind = kind or infer_kind(y_all)
    y_all, class_names = encode_target(y_all, kind, str(path), seeded_split=False)
    return Task(
        name=path.stem,
        kind=kind,
        X_train=X,
        y_train=y_all[: len(y)],
        X_test=X_test,
        y_test=y_all[len(y) :],
        feature_names=feature_names,
        class_names=class_names,
        input_shape=input_shape,
        seed=int(seed),
        source={**source, "kind": kind, "split": "fixed (X_test, y_test)"},
        fixed_split=True,
    )
