"""The comparison runner: seeds × learners on one task, one row file each, resumable.

For every seed the task is loaded with that seed (a fresh split), and each (learner, variant) is
fitted, evaluated and probed; its row is written atomically to ``OUT/rows/`` with the spec that
produced it. Rerunning with the same ``out`` skips rows whose file exists with the same spec, so a
run stopped by Ctrl-C or kill -9 finishes where it stopped. At the end the rows are merged into
``OUT/results.json`` (validated against the shipped schema) and ``OUT/report.html`` is written.
The run holds ``OUT/.lock`` (:mod:`neurotwin.experiment.lock`) from before its first row to its
last file, so two runs never write into one folder at once.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from neurotwin import __version__, probes, tasks
from neurotwin.core.device import resolve_device
from neurotwin.errors import ConfigError, DataError, one_line, open_unit, shown
from neurotwin.experiment.lock import run_lock
from neurotwin.experiment.progress import RunProgress
from neurotwin.experiment.store import ROWS_DIR, merge, read_row, row_filename, write_results
from neurotwin.io import atomic_write_bytes, atomic_write_json
from neurotwin.learners.base import resolve_epochs
from neurotwin.learners.registry import available as available_learners
from neurotwin.learners.registry import get as get_learner
from neurotwin.report import write_report

DEFAULT_MODELS = ("mlp", "hebbian")
DEFAULT_SEEDS = (0, 1, 2)
MAX_SEED = 2**32 - 1  # numpy's and torch's seeds are 32-bit


def parse_models(models: str | Sequence[str] | None) -> list[str]:
    """``"mlp,hebbian"``, ``"all"`` or a list → learner names, each checked against the registry."""
    if models is None:
        return list(DEFAULT_MODELS)
    names = models.split(",") if isinstance(models, str) else list(models)
    names = [n.strip() for n in names if n.strip()]
    if names == ["all"]:
        return available_learners()
    if not names:
        raise ConfigError(f"no models given; choose from: {', '.join(available_learners())}, all")
    for name in names:
        get_learner(name)
    if len(set(names)) != len(names):
        raise ConfigError(f"a model is named twice in {','.join(names)}; name each once")
    return names


def parse_seeds(seeds: str | Sequence[int] | None) -> list[int]:
    """``"0,1,2"`` or a list of integers from 0 to :data:`MAX_SEED`, without repeats."""
    if seeds is None:
        return list(DEFAULT_SEEDS)
    items = seeds.split(",") if isinstance(seeds, str) else list(seeds)
    out = []
    for item in items:
        text = str(item).strip()
        if not _ascii_digits(text):
            raise ConfigError(
                f"bad seed {shown(text)} in --seeds; give non-negative integers separated by "
                "commas, e.g. 0,1,2"
            )
        if len(text.lstrip("0")) > len(str(MAX_SEED)) or int(text) > MAX_SEED:
            raise ConfigError(
                f"seed {shown(text)} in --seeds is too large; seeds go from 0 to {MAX_SEED}"
            )
        out.append(int(text))
    if not out or len(set(out)) != len(out):
        raise ConfigError("--seeds needs at least one seed and no repeats, e.g. 0,1,2")
    return out


def check_epochs(epochs) -> int | None:
    """``None`` (each learner's default) or a whole number from 1 to :data:`MAX_EPOCHS`
    (:func:`~neurotwin.learners.base.resolve_epochs`)."""
    return None if epochs is None else resolve_epochs(epochs, 0)


def _ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts '²', '①' and '٣' (and int() reads '٣' as 3)
    return text.isascii() and text.isdigit()


def prepare_out(out: str | os.PathLike) -> Path:
    """Create the run folder, or fail clearly if it is a file or cannot be written (read-only,
    a name too long for the file system, a file in its path)."""
    out = Path(out).expanduser()
    try:
        if out.exists() and not out.is_dir():
            raise ConfigError(f"--out {out} is an existing file; give a folder path")
        (out / ROWS_DIR).mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"--out {out} cannot be written ({exc.strerror or exc}); choose a writable folder"
        ) from None
    return out


def default_out(task_name: str, *, quick: bool, epochs: int | None) -> Path:
    """``runs/<task>[-quick][-e<epochs>]``: the same command resumes into the same folder."""
    stem = Path(task_name).stem if Path(task_name).suffix else task_name
    return Path("runs") / (stem + ("-quick" if quick else "") + (f"-e{epochs}" if epochs else ""))


def _canonical(obj) -> str:
    return json.dumps(
        obj, sort_keys=True, default=lambda o: list(o) if isinstance(o, tuple) else str(o)
    )


def api_call(task, names: Sequence[str], seeds: Sequence[int], **options) -> str:
    """How a Python caller's ``nt.compare`` call reads, for the manifest's ``command``."""
    args = [repr(str(task)), repr(list(names))]
    args.append(f"seeds={list(seeds)!r}")
    args += [f"{k}={v!r}" for k, v in options.items() if v not in (None, False)]
    return f"nt.compare({', '.join(args)})"


def _manifest(command: str, device: torch.device, started: str) -> dict:
    return {
        "command": command,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "platform": platform.platform(),
        "started": started,
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def run_row(learner, task, *, seed: int, epochs: int | None, progress=None, options=None) -> dict:
    """Fit one learner on one seed's task and measure it with every probe that applies
    (:func:`neurotwin.probes.probes_for`, given the run's analysis ``options``); returns the row
    (without ``spec`` and ``figures``, which the caller adds)."""
    t0 = time.perf_counter()
    history = learner.fit(task, seed=seed, epochs=epochs, progress=progress)
    train_seconds = time.perf_counter() - t0
    metrics, predictions = probes.run_probes(learner, task, seed=seed, options=options)
    metrics["train_seconds"] = train_seconds
    control = None
    if learner.variant in learner.controls:
        control = {"model": learner.name, "variant": learner.controls[learner.variant]}
    return {
        "model": learner.name,
        "variant": learner.variant,
        "paradigm": learner.paradigm,
        "rule": learner.row_rule,
        "control": control,
        "seed": seed,
        "config": json.loads(_canonical(learner.config)),
        "metrics": metrics,
        "history": history.to_dict(),
        "predictions": np.asarray(predictions).tolist(),
    }


def _plan(names: Sequence[str], first_task, explicit: bool) -> list[tuple[str, str | None]]:
    """Every (learner, variant) row of one seed, for the learners that can take the task
    (:meth:`~neurotwin.learners.base.Learner.task_problem`: its kind, and for learners built for
    a shape, its ``input_shape``). Named learners must all fit; with the default models, a task
    none of them fits (a sequence task) runs every registered learner that does."""
    fitting = [n for n in names if get_learner(n).task_problem(first_task) is None]
    if explicit and fitting != names:
        bad = next(n for n in names if n not in fitting)
        raise ConfigError(f"{get_learner(bad).task_problem(first_task)}; choose other --models")
    if not fitting and not explicit:
        fitting = [
            n for n in available_learners() if get_learner(n).task_problem(first_task) is None
        ]
    if not fitting:
        raise ConfigError(f"no learner handles the {first_task.kind} task {first_task.name}")
    return [(n, v) for n in fitting for v in get_learner(n).variants]


def check_options(task, positive: str | None, threshold) -> dict:
    """The analysis options of a run, checked against the task: ``positive`` a class of it
    (:meth:`~neurotwin.tasks.base.Task.positive_index`), ``threshold`` a number in (0, 1)."""
    task.positive_index(positive)
    if threshold is not None:
        threshold = open_unit(threshold, "--threshold")
    return {"positive": positive, "threshold": threshold}


def _spec(task, learner, *, epochs, quick, options=None) -> dict:
    """What a row was computed from: a stored row with another spec is not reused. Analysis
    options appear only when set, so the rows of runs without them keep their spec."""
    spec = {
        "task": task.source,
        "learner": learner.name,
        "variant": learner.variant,
        "config": learner.config,
        "epochs": epochs,
        "quick": quick,
        "lesion_fractions": list(probes.LESION_FRACTIONS),
        "neurotwin_version": __version__,
    }
    set_options = {k: v for k, v in (options or {}).items() if v is not None}
    if set_options:
        spec["options"] = set_options
    return json.loads(_canonical(spec))


def _stored_row(path: Path, spec: dict) -> dict | None:
    """The finished row at ``path`` when it was computed with ``spec``; None when absent."""
    if not path.exists():
        return None
    row = read_row(path)
    if _canonical(row.get("spec")) != _canonical(spec):
        raise ConfigError(
            f"{path} was computed with other settings; pass another --out "
            "(or delete that folder) to run these"
        )
    return row


def _save_row(out_dir: Path, path: Path, row: dict, learner, task) -> None:
    """Save the model and write the row (the row file marks it done, with ``figures_pending``),
    then draw the learner's figures (:func:`_draw_figures`). A run stopped while drawing leaves
    the flag, and the rerun draws the figures from the saved model instead of training again."""
    row["figures"] = {}
    row["figures_pending"] = True
    learner.data_info = data_info(task, row["seed"])
    learner.save(out_dir / "models" / path.stem)
    atomic_write_json(path, row)
    _draw_figures(out_dir, path, row, lambda: learner.figures(task))


def data_info(task, seed: int) -> dict:
    """What a saved model records about its data (``data`` in its config.json), so that
    ``neurotwin predict`` can read new rows: the task, its kind, the feature names (the columns
    new data must have), the class names (the labels predictions are written as), the target
    column a file may still carry, and the run seed (a stochastic model's evaluation draw)."""
    return {
        "task": task.name,
        "kind": task.kind,
        "feature_names": list(task.feature_names),
        "class_names": None if task.class_names is None else list(task.class_names),
        # a named dataset has no target column of its own: new rows may carry one as "target"
        "target": task.source.get("target") or ("target" if "name" in task.source else None),
        "input_shape": list(task.input_shape),
        "seed": int(seed),
    }


def _draw_figures(out_dir: Path, path: Path, row: dict, draw) -> None:
    """Draw the figures (``draw()`` returns name → PNG bytes) into ``out_dir/figures`` and write
    the row again with them and without ``figures_pending``. A figure that fails is a warning in
    the row (``row["warnings"]``) and one line on stderr, never a failed run."""
    label = path.stem
    warnings = [w for w in row.get("warnings", []) if not w.startswith("figure")]
    try:
        figures = dict(draw())
    except Exception as exc:  # a figure is never worth the row
        warnings.append(f"figures: {_error_line(exc)}")
        figures = {}
    row["figures"] = {}
    for fig_name, png in figures.items():
        rel = f"figures/{label}-{fig_name}.png"
        try:
            atomic_write_bytes(out_dir / rel, png)
        except Exception as exc:
            warnings.append(f"figure {fig_name}: {_error_line(exc)}")
            continue
        row["figures"][fig_name] = rel
    row.pop("warnings", None)
    if warnings:
        row["warnings"] = warnings
        for warning in warnings:
            print(f"neurotwin: warning: {label}: {warning}", file=sys.stderr)
    row.pop("figures_pending", None)
    atomic_write_json(path, row)


def _error_line(exc: BaseException) -> str:
    """``Type: message``, on one short line."""
    return one_line(f"{type(exc).__name__}: {exc}")


def compare(
    task: str = "digits",
    models: str | Sequence[str] | None = None,
    *,
    seeds: str | Sequence[int] | None = None,
    epochs: int | None = None,
    quick: bool = False,
    out: str | os.PathLike | None = None,
    device: str = "auto",
    data_dir: str | os.PathLike | None = None,
    target: str | None = None,
    kind: str | None = None,
    show_progress: bool = True,
    report: bool = True,
    command: str | None = None,
    positive: str | None = None,
    threshold: float | None = None,
) -> dict:
    """Run every (learner, variant) on ``task`` for every seed; return the results document.

    Writes ``out/rows/*.json`` (one per row, resumable), ``out/results.json``, the learners'
    figures and saved models, and ``out/report.html``. See ``neurotwin compare --help``.
    ``command`` is what the manifest records (the CLI passes its command line; by default the
    Python call itself) and what ``out/.lock`` shows while the run holds the folder; a folder that
    another live run holds raises :class:`ConfigError` before anything is computed.
    ``positive`` names the class that diagnosis metrics call positive (default: the task's own,
    e.g. malignant for breast_cancer, else class 1 of a two-class task) and ``threshold`` the
    probability P(positive) from which a sample is called positive (default 0.5).
    """
    # "all" means every learner that can take the task; named learners must all take it
    given = [models] if isinstance(models, str) else list(models or [])
    explicit = models is not None and [str(m).strip() for m in given] != ["all"]
    names = parse_models(models)
    seed_list = parse_seeds(seeds)
    epochs = check_epochs(epochs)
    dev = resolve_device(device)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    if command is None:
        command = api_call(
            task,
            names,
            seed_list,
            epochs=epochs,
            quick=quick,
            out=out,
            positive=positive,
            threshold=threshold,
        )

    def load(seed: int):
        return tasks.load(task, seed, data_dir=data_dir, target=target, kind=kind)

    first_task = load(seed_list[0])  # bad data fails here, before anything is written
    options = check_options(first_task, positive, threshold)
    plan = _plan(names, first_task, explicit)
    out_dir = prepare_out(
        default_out(str(task), quick=quick, epochs=epochs) if out is None else out
    )
    with run_lock(out_dir, command):
        rows, y_test = _run_rows(
            out_dir, plan, seed_list, first_task, load, epochs, quick, dev, show_progress, options
        )
        ordered = [rows[(n, v, s)] for n, v in plan for s in seed_list]
        manifest = _manifest(command, dev, started)
        info = first_task.info()
        positive = first_task.positive_index(options["positive"])
        if positive is not None:
            info["positive_class"] = first_task.class_names[positive]
        doc = merge(ordered, info, y_test, manifest, __version__)
        write_results(out_dir, doc)
        if report:
            write_report(doc, out_dir)
    return doc


def _run_rows(
    out_dir: Path, plan, seed_list, first_task, load, epochs, quick, dev, show_progress, options
):
    """Compute (or read back, when resuming) every row of the plan for every seed; returns the
    rows by (model, variant, seed) and each seed's test targets."""
    rows: dict[tuple[str, str | None, int], dict] = {}
    y_test: dict[int, np.ndarray] = {}
    total = len(plan) * len(seed_list)
    files = {row_filename(n, v, s) for n, v in plan for s in seed_list}
    done = sum((out_dir / ROWS_DIR / name).exists() for name in files)
    resuming = False
    with RunProgress(total, enabled=show_progress) as bar:
        for seed in seed_list:
            # a fixed split is the same for every seed: read (and hash) its files once
            reuse = seed == seed_list[0] or first_task.fixed_split
            the_task = first_task if reuse else load(seed)
            y_test[seed] = the_task.y_test
            for name, variant in plan:
                learner = get_learner(name)(variant=variant, quick=quick, device=str(dev))
                spec = _spec(the_task, learner, epochs=epochs, quick=quick, options=options)
                path = out_dir / ROWS_DIR / row_filename(name, variant, seed)
                row = _stored_row(path, spec)
                if row is not None and not resuming:
                    resuming = True
                    bar.say(f"resuming in {out_dir}: {done} of {total} rows already done")
                if row is None:
                    bar.start_row(path.stem)
                    row = run_row(
                        learner,
                        the_task,
                        seed=seed,
                        epochs=epochs,
                        progress=bar.epoch,
                        options=options,
                    )
                    row["spec"] = spec
                    _save_row(out_dir, path, row, learner, the_task)
                elif row.get("figures_pending"):  # stopped while drawing: draw from the model
                    model_dir, cls = out_dir / "models" / path.stem, type(learner)

                    def draw(model_dir=model_dir, cls=cls, task=the_task):
                        return cls.load(model_dir, device=str(dev)).figures(task)

                    _draw_figures(out_dir, path, row, draw)
                rows[(name, variant, seed)] = row
                bar.end_row()
    return rows, y_test


def load_results(out: str | os.PathLike) -> dict:
    """Read ``out/results.json`` (or a results.json path) back."""
    path = Path(out)
    path = path / "results.json" if path.is_dir() else path
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read results ({exc})") from None
