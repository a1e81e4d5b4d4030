"""The :class:`Task` contract: raw arrays, a split drawn from the seed, the kind and the metric."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from neurotwin.core.seeding import derive_seed

KINDS = ("classification", "regression", "sequence", "memory")
METRIC_OF_KIND = {"classification": "accuracy", "regression": "r2"}
#: Fraction of the training part held out for model selection (early stopping, tuning).
VALIDATION_FRACTION = 0.1


@dataclass
class Task:
    """A learning problem with its split. Arrays are raw (unencoded) numpy arrays.

    ``X_*`` have shape ``(n, n_features)`` (images are flattened; ``input_shape`` keeps their shape),
    ``y_*`` are integer class indices ``0..n_classes-1`` for classification and floats for regression.
    ``source`` describes where the data came from (name and options, or a file path and its SHA-256)
    so a stored result can tell whether it was computed on the same data.
    """

    name: str
    kind: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    class_names: list[str] | None
    input_shape: tuple[int, ...]
    seed: int
    source: dict[str, Any] = field(default_factory=dict)
    #: True when the dataset brings its own test set, so the split does not depend on ``seed``.
    fixed_split: bool = False

    @property
    def metric(self) -> str:
        """Headline metric: ``accuracy`` for classification, ``r2`` for regression."""
        return METRIC_OF_KIND.get(self.kind, "accuracy")

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.X_test.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names) if self.class_names is not None else 0

    def info(self) -> dict[str, Any]:
        """The ``task`` block of ``results.json``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "metric": self.metric,
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            "input_shape": list(self.input_shape),
            "class_names": self.class_names,
        }

    def validation_split(self, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Hold out 10 % of the training part (stratified for classification), drawn from ``seed``.

        Returns ``(X_fit, y_fit, X_val, y_val)``. The test part is never touched.
        """
        stratify = self.y_train if self.kind == "classification" else None
        if stratify is not None:
            counts = np.bincount(stratify.astype(np.int64))
            n_val = int(np.ceil(VALIDATION_FRACTION * len(stratify)))
            # scikit-learn cannot stratify classes of one sample or fewer slots than classes
            if counts[counts > 0].min() < 2 or n_val < np.count_nonzero(counts):
                stratify = None
        X_fit, X_val, y_fit, y_val = train_test_split(
            self.X_train,
            self.y_train,
            test_size=VALIDATION_FRACTION,
            random_state=derive_seed(seed, "validation") % (2**32),
            stratify=stratify,
        )
        return X_fit, y_fit, X_val, y_val
