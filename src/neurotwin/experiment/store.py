"""The results store: atomic files, row documents, and the merged, schema-validated results.json.

Layout of a run folder ``OUT/``::

    OUT/rows/<model>[-<variant>]-s<seed>.json   one per finished (model, variant, seed)
    OUT/results.json                            merged at the end by :func:`merge`

Every file is written atomically (temp file in the same folder, fsync, rename, fsync of the
folder), so Ctrl-C or kill -9 at any moment leaves either the old file or the new one, never a torn
one. A kill can leave a ``.<name>.<pid>.<random>.tmp`` file behind; readers ignore dot files.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from numpy.typing import ArrayLike

from neurotwin.errors import ConfigError, DataError
from neurotwin.stats import mcnemar_exact, mean_ci95, wilcoxon_paired, within_noise

SCHEMA_VERSION = 1
ROWS_DIR = "rows"
RESULTS_FILE = "results.json"
_SCHEMA_FILE = "results.schema.json"
# Row keys that stay in the row files only: the full spec (for resume) and the raw predictions.
_ROW_ONLY_KEYS = ("predictions", "spec")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
_MAX_MESSAGE = 200


# --- atomic files -------------------------------------------------------------------------------


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; create missing parent folders; return the path.

    The bytes go to a temp file in the same folder, which is flushed, fsynced and renamed over the
    target with ``os.replace``; the folder is then fsynced so the rename itself survives a power
    cut. On any exception (KeyboardInterrupt included) the temp file is removed and an existing
    target is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Serialise ``obj`` as indented UTF-8 JSON and write it with :func:`atomic_write_bytes`.

    numpy scalars and arrays are written as plain numbers and lists. NaN and infinity are refused
    (strict JSON cannot hold them) with a :class:`DataError`; an object JSON cannot encode raises
    ``TypeError``. Either way nothing is written.
    """
    return atomic_write_bytes(path, (_dumps(obj, what=str(path)) + "\n").encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    # Directories cannot be opened on Windows and some file systems refuse fsync on them;
    # the rename has happened either way, only its durability across a power cut is weaker.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _dumps(obj: Any, *, what: str, indent: int | None = 2) -> str:
    try:
        return json.dumps(
            obj, indent=indent, ensure_ascii=False, allow_nan=False, default=_json_default
        )
    except ValueError as exc:  # NaN or infinity, or a circular reference
        raise DataError(f"{what}: cannot be written as JSON: {exc}") from exc


def _plain(obj: Any, *, what: str) -> Any:
    """A deep copy of ``obj`` made of plain JSON types (numpy scalars become Python numbers)."""
    return json.loads(_dumps(obj, what=what, indent=None))


# --- rows ---------------------------------------------------------------------------------------


def row_filename(model: str, variant: str | None, seed: int) -> str:
    """File name of a row under ``OUT/rows/``: ``<model>[-<variant>]-s<seed>.json``."""
    for label, name in (("model", model), ("variant", variant)):
        if name is not None and not (isinstance(name, str) and _NAME.fullmatch(name)):
            raise ConfigError(
                f"{label} name {name!r} cannot be a file name: use letters, digits and _ . + -"
            )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    stem = model if variant is None else f"{model}-{variant}"
    return f"{stem}-s{int(seed)}.json"


def read_row(path: str | os.PathLike) -> dict:
    """Read and validate one row file; :class:`DataError`, naming the file, if it is not a row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read row file {path}: {exc}") from exc
    try:
        row = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise DataError(f"row file {path} is not valid JSON: {exc}") from exc
    _check(_validators()[1], row, f"row file {path}")
    return row


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


# --- schema -------------------------------------------------------------------------------------


def load_schema() -> dict:
    """The JSON Schema (draft 2020-12) of results.json shipped in the package, as a fresh dict."""
    ref = resources.files("neurotwin.experiment").joinpath(_SCHEMA_FILE)
    return json.loads(ref.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validators() -> tuple[Draft202012Validator, Draft202012Validator]:
    """(validator of results.json, validator of one row file), built once."""
    schema = load_schema()
    row_schema = {
        "$schema": schema["$schema"],
        "$defs": schema["$defs"],
        "$ref": "#/$defs/row_file",
    }
    return Draft202012Validator(schema), Draft202012Validator(row_schema)


def validate_results(doc: Any) -> None:
    """Check a results document against the shipped schema.

    Raises :class:`DataError` with one line: the JSON path of the most relevant problem (as chosen
    by ``jsonschema.exceptions.best_match``) and its message.
    """
    _check(_validators()[0], doc, "results document")


def _check(validator: Draft202012Validator, instance: Any, what: str) -> None:
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return
    message = " ".join(_describe(error).split())
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    raise DataError(f"{what} is invalid at {error.json_path}: {message}")


def _describe(error) -> str:
    """The error's message, or for a failed anyOf/oneOf what its branches asked for."""
    branches = error.context or []
    if error.validator not in ("anyOf", "oneOf") or not branches:
        return error.message
    if all(e.validator == "required" and not e.relative_path for e in branches):
        missing = sorted({repr(name) for e in branches for name in e.validator_value})
        return f"needs one of {', '.join(missing)}"
    return "matches none of the allowed forms: " + "; ".join(e.message for e in branches)


# --- merge --------------------------------------------------------------------------------------


def merge(
    rows: Iterable[Mapping],
    task_info: Mapping,
    y_test: Mapping[int, ArrayLike] | ArrayLike,
    manifest: Mapping,
    version: str,
) -> dict:
    """Build the whole results.json document from finished rows, validated before it is returned.

    ``rows`` are row documents (as read by :func:`read_row`), kept in the order given; ``results``
    holds them without their ``predictions`` and ``spec``. ``y_test`` holds the test targets the
    draw-0 ``predictions`` are judged against: a mapping ``seed -> y_test`` (each seed draws its own
    split) or one array when the split is fixed.

    ``summary`` has one entry per (model, variant), in order of first appearance, with mean, std,
    Student-t 95 % CI and n over seeds of the test metric(s) (``test_accuracy``; for regression
    ``test_r2`` and ``test_mse``), ``energy_nj_per_inference`` and ``train_seconds``.
    ``comparisons`` pairs every other (model, variant) with the first on each seed both have:
    exact McNemar on correctness for classification, paired Wilcoxon signed-rank on per-sample
    squared errors for regression. ``within_noise_vs_first`` is True when p >= 0.05 on every such
    seed (None for the first model, or when no seed is shared).
    """
    rows = [_plain(row, what=f"rows[{i}]") for i, row in enumerate(rows)]
    if not rows:
        raise DataError("no finished rows to merge")
    for i, row in enumerate(rows):
        _check(_validators()[1], row, f"rows[{i}]")
    regression = _is_regression(rows)
    metric_keys = ("test_r2", "test_mse") if regression else ("test_accuracy",)

    groups: dict[tuple[str, str | None], dict[int, dict]] = {}
    for row in rows:
        by_seed = groups.setdefault((row["model"], row["variant"]), {})
        if row["seed"] in by_seed:
            raise DataError(f"two rows for {_label(row)} seed {row['seed']}")
        by_seed[row["seed"]] = row

    (first_key, first_rows), *others = groups.items()
    comparisons = []
    noise: dict[tuple[str, str | None], bool | None] = {first_key: None}
    for key, by_seed in others:
        pairs = [
            _compare(first_rows[seed], by_seed[seed], _targets(y_test, seed), regression)
            for seed in first_rows
            if seed in by_seed
        ]
        comparisons += pairs
        noise[key] = within_noise([pair["p"] for pair in pairs])

    summary = []
    for key, by_seed in groups.items():
        group = list(by_seed.values())
        entry = {k: group[0][k] for k in ("model", "variant", "paradigm", "rule")}
        entry["seeds"] = list(by_seed)
        for metric in (*metric_keys, "energy_nj_per_inference", "train_seconds"):
            entry[metric] = mean_ci95(_metric(row, metric) for row in group)
        entry["within_noise_vs_first"] = noise[key]
        summary.append(entry)

    doc = {
        "schema_version": SCHEMA_VERSION,
        "neurotwin_version": version,
        "task": _plain(task_info, what="task"),
        "manifest": _plain(manifest, what="manifest"),
        "results": [{k: v for k, v in row.items() if k not in _ROW_ONLY_KEYS} for row in rows],
        "summary": summary,
        "comparisons": comparisons,
    }
    validate_results(doc)
    return doc


def write_results(out_dir: str | os.PathLike, doc: Mapping) -> Path:
    """Validate ``doc`` and write it atomically to ``out_dir/results.json``; return that path."""
    validate_results(doc)
    return atomic_write_json(Path(out_dir) / RESULTS_FILE, doc)


def _label(row: Mapping) -> str:
    return row["model"] if row["variant"] is None else f"{row['model']}-{row['variant']}"


def _is_regression(rows: list[dict]) -> bool:
    kinds = {"test_accuracy" in row["metrics"] for row in rows}
    if len(kinds) > 1:
        raise DataError("rows mix classification (test_accuracy) and regression (test_r2) metrics")
    return not kinds.pop()


def _metric(row: Mapping, key: str) -> float:
    try:
        return row["metrics"][key]
    except KeyError:
        raise DataError(f"row {_label(row)} seed {row['seed']} has no metrics.{key}") from None


def _targets(y_test: Mapping[int, ArrayLike] | ArrayLike, seed: int) -> np.ndarray:
    if isinstance(y_test, Mapping):
        if seed not in y_test:
            raise DataError(f"no test targets for seed {seed}")
        return np.asarray(y_test[seed])
    return np.asarray(y_test)


def _compare(row_a: dict, row_b: dict, y: np.ndarray, regression: bool) -> dict:
    """One paired test of two rows of the same seed on draw-0 test predictions."""
    pred_a, pred_b = (np.asarray(row["predictions"]) for row in (row_a, row_b))
    for row, pred in ((row_a, pred_a), (row_b, pred_b)):
        if pred.size != y.size:
            raise DataError(
                f"row {_label(row)} seed {row['seed']} has {pred.size} predictions "
                f"for {y.size} test samples"
            )
    pair = {
        "a": {"model": row_a["model"], "variant": row_a["variant"]},
        "b": {"model": row_b["model"], "variant": row_b["variant"]},
    }
    if regression:
        y = y.astype(float).ravel()
        err_a = (pred_a.astype(float).ravel() - y) ** 2
        err_b = (pred_b.astype(float).ravel() - y) ** 2
        pair.update(test="wilcoxon", seed=row_a["seed"], p=wilcoxon_paired(err_a, err_b))
    else:
        p, n01, n10 = mcnemar_exact(y, pred_a, pred_b)
        pair.update(test="mcnemar_exact", seed=row_a["seed"], p=p, n01=n01, n10=n10)
    return pair
