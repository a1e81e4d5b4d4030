"""Arrays to a :class:`Task`: the one validation path of the user's data.

:meth:`Task.from_arrays` (API users, the scikit-learn wrappers) and the ``.npz`` loader both end
here: shapes, finite values of a size the models can compute with, the kind (given or inferred),
the class encoding and class counts (at least two classes to learn from), and the split — drawn
from the seed, or fixed when test arrays are given. Every error is a one-line :class:`DataError`
(bad data) or :class:`ConfigError` (bad option) naming the array and the index; numpy's own
warnings are silenced, the bad value being named in that message instead.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from neurotwin import kinds
from neurotwin.errors import ConfigError, DataError
from neurotwin.tasks.split import check_class_counts, split_fields

#: An integer-valued target with at most this many distinct values is taken as class labels.
MAX_INFERRED_CLASSES = 20
#: The largest magnitude of a feature or a regression target. The learners compute in float32
#: (largest number 3.4e38) and standardising subtracts two values, so each must stay below half of
#: that; float64 statistics of such values (means, sums of squares) cannot overflow either.
MAX_ABS_VALUE = 1e38


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
    """``(y, class_names)``: sorted class names and int64 indices for a kind whose target is a
    class (numbers sort numerically, integer-valued ones are named without a decimal point),
    float64 and None for a kind whose target is a value (regression)."""
    if kinds.get(kind).target == "value":
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


def check_features(
    X: Any, key: str, where: str, feature_names: Sequence[str] | None = None
) -> tuple[np.ndarray, tuple[int, ...]]:
    """``(X (n, n_features) float64, input_shape)`` from ``(n, features)`` or ``(n, H, W)``
    numbers, all finite and at most :data:`MAX_ABS_VALUE` in magnitude, at least one sample and
    one feature; ``key`` names the array in errors, ``feature_names`` (default ``x0``, ``x1``, …)
    the columns of a ``(n, features)`` array."""
    X = _as_array(X, key, where)
    if X.ndim not in (2, 3):
        raise DataError(
            f"{where}: array {key!r} has shape {X.shape}; it must be (n, features) or (n, H, W)"
        )
    if X.dtype.kind not in "iufb":
        raise DataError(f"{where}: array {key!r} has dtype {X.dtype}; it must hold numbers")
    if len(X) == 0:
        raise DataError(f"{where}: array {key!r} has no samples")
    if X[0].size == 0:
        raise DataError(f"{where}: array {key!r} has no features (shape {X.shape})")
    X = X.astype(np.float64)
    index = _first_out_of_range(X)
    if index is not None:
        value = float(X[index])
        if not np.isfinite(value):
            raise DataError(
                f"{where}: array {key!r} holds a non-finite value (NaN or inf) at index "
                f"{index}; remove or fill in those samples"
            )
        if X.ndim == 2:
            names = feature_names if feature_names is not None else []
            column = names[index[1]] if len(names) == X.shape[1] else f"x{index[1]}"
            place, remedy = f"row {index[0]}, column {str(column)!r}", "that column"
        else:
            place, remedy = f"index {index}", "the array"
        raise DataError(f"{where}: array {key!r} holds {value:g} at {place}, {TOO_LARGE} {remedy}")
    return X.reshape(len(X), -1), tuple(X.shape[1:])


#: Why a value above :data:`MAX_ABS_VALUE` is refused, and the remedy (a place follows "rescale").
TOO_LARGE = (
    f"too large to standardise (the models compute in float32; |value| must be at most "
    f"{MAX_ABS_VALUE:g}) — rescale"
)


def _first_out_of_range(a: np.ndarray) -> tuple[int, ...] | None:
    """The index of the first value of float ``a`` that is NaN, infinite or larger in magnitude
    than :data:`MAX_ABS_VALUE`, or None. Allocates only boolean masks (no copy of ``a``, no
    index per value)."""
    within = (a >= -MAX_ABS_VALUE) & (a <= MAX_ABS_VALUE)  # False for NaN
    if within.all():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmin(within)), a.shape))


def check_targets(y: Any, key: str, where: str, n: int, x_key: str) -> np.ndarray:
    """``y`` as ``(n,)`` numbers or strings (a ``(n, 1)`` column is flattened), finite, with one
    entry per sample of array ``x_key``."""
    y = _as_array(y, key, where)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{where}: array {key!r} has shape {y.shape}; it must be (n,)")
    if len(y) != n:
        raise DataError(
            f"{where}: array {key!r} has {len(y)} entries but {x_key!r} has {n} samples; "
            f"they must match"
        )
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        bad = int(np.argmin(np.isfinite(y)))
        raise DataError(f"{where}: array {key!r} holds a non-finite value at index {bad}")
    if y.dtype.kind not in "iufbUS":
        raise DataError(f"{where}: array {key!r} has dtype {y.dtype}; use numbers or strings")
    return y.astype(str) if y.dtype.kind == "S" else y


def _quiet_numpy(fn):
    """Run ``fn`` with numpy's floating-point warnings off: a bad value is named in a DataError."""

    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return quiet


def pixel_names(shape: tuple[int, ...]) -> list[str]:
    """``pixel_<row>_<col>`` for each pixel of a ``(rows, cols)`` image, in row-major order."""
    rows, cols = shape
    return [f"pixel_{r}_{c}" for r in range(rows) for c in range(cols)]


@_quiet_numpy
def task_fields(
    X: Any,
    y: Any,
    X_test: Any = None,
    y_test: Any = None,
    *,
    kind: str | None = None,
    seed: int = 0,
    name: str = "arrays",
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    input_shape: Sequence[int] | None = None,
    source: dict[str, Any] | None = None,
    where: str | None = None,
) -> dict[str, Any]:
    """The validated fields of a Task from arrays (see :meth:`Task.from_arrays`, which builds it).

    ``source`` describes where the arrays came from (default: their SHA-256); the kind, and the
    split when fixed, are added to it. ``where`` names the data in errors (default ``name``).
    """
    where = where or name
    fixed = _check_test_pair(X_test, y_test, where)
    X, shape = check_features(X, "X", where, feature_names)
    y = check_targets(y, "y", where, len(X), "X")
    if fixed:
        X_test, y_test = _check_test_part(X_test, y_test, shape, y, where, feature_names)
    shape = _input_shape(input_shape, shape, X.shape[1], where)
    feature_names = _feature_names(feature_names, X.shape[1], where)

    y_all = np.concatenate([y, y_test]) if fixed else y
    kind = kind if kind is not None else infer_kind(y_all)
    kinds.get(kind)  # a ConfigError naming the known kinds, before any work on an unknown one
    if class_names is None:
        y_all, names = encode_target(y_all, kind, where, seeded_split=not fixed)
    else:
        y_all, names = _given_classes(y_all, class_names, kind, where, seeded_split=not fixed)
    if names is None:
        _check_target_values(y_all, len(y), where)
    else:
        _check_two_classes(y_all[: len(y)], names, where, fixed=fixed)
    if source is None:
        source = {"name": name, "arrays_sha256": _digest(X, y, X_test, y_test)}
    source = {**source, "kind": kind}
    if not fixed:
        return split_fields(
            name,
            kind,
            X,
            y_all,
            seed=seed,
            feature_names=feature_names,
            class_names=names,
            input_shape=shape,
            source=source,
            where=where,
        )
    return {
        "name": name,
        "kind": kind,
        "X_train": X,
        "y_train": y_all[: len(y)],
        "X_test": X_test,
        "y_test": y_all[len(y) :],
        "feature_names": feature_names,
        "class_names": names,
        "input_shape": shape,
        "seed": int(seed),
        "source": {**source, "split": "fixed (X_test, y_test)"},
        "fixed_split": True,
    }


def _as_array(a: Any, key: str, where: str) -> np.ndarray:
    if a is None:
        raise DataError(f"{where}: array {key!r} is missing (None)")
    try:
        return np.asarray(a)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise DataError(f"{where}: array {key!r} is not a rectangular array ({exc})") from None


def _check_test_pair(X_test: Any, y_test: Any, where: str) -> bool:
    """True when both test arrays are given; DataError when only one is."""
    if (X_test is None) != (y_test is None):
        have, lack = ("X_test", "y_test") if X_test is not None else ("y_test", "X_test")
        raise DataError(f"{where}: array {have!r} is given without {lack!r}; give both or neither")
    return X_test is not None


def _check_test_part(
    X_test: Any,
    y_test: Any,
    shape: tuple[int, ...],
    y: np.ndarray,
    where: str,
    feature_names: Sequence[str] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``X_test``, ``y_test`` checked as ``X``, ``y`` are, and against them."""
    X_test, test_shape = check_features(X_test, "X_test", where, feature_names)
    if test_shape != shape:
        raise DataError(
            f"{where}: array 'X_test' has samples of shape {test_shape} but 'X' has {shape}"
        )
    y_test = check_targets(y_test, "y_test", where, len(X_test), "X_test")
    if (y.dtype.kind in "US") != (y_test.dtype.kind in "US"):
        raise DataError(f"{where}: arrays 'y' and 'y_test' must both hold numbers or both strings")
    return X_test, y_test


def _check_target_values(y: np.ndarray, n_train: int, where: str) -> None:
    """Raise :class:`DataError` naming the first value target (``y`` then ``y_test``, joined in
    ``y``; ``n_train`` of ``y``) larger in magnitude than :data:`MAX_ABS_VALUE`."""
    index = _first_out_of_range(y)
    if index is not None:
        key, i = ("y", index[0]) if index[0] < n_train else ("y_test", index[0] - n_train)
        raise DataError(
            f"{where}: array {key!r} holds {float(y[index]):g} at index {i}, {TOO_LARGE} the target"
        )


def _check_two_classes(y_train: np.ndarray, names: list[str], where: str, *, fixed: bool) -> None:
    """Raise :class:`DataError` when the class indices a model learns from hold one class."""
    present = np.unique(y_train)
    if len(present) < 2:
        part = "the training part ('y', the split being fixed)" if fixed else "the target"
        raise DataError(
            f"{where}: {part} has one class ({names[int(present[0])]!r}); a classifier needs at "
            f"least 2 — add samples of another class"
        )


def _input_shape(
    given: Sequence[int] | None, shape: tuple[int, ...], n_features: int, where: str
) -> tuple[int, ...]:
    """``given`` when it holds ``n_features`` values per sample, else the arrays' own shape."""
    if given is None:
        return shape
    given = tuple(int(d) for d in given)
    if int(np.prod(given)) != n_features:
        raise ConfigError(
            f"{where}: input_shape {given} holds {int(np.prod(given))} values but X has "
            f"{n_features} features per sample"
        )
    return given


def _feature_names(given: Sequence[str] | None, n_features: int, where: str) -> list[str]:
    if given is None:
        return [f"x{i}" for i in range(n_features)]
    names = [str(f) for f in given]
    if len(names) != n_features:
        raise ConfigError(
            f"{where}: {len(names)} feature_names given but X has {n_features} features"
        )
    return names


def _given_classes(
    y: np.ndarray, class_names: Sequence[str], kind: str, where: str, *, seeded_split: bool
) -> tuple[np.ndarray, list[str]]:
    """``y`` as int64 indices into the given ``class_names``, checked."""
    if kinds.get(kind).target != "class":
        raise ConfigError(f"{where}: class_names given, but a {kind} task has no classes")
    names = [str(c) for c in class_names]
    if y.dtype.kind not in "iub" and not (y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0)):
        raise DataError(
            f"{where}: with class_names, y must hold class indices 0..{len(names) - 1}, "
            f"not {y.dtype} values such as {y[0]!r}"
        )
    if len(y) and (y.min() < 0 or y.max() >= len(names)):
        bad = int(y.min() if y.min() < 0 else y.max())
        raise DataError(
            f"{where}: label {bad!r} is outside 0..{len(names) - 1} ({len(names)} class_names)"
        )
    y = y.astype(np.int64)
    if seeded_split:
        check_class_counts(y, names, where)
    return y, names


def _digest(*arrays: np.ndarray | None) -> str:
    """SHA-256 of the arrays' shapes, dtypes and bytes (None skipped)."""
    digest = hashlib.sha256()
    for a in arrays:
        if a is not None:
            a = np.ascontiguousarray(a)
            digest.update(f"{a.shape}{a.dtype.str}".encode())
            digest.update(a.tobytes())
    return digest.hexdigest()
