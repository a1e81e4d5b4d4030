"""``neurotwin lesion RUN_DIR``: brain health of every model of a finished ``compare`` run.

For every row of ``RUN_DIR/results.json`` (optionally only some seeds), the saved model
``RUN_DIR/models/<row stem>/`` is loaded with :meth:`Learner.load` and the task of that seed is
reloaded from the row's ``spec["task"]`` (``RUN_DIR/rows/<row stem>.json``). Each model then gets:

- a damage curve for every kind asked (:func:`neurotwin.health.damage_curve`: random and
  targeted synapse loss, neuron death, synaptic noise), with its normalised area under the curve;
- an ageing curve with and without its own plasticity between steps, and the same plasticity on
  the undamaged model as a control (:func:`neurotwin.health.ageing_curve`, 10 steps to 50 %);
- recovery after 50 % random synapse loss (:func:`neurotwin.health.recovery`): the fraction of
  lost accuracy regained by the same retraining budget (samples and partial_fit calls) for every
  learner.

Removed synapses are zero-ablated throughout. The result is written atomically to
``RUN_DIR/health.json`` and ``RUN_DIR/health.html`` (:mod:`neurotwin.report.health`) while the
run folder's lock is held, so a live ``compare`` in the same folder is never disturbed (it holds
the lock; this stops at once instead). Every check — the folder, results.json, each model
folder, and whether each learner can take each kind — happens before any work, so a bad request
writes nothing.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurotwin import __version__, tasks
from neurotwin import kinds as task_kinds
from neurotwin.errors import ConfigError, DataError, one_line
from neurotwin.experiment.lock import run_lock
from neurotwin.experiment.progress import RunProgress
from neurotwin.experiment.store import ROWS_DIR, row_filename
from neurotwin.health import damage as _damage
from neurotwin.health.ageing import SAMPLES_PER_STEP, STEPS, ageing_curve
from neurotwin.health.recovery import BUDGET_EPOCHS, BUDGET_SAMPLES
from neurotwin.health.recovery import recovery as recovery_of
from neurotwin.io import atomic_write_json, atomic_write_text
from neurotwin.learners.base import Learner
from neurotwin.report.health import render_health

HEALTH_JSON = "health.json"
HEALTH_HTML = "health.html"
SCHEMA_VERSION = 1
#: The random-loss level of the headline numbers and of recovery.
HEADLINE_LEVEL = 0.5

DEFINITIONS = {
    "random": "round(f × N) of all N synapses removed uniformly at random (zero-ablation)",
    "targeted": "in each layer, the round(f × N_l) synapses of largest |w| removed (per-layer "
    "ranking, so layers of different weight scales lose the same fraction)",
    "neurons": "round(f × H) of each hidden population's H units die: their incoming and "
    "outgoing synapses are removed (input features and output units never die)",
    "noise": "w ← w + σ · std(w_layer) · ε, ε ~ N(0, 1), the same ε at every σ",
    "auc": "trapezoid-rule area under the curve over the levels divided by the level range: a "
    "model that keeps its intact metric at every level has auc = its intact metric",
    "ageing": "random loss in equal steps up to the final fraction (nested); with plasticity, "
    "one partial_fit call on fresh training samples after each step's loss, before it is scored",
    "regained": "(recovered − lesioned) / (intact − lesioned); None when intact − lesioned ≤ 0.005",
}


def parse_kinds(kinds_: str | Sequence[str]) -> list[str]:
    """``"random,noise"`` or a list → damage kinds, each checked (unknown: :class:`ConfigError`)."""
    names = kinds_.split(",") if isinstance(kinds_, str) else list(kinds_)
    names = [str(n).strip() for n in names if str(n).strip()]
    if not names:
        raise ConfigError(f"no lesion kind given; choose from: {', '.join(_damage.DAMAGE_KINDS)}")
    for name in names:
        _damage.check_kind_name(name)
    if len(set(names)) != len(names):
        raise ConfigError(f"a lesion kind is named twice in {','.join(names)}; name each once")
    return names


def _read_results(run_dir: Path) -> dict:
    if not run_dir.is_dir():
        raise DataError(
            f"{run_dir}: no such run folder; pass the --out folder of a finished neurotwin compare"
        )
    path = run_dir / "results.json"
    if not path.is_file():
        raise DataError(
            f"{path} is missing: {run_dir} is not a finished compare run (run neurotwin compare "
            f"--out {run_dir} first, or let it finish)"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not readable JSON ({one_line(exc, 120)})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list) or not doc["results"]:
        raise DataError(f"{path}: holds no results rows; is it a neurotwin results.json?")
    if not isinstance(doc.get("task"), dict) or "kind" not in doc["task"]:
        raise DataError(f"{path}: has no task block; is it a neurotwin results.json?")
    for i, row in enumerate(doc["results"]):
        if not isinstance(row, dict) or not {"model", "seed"} <= set(row):
            raise DataError(f"{path}: results[{i}] has no model or seed")
    return doc


def _row_source(run_dir: Path, stem: str) -> dict | None:
    """The row's ``spec["task"]`` from ``rows/<stem>.json``, or None when it cannot be read."""
    try:
        row = json.loads((run_dir / ROWS_DIR / f"{stem}.json").read_text(encoding="utf-8"))
        source = row["spec"]["task"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return source if isinstance(source, dict) else None


def _load_task(source: dict | None, task_info: dict, seed: int, data_dir):
    """The task of ``seed``: ``tasks.reload(source, seed)`` (the row's own record of its data,
    a changed file refused), else, when the row file cannot be read, the named dataset."""
    if source is not None:
        return tasks.reload(source, seed, data_dir=data_dir)
    return tasks.load(task_info["name"], seed, data_dir=data_dir)


def _display(row: dict) -> str:
    return row["model"] if row.get("variant") is None else f"{row['model']} ({row['variant']})"


def lesion_run(
    run_dir: str | os.PathLike,
    *,
    kinds: str | Sequence[str] | None = None,
    ageing: bool = True,
    recovery: bool = True,
    seeds: Sequence[int] | None = None,
    show_progress: bool = True,
    data_dir: str | os.PathLike | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Damage, ageing and recovery of every model of the finished run in ``run_dir`` (module
    docstring); writes ``run_dir/health.json`` and ``run_dir/health.html`` and returns the document.

    Args:
        run_dir: the ``--out`` folder of a finished ``neurotwin compare``.
        kinds: damage kinds (:data:`neurotwin.health.DAMAGE_KINDS`), a list or ``"a,b"``. None:
            every kind each learner can take (a learner without hidden units skips
            ``neurons``, said in ``warnings``); kinds named explicitly must apply to every row.
        ageing: run the ageing curves (with and without plasticity, and the control).
        recovery: run recovery after 50 % random synapse loss.
        seeds: only the rows of these seeds (default: every seed of the run).
        show_progress: rich progress bars on stderr.
        data_dir: where datasets with files (MNIST) are read from.
        command: what the lock file shows (default: the Python call).

    Returns:
        ``{"schema": "neurotwin-health", "schema_version", "neurotwin_version", "run_dir",
        "task", "metric", "kinds", "definitions", "settings", "rows", "summary", "findings",
        "warnings", "manifest"}``. Each of ``rows`` is ``{"model", "variant", "name", "paradigm",
        "rule", "seed", "intact", "damage": {kind: damage_curve(...)}, "ageing":
        ageing_curve(...) | None, "recovery": recovery(...) | None}``; each of ``summary`` (one
        per model, over seeds) holds ``{"name", "paradigm", "seeds", "intact", "auc": {kind:
        {"mean", "std"}}, "random_50": {"mean", "std"}, "ageing": {...} | None, "recovery":
        {...} | None}``, each ``{"mean", "std"}`` over seeds.

    Raises:
        DataError: the folder, results.json or a model folder is missing or invalid.
        ConfigError: an unknown kind or seed, or an explicitly named kind some learner cannot
            take (checked for every row before any work, so nothing is written).
    """
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    explicit = kinds is not None
    kind_list = parse_kinds(_damage.DAMAGE_KINDS if kinds is None else kinds)
    run_dir = Path(run_dir).expanduser()
    if command is None:
        command = f"nt.lesion_run({str(run_dir)!r}, kinds={kind_list!r})"
    results = _read_results(run_dir)
    with run_lock(run_dir, command):
        results = _read_results(run_dir)  # re-read under the lock: the folder is ours now
        plan, warnings = _plan(run_dir, results, kind_list, seeds, explicit=explicit)
        metric = kinds_table_metric(results["task"]["kind"])
        rows, computed = _compute(
            run_dir, results, plan, ageing, recovery, metric, data_dir, show_progress
        )
        warnings += computed
        doc = {
            "schema": "neurotwin-health",
            "schema_version": SCHEMA_VERSION,
            "neurotwin_version": __version__,
            "run_dir": str(run_dir),
            "task": {k: v for k, v in results["task"].items() if k != "feature_names"},
            "metric": metric,
            "kinds": kind_list,
            "definitions": DEFINITIONS,
            "settings": {
                "ablation": "zero",
                "levels": {k: list(_damage.default_levels(k)) for k in kind_list},
                "ageing": {
                    "steps": STEPS,
                    "final_fraction": HEADLINE_LEVEL,
                    "samples_per_step": SAMPLES_PER_STEP,
                }
                if ageing
                else None,
                "recovery": {
                    "kind": "random",
                    "level": HEADLINE_LEVEL,
                    "budget_samples": BUDGET_SAMPLES,
                    "budget_epochs": BUDGET_EPOCHS,
                }
                if recovery
                else None,
            },
            "rows": rows,
            "summary": summarise(rows, kind_list, metric),
            "warnings": warnings,
        }
        doc["findings"] = findings(doc)
        doc["manifest"] = {
            "command": command,
            "started": started,
            "wall_seconds": round(time.perf_counter() - t0, 2),
        }
        atomic_write_json(run_dir / HEALTH_JSON, doc)
        atomic_write_text(run_dir / HEALTH_HTML, render_health(doc))
    return doc


def kinds_table_metric(kind: str) -> str:
    """``test_<metric>`` of task kind ``kind`` (:mod:`neurotwin.kinds`)."""
    return f"test_{task_kinds.get(kind).metric}"


def _plan(
    run_dir: Path, results: dict, kind_list, seeds, *, explicit: bool = True
) -> tuple[list[tuple[dict, str, Learner, list[str]]], list[str]]:
    """Every selected row with its stem, loaded model and the kinds it takes, and the warnings
    of kinds skipped. A kind a learner cannot take is a :class:`ConfigError` when the kinds
    were named (``explicit``), else skipped for that row with a warning."""
    run_seeds = sorted({int(r["seed"]) for r in results["results"]})
    if seeds is not None:
        wanted = [int(s) for s in seeds]
        missing = [s for s in wanted if s not in run_seeds]
        if missing or not wanted:
            raise ConfigError(
                f"seed(s) {', '.join(map(str, missing)) or 'none'} not in {run_dir}; "
                f"its seeds: {', '.join(map(str, run_seeds))}"
            )
    else:
        wanted = run_seeds
    plan, warnings, skipped = [], [], set()
    for row in results["results"]:
        if int(row["seed"]) not in wanted:
            continue
        stem = Path(row_filename(row["model"], row.get("variant"), int(row["seed"]))).stem
        folder = run_dir / "models" / stem
        if not folder.is_dir():
            raise DataError(
                f"{folder} is missing: the saved model of row {stem} (was the run folder moved "
                "in part, or made by an older neurotwin?)"
            )
        learner = Learner.load(folder)
        takes = []
        for kind in kind_list:
            try:
                _damage.check_applicable(learner, kind)
            except ConfigError as exc:
                if explicit:
                    raise ConfigError(f"{_display(row)}: {exc}") from None
                if (_display(row), kind) not in skipped:
                    skipped.add((_display(row), kind))
                    warnings.append(f"{_display(row)} skips {kind}: {exc}")
                continue
            takes.append(kind)
        plan.append((row, stem, learner, takes))
    return plan, warnings


def _compute(run_dir, results, plan, ageing, recovery, metric, data_dir, progress):
    rows, warnings = [], []
    task_cache: dict[int, Any] = {}
    with RunProgress(len(plan), enabled=progress) as bar:
        for row, stem, learner, kind_list in plan:
            jobs = len(kind_list) + int(ageing) + int(recovery)
            seed = int(row["seed"])
            if seed not in task_cache:
                source = _row_source(run_dir, stem)
                task_cache[seed] = _load_task(source, results["task"], seed, data_dir)
            task = task_cache[seed]
            if task.n_test != results["task"].get("n_test", task.n_test):
                raise DataError(
                    f"the task reloaded for seed {seed} has {task.n_test} test samples, but "
                    f"{run_dir}/results.json says {results['task']['n_test']}"
                )
            bar.start_row(stem)
            out: dict[str, Any] = {
                "model": row["model"],
                "variant": row.get("variant"),
                "name": _display(row),
                "paradigm": row.get("paradigm", learner.paradigm),
                "rule": row.get("rule", learner.rule),
                "seed": seed,
                "damage": {},
                "ageing": None,
                "recovery": None,
            }
            done = 0
            for kind in kind_list:
                bar.epoch(done, jobs, {"stage": kind})
                out["damage"][kind] = _damage.damage_curve(learner, task, kind=kind, seed=seed)
                done += 1
            if ageing:
                bar.epoch(done, jobs, {"stage": "ageing"})
                out["ageing"] = ageing_curve(
                    learner, task, seed=seed, final_fraction=HEADLINE_LEVEL, plasticity_control=True
                )
                done += 1
            if recovery:
                bar.epoch(done, jobs, {"stage": "recovery"})
                out["recovery"] = recovery_of(
                    learner, task, seed=seed, kind="random", level=HEADLINE_LEVEL
                )
                done += 1
            bar.epoch(done, jobs, {"stage": "done"})
            intact = _intact(out, learner, task, seed, metric)
            out["intact"] = intact
            stored = (row.get("metrics") or {}).get(metric)
            if isinstance(stored, (int, float)) and abs(stored - intact) > 1e-6:
                warnings.append(
                    f"{stem}: intact {metric} {intact:.4f} here but {stored:.4f} in results.json "
                    "(the task or model differs from the run's)"
                )
            rows.append(out)
            bar.end_row()
    return rows, warnings


def _intact(out, learner, task, seed, metric) -> float:
    for curve in out["damage"].values():
        if curve["levels"] and curve["levels"][0] == 0.0:
            return float(curve[metric][0])
    if out["recovery"] is not None:
        return float(out["recovery"]["intact"])
    from neurotwin.probes.test_metric import evaluate

    return float(evaluate(learner, task, seed=seed)[0][metric])


def _stat(values) -> dict[str, float] | None:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None
    return {"mean": float(np.mean(vals)), "std": float(np.std(vals)), "n": len(vals)}


def _at(curve: dict, metric: str, level: float) -> float | None:
    for lv, v in zip(curve["levels"], curve[metric], strict=True):
        if abs(lv - level) < 1e-9:
            return v
    return None


def summarise(rows: list[dict], kind_list: Sequence[str], metric: str) -> list[dict]:
    """One entry per model (display name, in row order) with means and stds over its seeds of
    ``metric`` (``test_<metric>``)."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["name"], []).append(row)
    summary = []
    for name, group in groups.items():
        entry: dict[str, Any] = {
            "name": name,
            "model": group[0]["model"],
            "variant": group[0]["variant"],
            "paradigm": group[0]["paradigm"],
            "seeds": [r["seed"] for r in group],
            "intact": _stat(r["intact"] for r in group),
            "auc": {
                k: _stat(r["damage"][k]["auc"] for r in group)
                for k in kind_list
                if all(k in r["damage"] for r in group)
            },
            "random_50": _stat(_at(r["damage"]["random"], metric, HEADLINE_LEVEL) for r in group)
            if "random" in group[0]["damage"]
            else None,
            "ageing": None,
            "recovery": None,
        }
        if group[0]["ageing"] is not None:
            ag = [r["ageing"] for r in group]
            entry["ageing"] = {
                "auc": _stat(a["auc"] for a in ag),
                "auc_no_plasticity": _stat(a["auc_no_plasticity"] for a in ag),
                "auc_plasticity_no_loss": _stat(a.get("auc_plasticity_no_loss") for a in ag),
                "final": _stat(a[metric][-1] for a in ag if a[metric] is not None),
                "final_no_plasticity": _stat(a[f"{metric}_no_plasticity"][-1] for a in ag),
            }
        if group[0]["recovery"] is not None:
            rec = [r["recovery"] for r in group]
            entry["recovery"] = {
                "intact": _stat(r["intact"] for r in rec),
                "lesioned": _stat(r["lesioned"] for r in rec),
                "recovered": _stat(r["recovered"] for r in rec),
                "regained": _stat(r["regained"] for r in rec),
                "budget": rec[0]["budget"],
            }
        summary.append(entry)
    return summary


def _f(stat: dict | None, digits: int = 3) -> str:
    if stat is None:
        return "n/a"
    text = f"{stat['mean']:.{digits}f}"
    return text + (f" ± {stat['std']:.{digits}f}" if stat.get("n", 1) > 1 else "")


def findings(doc: dict) -> list[str]:
    """The note in words: for every model its metric at 50 % random synapse loss, its AUCs and
    its recovery; for every model with an ageing curve, whether ongoing plasticity kept at least
    as much accuracy as none (by the AUC over the ageing curve), stated either way."""
    metric = doc["metric"].removeprefix("test_")
    lines = []
    for s in doc["summary"]:
        n = len(s["seeds"])
        over = f" (mean over {n} seeds)" if n > 1 else f" (seed {s['seeds'][0]})"
        aucs = ", ".join(f"{k} {_f(v)}" for k, v in s["auc"].items())
        text = f"{s['name']} [{s['paradigm']}]{over}: intact {metric} {_f(s['intact'])}"
        if s["random_50"] is not None:
            text += f"; at 50 % random synapse loss {_f(s['random_50'])}"
        text += f"; AUC {aucs}."
        rec = s["recovery"]
        if rec is not None:
            b = rec["budget"]
            text += (
                f" After the same retraining budget ({b['partial_fit_calls']} partial_fit calls "
                f"on the same {b['samples']} training samples) from 50 % random loss: "
                f"{_f(rec['lesioned'])} → {_f(rec['recovered'])}, "
                + (
                    f"regaining {_f(rec['regained'], 2)} of the lost {metric}."
                    if rec["regained"] is not None
                    else "nothing meaningful was lost, so no fraction regained is reported."
                )
            )
        lines.append(text)
    for s in doc["summary"]:
        ag = s["ageing"]
        if ag is None or ag["auc"] is None:
            continue
        keeps = ag["auc"]["mean"] >= ag["auc_no_plasticity"]["mean"]
        verdict = "keeps at least as much" if keeps else "does NOT keep as much"
        control = ""
        if ag.get("auc_plasticity_no_loss") is not None:
            control = (
                f"; the same plasticity without any loss scores AUC "
                f"{_f(ag['auc_plasticity_no_loss'])} (how much is simply more training)"
            )
        lines.append(
            f"Ageing, {s['name']} [{s['paradigm']}]: with ongoing plasticity it {verdict} "
            f"{metric} as without it: AUC {_f(ag['auc'])} vs {_f(ag['auc_no_plasticity'])}, "
            f"at 50 % loss {_f(ag['final'])} vs {_f(ag['final_no_plasticity'])}{control}."
        )
    lines.extend(f"Warning: {w}" for w in doc.get("warnings", []))
    return lines
