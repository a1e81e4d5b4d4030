"""The :class:`Task` contract: raw arrays, a split drawn from the seed, the kind and the metric."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from neurotwin import kinds
from neurotwin.core.seeding import derive_seed
from neurotwin.errors import ConfigError
from neurotwin.tasks.arrays import task_fields

#: Fraction of the training part held out for model selection (early stopping, tuning).
VALIDATION_FRACTION = 0.1


@dataclass
class Task:
    """A learning problem with its split. Arrays are raw (unencoded) numpy arrays.

    ``X_*`` have shape ``(n, n_features)`` (images are flattened; ``input_shape`` keeps their shape),
    ``y_*`` are integer class indices ``0..n_classes-1`` for classification and floats for regression.
    ``kind`` is a name from :mod:`neurotwin.kinds`, which says how the task is scored and split.
    ``source`` describes where the data came from (name and options, or a file path and its SHA-256)
    so a stored result can tell whether it was computed on the same data. ``subtasks`` are the
    ordered parts of a ``continual`` task, learned one after another.
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
    subtasks: list[Task] | None = None
    #: The class that diagnosis metrics call positive (sensitivity, specificity), by name; None:
    #: the second class of a two-class task, and none for more classes (see :meth:`positive_index`).
    positive_class: str | None = None

    def __post_init__(self) -> None:
        kinds.get(self.kind)  # ConfigError naming the known kinds
        if self.subtasks is not None:
            self.subtasks = list(self.subtasks)
            for i, sub in enumerate(self.subtasks):
                if not isinstance(sub, Task):
                    raise ConfigError(
                        f"task {self.name!r}: subtask {i} is a {type(sub).__name__}, not a Task"
                    )

    @classmethod
    def from_arrays(cls, X: Any, y: Any, X_test: Any = None, y_test: Any = None, **options) -> Task:
        """A validated task from arrays: ``X`` ``(n, features)`` or ``(n, H, W)`` images
        (flattened, ``input_shape`` kept), ``y`` ``(n,)`` numbers or strings.

        With ``X_test``/``y_test`` the split is fixed (``fixed_split``); otherwise it is drawn
        from ``seed`` exactly as for a bundled dataset (25 % test, stratified by class).
        ``kind`` None infers ``classification`` (strings, or at most 20 integer values) or
        ``regression``. ``class_names`` None encodes ``y``'s sorted distinct values as classes;
        given, ``y`` must hold indices into it. Bad input (NaN, mismatched lengths, a class with
        fewer than 2 samples, no samples) raises :class:`DataError`, bad options
        :class:`ConfigError`, each one line naming the array or option.

        Options: ``kind``, ``seed`` (0), ``name`` (``"arrays"``), ``feature_names``,
        ``class_names``, ``input_shape``; loaders also pass ``source`` (where the arrays came
        from; default their SHA-256) and ``where`` (the name in error messages).
        """
        return cls(**task_fields(X, y, X_test, y_test, **options))

    def positive_index(self, positive: str | None = None) -> int | None:
        """The index of the positive class: ``positive`` (a class name, or an index written as
        text) if given, else :attr:`positive_class`, else class 1 of a two-class task; None for a
        task of more classes with none named, or a task without classes.

        A name that is not a class raises :class:`ConfigError` naming the classes.
        """
        if self.class_names is None:
            if positive is not None:
                raise ConfigError(
                    f"--positive applies to classification tasks; {self.name} is a {self.kind} task"
                )
            return None
        name = positive if positive is not None else self.positive_class
        if name is None:
            return 1 if len(self.class_names) == 2 else None
        if name in self.class_names:
            return self.class_names.index(name)
        text = str(name).strip()
        if text.isascii() and text.isdigit() and int(text) < len(self.class_names):
            return int(text)
        raise ConfigError(
            f"--positive {name!r} is not a class of {self.name}; choose one of: "
            f"{', '.join(self.class_names)} (or a class index)"
        )

    @property
    def metric(self) -> str:
        """The headline metric of the task's kind (see :mod:`neurotwin.kinds`)."""
        return kinds.get(self.kind).metric

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
    def is_image(self) -> bool:
        """Whether the features are the pixels of an image (``input_shape`` has 2 or more axes)."""
        return len(self.input_shape) >= 2

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names) if self.class_names is not None else 0

    def info(self) -> dict[str, Any]:
        """The ``task`` block of ``results.json``, with the sizes its statistics need: ``n_fit``
        (the training part less the validation slice; the same for every seed) and
        ``fixed_split``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_fit": len(self.validation_split(self.seed)[0]),
            "fixed_split": bool(self.fixed_split),
            "metric": self.metric,
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            "input_shape": list(self.input_shape),
            "class_names": self.class_names,
            "feature_names": list(self.feature_names),
        }

    def validation_split(self, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Hold out 10 % of the training part (stratified if the kind says so), drawn from ``seed``.

        Returns ``(X_fit, y_fit, X_val, y_val)``. The test part is never touched.
        """
        stratify = self.y_train if kinds.get(self.kind).stratify else None
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
