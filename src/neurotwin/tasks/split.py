"""The seed-drawn split and the class bookkeeping shared by every loader (bundled datasets, CSV and
NPZ files). These functions return the fields of a :class:`~neurotwin.tasks.base.Task`; the Task
itself is built by its own class (``Task(**fields)``), so this module does not import it."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from neurotwin import kinds
from neurotwin.errors import DataError

#: Fraction of the samples drawn into the test part when a dataset has no test set of its own.
TEST_FRACTION = 0.25


def split_fields(
    name: str,
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    feature_names: list[str],
    class_names: list[str] | None,
    input_shape: tuple[int, ...],
    source: dict[str, Any],
    where: str | None = None,
) -> dict[str, Any]:
    """The fields of a :class:`~neurotwin.tasks.base.Task` whose test part is drawn from ``seed``.

    The split is exactly ``train_test_split(X, y, test_size=0.25, random_state=seed,
    stratify=y if the kind stratifies else None)`` (see :mod:`neurotwin.kinds`). ``X`` is
    ``(n, n_features)``, ``y`` is ``(n,)``. ``where`` names the data in error messages (a file
    path; defaults to ``name``).
    """
    stratify = y if kinds.get(kind).stratify else None
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=TEST_FRACTION, random_state=seed, stratify=stratify
        )
    except ValueError as exc:  # too few samples for a 25 % test part holding every class
        raise DataError(
            f"{where or name}: cannot draw a {TEST_FRACTION:.0%} test split from {len(y)} samples "
            f"({' '.join(str(exc).split())}); add more samples"
        ) from None
    return {
        "name": name,
        "kind": kind,
        "X_train": X_train,
        "y_train": y_train,
        "X_test": X_test,
        "y_test": y_test,
        "feature_names": feature_names,
        "class_names": class_names,
        "input_shape": tuple(input_shape),
        "seed": int(seed),
        "source": source,
    }


def check_class_counts(y: np.ndarray, class_names: list[str], where: str) -> None:
    """Raise :class:`DataError` naming every class with fewer than 2 samples (a stratified split
    needs one in each part)."""
    counts = np.bincount(y, minlength=len(class_names))
    rare = [f"{class_names[i]!r} ({counts[i]})" for i in np.flatnonzero(counts < 2)]
    if rare:
        raise DataError(
            f"{where}: {'class' if len(rare) == 1 else 'classes'} {', '.join(rare)} "
            f"{'has' if len(rare) == 1 else 'have'} fewer than 2 samples; every class needs at "
            f"least 2 for a stratified train/test split — add samples or remove the class"
        )
