"""Tasks: named datasets and the user's own files, each turned into a :class:`Task`.

``load("digits", seed)`` gives a bundled scikit-learn dataset split by the seed, ``load("mnist")``
the IDX datasets with their own test set, ``load("data.csv", target="label")`` or
``load("data.npz")`` the user's files, and :meth:`Task.from_arrays` the user's arrays.
:func:`available` lists the names, :data:`DESCRIPTIONS` says in one line what each is, and
:func:`register` adds a dataset (see :mod:`neurotwin.tasks.registry` for plug-ins' entry points).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurotwin.errors import ConfigError, DataError
from neurotwin.tasks import registry
from neurotwin.tasks.base import Task
from neurotwin.tasks.files import FILE_KINDS, load_csv, load_npz
from neurotwin.tasks.registry import DESCRIPTIONS, FILE_SUFFIXES, available, register


def load(
    name_or_path: str | Path,
    seed: int = 0,
    *,
    data_dir: str | Path | None = None,
    target: str | None = None,
    kind: str | None = None,
    **options: Any,
) -> Task:
    """The :class:`Task` for a dataset name (see :func:`available`) or a ``.csv``/``.npz`` path.

    ``seed`` draws the train/test split (``train_test_split(test_size=0.25, random_state=seed,
    stratify=y)``) unless the dataset has its own test set. ``data_dir`` is where ``mnist`` and
    ``fashion_mnist`` look for their IDX files; ``target`` names the label column of a CSV file;
    ``kind`` forces ``classification`` or ``regression`` for files (None infers it). Other
    ``options`` go to the named dataset's loader, which must take them; ``data_dir`` goes only
    to loaders that take it (the others read no files and ignore it, as before).
    """
    text = str(name_or_path)
    if Path(text).suffix.lower() in FILE_SUFFIXES:
        return _load_file(Path(text).expanduser(), seed, target=target, kind=kind, options=options)
    entry = registry.get(text)
    if entry is None:
        raise ConfigError(
            f"unknown task {text!r}; choose one of {', '.join(available())}, or a path to a .csv "
            f"(with --target COLUMN) or .npz file"
        )
    for option, value in (("target", target), ("kind", kind)):
        if value is not None:
            raise ConfigError(
                f"--{option} applies to .csv/.npz files, not to the dataset {text!r}; drop it"
            )
    takes = entry.options()  # None: the loader takes any option
    unknown = [] if takes is None else sorted(set(options) - set(takes))
    if unknown:
        raise ConfigError(
            f"the dataset {text!r} takes no option {', '.join(map(repr, unknown))}; "
            f"its options: {', '.join(takes) or 'none'}"
        )
    if data_dir is not None and (takes is None or "data_dir" in takes):
        options["data_dir"] = data_dir  # a dataset that reads no files ignores --data-dir
    task = entry.loader(seed, **options)
    if not isinstance(task, Task):
        raise TypeError(f"the loader of task {text!r} returned a {type(task).__name__}, not a Task")
    return task


def _load_file(path: Path, seed: int, *, target, kind, options: dict[str, Any]) -> Task:
    """A ``.csv`` or ``.npz`` file (which take no loader options)."""
    if not path.is_file():
        raise DataError(
            f"{path}: no such file; pass an existing .csv or .npz file or one of the "
            f"datasets: {', '.join(available())}"
        )
    if options:
        raise ConfigError(
            f"{path}: a file takes no option {', '.join(map(repr, sorted(options)))}; "
            f"only target (.csv) and kind"
        )
    if path.suffix.lower() == ".csv":
        return load_csv(path, seed, target=target, kind=kind)
    if target not in (None, "y"):
        raise ConfigError(f"{path}: --target applies to .csv files; an .npz file uses array y")
    return load_npz(path, seed, kind=kind)


def reload(source: dict[str, Any], seed: int, *, data_dir: str | Path | None = None) -> Task:
    """The task a run was computed on, from the ``source`` it recorded (a row's ``spec["task"]``),
    split by ``seed``: a named dataset by its name, a file by its path, checked to be unchanged
    (same SHA-256). Arrays passed to :meth:`Task.from_arrays` cannot be reloaded.

    Raises :class:`DataError` naming what is missing or changed.
    """
    if not isinstance(source, dict):
        raise DataError(f"a task source is a dict, got {type(source).__name__}")
    if "path" in source:
        path = Path(str(source["path"]))
        kind = source.get("kind")
        task = _load_file(path, seed, target=source.get("target"), kind=kind, options={})
        if task.source.get("sha256") != source.get("sha256"):
            raise DataError(
                f"{path} has changed since the run (its SHA-256 differs); restore the file the "
                "run used, or run compare again"
            )
        return task
    if "name" in source:
        return load(source["name"], seed, data_dir=data_dir)
    raise DataError(
        "the run's task came from arrays (Task.from_arrays), which cannot be reloaded from "
        "the run folder; pass the Task itself"
    )


registry.import_own_modules()

__all__ = [
    "DESCRIPTIONS",
    "FILE_KINDS",
    "FILE_SUFFIXES",
    "Task",
    "available",
    "load",
    "register",
    "reload",
]
