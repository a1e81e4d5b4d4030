"""The results store: atomic files, row documents, and the merged, schema-validated results.json.

Layout of a run folder ``OUT/``::

    OUT/rows/<model>[-<variant>]-s<seed>.json   one per finished (model, variant, seed)
    OUT/results.json                            merged at the end by :func:`merge`

Every file is written through :mod:`neurotwin.io`'s atomic writers, so Ctrl-C or kill -9 at any
moment leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from numpy.typing import ArrayLike

from neurotwin import kinds
from neurotwin.errors import ConfigError, DataError, one_line
from neurotwin.io import atomic_write_json, plain
from neurotwin.stats import ALPHA, corrected_resampled_ttest, holm, mean_ci95, median_range

SCHEMA_VERSION = 1
ROWS_DIR = "rows"
RESULTS_FILE = "results.json"
_SCHEMA_FILE = "results.schema.json"
# Row keys that stay in the row files only: the full spec (for resume) and the raw predictions.
_ROW_ONLY_KEYS = ("predictions", "spec")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
_MAX_MESSAGE = 200


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
    message = one_line(_describe(error), _MAX_MESSAGE)
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


# --- merge ---------------------------------------------------------------------------------------

Key = tuple[str, "str | None"]


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
    split) or one array when the split is fixed. ``task_info`` is the task block; its ``n_fit``
    (samples the models were fitted on) and ``fixed_split`` set the correction below.

    The pairs compared are every (model, variant) against the first one, and every row group
    whose rows name a ``control`` against that control. For each pair:

    - ``comparisons``: on each seed both have, the task kind's paired test (exact McNemar on
      correctness, or Wilcoxon on per-sample squared errors), with ``p_holm`` adjusted by Holm's
      method over all pairs × seeds;
    - ``verdicts``: the corrected resampled t-test (Nadeau & Bengio 2003, ratio n_test / n_fit;
      ratio 0 for a fixed split, where the spread is initialisation only) on the per-seed
      differences b − a of the headline metric, its p Holm-adjusted over the pairs, and the
      minimum detectable difference at 80 % power.

    ``summary`` has one entry per (model, variant): the test scores, energy and parameters as mean
    with a 95 % CI over seeds under the same correction, and training time as median and range.
    """
    rows = _checked_rows(rows)
    kind = _kind_of(rows, task_info)
    groups = _group(rows)
    ratio = _ratio(task_info)
    pairs = _pairs(groups)
    comparisons = _paired_tests(pairs, groups, y_test, kind)
    verdicts = _verdicts(pairs, groups, kind, task_info)
    doc = {
        "schema_version": SCHEMA_VERSION,
        "neurotwin_version": version,
        "task": plain(task_info, what="task"),
        "manifest": plain(manifest, what="manifest"),
        "results": [{k: v for k, v in row.items() if k not in _ROW_ONLY_KEYS} for row in rows],
        "summary": _summary(groups, kind, ratio),
        "comparisons": comparisons,
        "verdicts": verdicts,
    }
    validate_results(doc)
    return doc


def write_results(out_dir: str | os.PathLike, doc: Mapping) -> Path:
    """Validate ``doc`` and write it atomically to ``out_dir/results.json``; return that path."""
    validate_results(doc)
    return atomic_write_json(Path(out_dir) / RESULTS_FILE, doc)


def key_of(item: Mapping) -> Key:
    """``(model, variant)`` of a row, summary entry or model reference."""
    return item["model"], item.get("variant")


def label_of(item: Mapping) -> str:
    """``model`` or ``model-variant``: a row's name in messages and file names."""
    model, variant = key_of(item)
    return model if variant is None else f"{model}-{variant}"


def _checked_rows(rows: Iterable[Mapping]) -> list[dict]:
    rows = [plain(row, what=f"rows[{i}]") for i, row in enumerate(rows)]
    if not rows:
        raise DataError("no finished rows to merge")
    for i, row in enumerate(rows):
        _check(_validators()[1], row, f"rows[{i}]")
    return rows


def _kind_of(rows: list[dict], task_info: Mapping) -> kinds.TaskKind:
    """The task's kind, checked against the scores the rows hold."""
    kind = kinds.get(task_info["kind"])
    key = f"test_{kind.metric}"
    for row in rows:
        if key not in row["metrics"]:
            raise DataError(
                f"row {label_of(row)} seed {row['seed']} has no metrics.{key} for a "
                f"{kind.name} task"
            )
    return kind


def _group(rows: list[dict]) -> dict[Key, dict[int, dict]]:
    """Rows by (model, variant) in order of first appearance, then by seed."""
    groups: dict[Key, dict[int, dict]] = {}
    for row in rows:
        by_seed = groups.setdefault(key_of(row), {})
        if row["seed"] in by_seed:
            raise DataError(f"two rows for {label_of(row)} seed {row['seed']}")
        by_seed[row["seed"]] = row
    return groups


def _ratio(task_info: Mapping) -> float:
    """n_test / n_fit, or 0 for a fixed split."""
    if task_info.get("fixed_split"):
        return 0.0
    if not task_info.get("n_fit"):
        raise DataError(
            "task block needs n_fit (the samples the models were fitted on) to correct the "
            "statistics for overlapping splits, or fixed_split: true"
        )
    return float(task_info["n_test"]) / float(task_info["n_fit"])


def _ref(key: Key) -> dict:
    return {"model": key[0], "variant": key[1]}


def _pairs(groups: Mapping[Key, Mapping[int, dict]]) -> list[tuple[Key, Key, str]]:
    """``(a, b, relation)``: each group against the first, and each against its control."""
    first, *others = groups
    pairs = [(first, key, "vs_first") for key in others]
    for key, by_seed in groups.items():
        control = next(iter(by_seed.values())).get("control")
        # a control that was not run, or a pair already tested against the first, adds nothing
        if control is not None and key_of(control) in groups:
            if all({key_of(control), key} != {a, b} for a, b, _ in pairs):
                pairs.append((key_of(control), key, "vs_control"))
    return pairs


def _targets(y_test: Mapping[int, ArrayLike] | ArrayLike, seed: int) -> np.ndarray:
    if isinstance(y_test, Mapping):
        if seed not in y_test:
            raise DataError(f"no test targets for seed {seed}")
        return np.asarray(y_test[seed])
    return np.asarray(y_test)


def _paired_tests(pairs, groups, y_test, kind: kinds.TaskKind) -> list[dict]:
    """The kind's paired test of each pair on each seed both have, with Holm-adjusted p."""
    comparisons = []
    for a, b, relation in pairs:
        for seed, row_a in groups[a].items():
            row_b = groups[b].get(seed)
            if row_b is None:
                continue
            y = _targets(y_test, seed)
            preds = [_predictions(row, y) for row in (row_a, row_b)]
            result = kind.paired_test.run(y, *preds)
            comparisons.append(
                {
                    "a": _ref(a),
                    "b": _ref(b),
                    "relation": relation,
                    "test": kind.paired_test.name,
                    "seed": seed,
                    **result,
                }
            )
    for comparison, p in zip(comparisons, holm([c["p"] for c in comparisons]), strict=True):
        comparison["p_holm"] = p
    return comparisons


def _predictions(row: Mapping, y: np.ndarray) -> np.ndarray:
    pred = np.asarray(row["predictions"])
    if pred.size != y.size:
        raise DataError(
            f"row {label_of(row)} seed {row['seed']} has {pred.size} predictions "
            f"for {y.size} test samples"
        )
    return pred


def _verdicts(pairs, groups, kind: kinds.TaskKind, task_info) -> list[dict]:
    """The corrected t-test of each pair over the seeds both have (b − a), Holm over pairs."""
    key = f"test_{kind.metric}"
    verdicts = []
    for a, b, relation in pairs:
        seeds = [s for s in groups[a] if s in groups[b]]
        if not seeds:
            continue
        diffs = [groups[b][s]["metrics"][key] - groups[a][s]["metrics"][key] for s in seeds]
        test = corrected_resampled_ttest(
            diffs,
            n_test=task_info["n_test"],
            n_fit=task_info.get("n_fit"),
            fixed_split=bool(task_info.get("fixed_split")),
        )
        verdicts.append(
            {
                "a": _ref(a),
                "b": _ref(b),
                "relation": relation,
                "metric": key,
                "seeds": seeds,
                "n_test": task_info["n_test"],
                "test": "corrected_resampled_t",
                **{k: test[k] for k in ("mean", "ci95", "p", "t", "df", "se", "mdd", "ratio")},
                "correction": test["correction"],
            }
        )
    for verdict, p in zip(verdicts, holm([v["p"] for v in verdicts]), strict=True):
        verdict["p_holm"] = p
        verdict["detected"] = None if p is None else bool(p < ALPHA)
    return verdicts


def _summary(groups, kind: kinds.TaskKind, ratio: float) -> list[dict]:
    summary = []
    for by_seed in groups.values():
        group = list(by_seed.values())
        entry = {k: group[0][k] for k in ("model", "variant", "paradigm", "rule")}
        entry["seeds"] = list(by_seed)
        metrics = [f"test_{name}" for name in kind.score_names]
        for metric in (*metrics, "energy_nj_per_inference", "params_learned", "params_fixed"):
            if metric in group[0]["metrics"]:
                entry[metric] = mean_ci95((_metric(row, metric) for row in group), ratio=ratio)
        entry["train_seconds"] = median_range(_metric(row, "train_seconds") for row in group)
        for block, keys in NESTED_SUMMARY.items():
            stats = _nested_stats(group, block, keys, ratio)
            if stats:
                entry[block] = stats
        summary.append(entry)
    return summary


#: Probe blocks of a row's metrics whose numbers the summary gives as mean and 95 % CI over seeds
#: (a dotted key reaches into a sub-block: ``calibration.ece``).
NESTED_SUMMARY: dict[str, tuple[str, ...]] = {
    "diagnosis": (
        "roc_auc",
        "sensitivity",
        "specificity",
        "balanced_accuracy",
        "log_loss",
        "brier",
        "calibration.ece",
        "calibration.floor",
    ),
    "intervals": ("coverage", "mean_width", "reference_width", "width_ratio"),
}


def _nested_stats(group: list[dict], block: str, keys, ratio: float) -> dict[str, dict]:
    """Mean and 95 % CI over seeds of each number ``keys`` names in the rows' ``metrics[block]``;
    a key some row lacks (or holds as null, e.g. an AUC with a class missing) is left out."""
    out = {}
    for key in keys:
        values = []
        for row in group:
            value = row["metrics"].get(block)
            for part in key.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            values.append(value)
        if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            out[key.replace(".", "_")] = mean_ci95(values, ratio=ratio)
    return out


def _metric(row: Mapping, key: str) -> float:
    try:
        return row["metrics"][key]
    except KeyError:
        raise DataError(f"row {label_of(row)} seed {row['seed']} has no metrics.{key}") from None
