"""``neurotwin predict``: apply a model saved by a run to new rows.

A run saves each row's model in ``RUN_DIR/models/<row>/`` with a ``data`` record in its
``config.json`` (:func:`~neurotwin.experiment.runner.data_info`): the feature names the model was
trained on, the class names, the target column and the run seed. :func:`predict` reads a CSV file
with exactly those feature columns (in any order; the target column may be present and is then
ignored) or an ``.npz`` file with an array ``X`` of the right width, and writes one line per input
row: the predicted label (a class name, or a value for regression) and, for a learner with class
probabilities, one ``p_<class>`` column per class. The model folder is checked before anything is
read (:func:`neurotwin.model_files.read_model_folder`: the checksums of its config and weights,
nothing executed). A stochastic model predicts with the evaluation generator of draw 0 of its run
seed, so the run's own test predictions are reproduced exactly.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError, DataError, ModelFileError
from neurotwin.io import atomic_write_bytes
from neurotwin.model_files import CONFIG_FILE

#: File types :func:`predict` reads new rows from.
INPUT_SUFFIXES = (".csv", ".npz")


def _check_data_record(data: Any, learner, folder: Path) -> dict[str, Any]:
    """The model's ``data`` record, checked to describe its inputs and outputs."""
    where = folder / CONFIG_FILE
    if data is None:
        raise ModelFileError(
            f"{where}: no record of the columns the model was trained on (it was saved outside a "
            "run); use a model from RUN_DIR/models/, or call learner.predict() in Python"
        )
    names = data.get("feature_names") if isinstance(data, dict) else None
    if not (
        isinstance(names, list)
        and len(names) == learner.n_features
        and all(isinstance(n, str) for n in names)
    ):
        raise ModelFileError(f"{where}: data.feature_names does not list the model's inputs")
    classes = data.get("class_names")
    if learner.kind.target == "class" and not (
        isinstance(classes, list) and len(classes) == learner.n_outputs
    ):
        raise ModelFileError(f"{where}: data.class_names does not list the model's classes")
    return data


def read_rows(path: str | os.PathLike, data: dict[str, Any]) -> np.ndarray:
    """The new rows of ``path`` as a float64 ``(n, features)`` array, in the training column
    order (see the module docstring); a file with other columns is refused naming them."""
    from neurotwin.tasks.files import read_feature_csv, read_npz

    path = Path(path).expanduser()
    if path.suffix.lower() not in INPUT_SUFFIXES:
        raise ConfigError(f"{path}: give a .csv or .npz file of new rows")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    names = data["feature_names"]
    if path.suffix.lower() == ".csv":
        target = data.get("target")
        return read_feature_csv(path, names, ignore=(target,) if target else ())
    X = np.asarray(read_npz(path, require_y=False)["X"], dtype=np.float64)
    X = X.reshape(len(X), -1)
    if X.shape[1] != len(names):
        raise DataError(
            f"{path}: X has {X.shape[1]} features per row; the model takes {len(names)}"
        )
    if not np.all(np.isfinite(X)):
        row = int(np.flatnonzero(~np.isfinite(X).all(axis=1))[0])
        raise DataError(f"{path}: X row {row} has NaN or infinite values; fill in or drop it")
    return X


def predict(
    model_dir: str | os.PathLike,
    file: str | os.PathLike,
    *,
    out: str | os.PathLike | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Predict the rows of ``file`` with the model in ``model_dir``; write them to ``out``.

    Returns ``{"labels": [...], "proba": (n, k) array or None, "class_names", "out": Path}``.
    ``out`` defaults to ``<file stem>-predictions.csv`` beside ``file``; it is written atomically
    and may not be ``file`` itself. A learner without class probabilities (or a regression
    model) gets the label column only.
    """
    from neurotwin.learners.base import Learner

    folder = Path(model_dir).expanduser()
    file = Path(file).expanduser()
    target = (
        Path(out).expanduser()
        if out is not None
        else file.with_name(f"{file.stem}-predictions.csv")
    )
    if target.exists() and target.resolve() == file.resolve():
        raise ConfigError(f"--out {target} is the input file; choose another path")
    if target.is_dir():
        raise ConfigError(f"--out {target} is a folder; give a file path")
    learner = Learner.load(folder, device=device)
    data = _check_data_record(learner.data_info, learner, folder)
    X = read_rows(file, data)
    generator = torch_generator(int(data.get("seed", 0)), "evaluation", 0)
    pred = learner.predict(X, generator=generator if learner.stochastic else None)
    proba = None
    classes = data.get("class_names")
    if learner.kind.target == "class":
        labels = [classes[int(i)] for i in pred]
        try:
            generator = torch_generator(int(data.get("seed", 0)), "evaluation", 0)
            proba = learner.predict_proba(X, generator=generator if learner.stochastic else None)
        except ConfigError:  # the learner has no probabilities: labels only
            proba = None
    else:
        labels = [float(v) for v in pred]
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, _csv_bytes(labels, proba, classes))
    return {"labels": labels, "proba": proba, "class_names": classes, "out": target}


def _csv_bytes(labels: list, proba: np.ndarray | None, classes: list[str] | None) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = ["prediction"] + ([f"p_{c}" for c in classes] if proba is not None else [])
    writer.writerow(header)
    for i, label in enumerate(labels):
        cells = [label if isinstance(label, str) else repr(label)]
        if proba is not None:
            cells += [repr(float(p)) for p in proba[i]]
        writer.writerow(cells)
    return buf.getvalue().encode()
