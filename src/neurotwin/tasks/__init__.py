"""Tasks: named datasets and the user's own files, each turned into a :class:`Task`.

``load("digits", seed)`` gives a bundled scikit-learn dataset split by the seed, ``load("mnist")``
the IDX datasets with their own test set, ``load("data.csv", target="label")`` or
``load("data.npz")`` the user's files. :func:`available` lists the names, :data:`DESCRIPTIONS`
says in one line what each is.
"""

from __future__ import annotations

from pathlib import Path

from neurotwin.errors import ConfigError, DataError
from neurotwin.tasks import bundled, mnist
from neurotwin.tasks.base import Task
from neurotwin.tasks.files import FILE_KINDS, load_csv, load_npz

#: One line per named dataset, in the order :func:`available` lists them.
DESCRIPTIONS: dict[str, str] = {**bundled.DESCRIPTIONS, **mnist.DESCRIPTIONS}
FILE_SUFFIXES = (".csv", ".npz")


def available() -> list[str]:
    """Names of the datasets :func:`load` knows (bundled first, then those read from files)."""
    return list(DESCRIPTIONS)


def load(
    name_or_path: str | Path,
    seed: int = 0,
    *,
    data_dir: str | Path | None = None,
    target: str | None = None,
    kind: str | None = None,
) -> Task:
    """The :class:`Task` for a dataset name (see :func:`available`) or a ``.csv``/``.npz`` path.

    ``seed`` draws the train/test split (``train_test_split(test_size=0.25, random_state=seed,
    stratify=y)``) unless the dataset has its own test set. ``data_dir`` is where ``mnist`` and
    ``fashion_mnist`` look for their IDX files; ``target`` names the label column of a CSV file;
    ``kind`` forces ``classification`` or ``regression`` for files (None infers it).
    """
    text = str(name_or_path)
    suffix = Path(text).suffix.lower()
    if suffix in FILE_SUFFIXES:
        path = Path(text).expanduser()
        if not path.is_file():
            raise DataError(
                f"{path}: no such file; pass an existing .csv or .npz file or one of the "
                f"datasets: {', '.join(available())}"
            )
        if suffix == ".csv":
            return load_csv(path, seed, target=target, kind=kind)
        if target not in (None, "y"):
            raise ConfigError(f"{path}: --target applies to .csv files; an .npz file uses array y")
        return load_npz(path, seed, kind=kind)

    if text in DESCRIPTIONS:
        for option, value in (("target", target), ("kind", kind)):
            if value is not None:
                raise ConfigError(
                    f"--{option} applies to .csv/.npz files, not to the dataset {text!r}; drop it"
                )
        if text in mnist.IDX_DATASETS:
            return mnist.load_idx_dataset(text, seed, data_dir=data_dir)
        return bundled.load_bundled(text, seed)

    raise ConfigError(
        f"unknown task {text!r}; choose one of {', '.join(available())}, or a path to a .csv "
        f"(with --target COLUMN) or .npz file"
    )


__all__ = ["DESCRIPTIONS", "FILE_KINDS", "Task", "available", "load"]
