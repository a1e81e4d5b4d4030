"""Datasets shipped with scikit-learn (no download): digits, breast_cancer, diabetes, iris, wine.

Arrays are the raw values scikit-learn ships (diabetes unscaled, ``scaled=False``); scaling is the
learner's job, fitted on the training part only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sklearn
from sklearn import datasets

from neurotwin.tasks.base import Task
from neurotwin.tasks.split import split_task


@dataclass(frozen=True)
class Bundled:
    """How to load one bundled dataset."""

    loader: Callable[..., Any]
    kind: str
    description: str
    input_shape: tuple[int, ...] | None = None  # None: (n_features,)
    options: tuple[tuple[str, Any], ...] = ()


BUNDLED: dict[str, Bundled] = {
    "digits": Bundled(
        datasets.load_digits,
        "classification",
        "8x8 handwritten digits, 1797 images in 10 classes (UCI optical digits)",
        input_shape=(8, 8),
    ),
    "breast_cancer": Bundled(
        datasets.load_breast_cancer,
        "classification",
        "Wisconsin breast cancer, 569 tumours, 30 features, malignant vs benign",
    ),
    "diabetes": Bundled(
        datasets.load_diabetes,
        "regression",
        "diabetes progression after one year (regression), 442 patients, 10 raw features",
        options=(("scaled", False),),
    ),
    "iris": Bundled(
        datasets.load_iris,
        "classification",
        "Fisher's iris, 150 flowers, 4 features, 3 species",
    ),
    "wine": Bundled(
        datasets.load_wine,
        "classification",
        "UCI wine, 178 wines, 13 chemical features, 3 cultivars",
    ),
}

DESCRIPTIONS: dict[str, str] = {name: spec.description for name, spec in BUNDLED.items()}


def load_bundled(name: str, seed: int = 0) -> Task:
    """Load the bundled dataset ``name`` (a key of :data:`BUNDLED`) split by ``seed``.

    ``X`` is float64 ``(n, n_features)``; ``y`` is int64 class indices (classification) or float64
    (regression).
    """
    spec = BUNDLED[name]
    bunch = spec.loader(**dict(spec.options))
    X = np.asarray(bunch.data, dtype=np.float64)
    if spec.kind == "classification":
        y = np.asarray(bunch.target, dtype=np.int64)
        class_names = [str(c) for c in bunch.target_names]
    else:
        y = np.asarray(bunch.target, dtype=np.float64)
        class_names = None
    feature_names = [str(f) for f in getattr(bunch, "feature_names", [])]
    if len(feature_names) != X.shape[1]:
        feature_names = [f"x{i}" for i in range(X.shape[1])]
    source = {
        "name": name,
        "loader": f"sklearn.datasets.{spec.loader.__name__}",
        "options": dict(spec.options),
        "sklearn_version": sklearn.__version__,
    }
    return split_task(
        name,
        spec.kind,
        X,
        y,
        seed=seed,
        feature_names=feature_names,
        class_names=class_names,
        input_shape=spec.input_shape or (X.shape[1],),
        source=source,
    )
