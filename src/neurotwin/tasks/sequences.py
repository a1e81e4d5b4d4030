"""Sequence tasks generated from the bundled datasets: ``digits_rows``.

``digits_rows`` is the 8x8 digits read row by row: a sequence of 8 steps, each the 8 pixels of one
row (top row first), and the digit's class asked for at the end. The arrays are digits' own, so
``X`` (n, 64) holds the same numbers in the same order (step t's features are pixels
``8t … 8t+7``) and a seed draws the same split as ``digits``; only the kind (``sequence``,
``input_shape`` (steps, features) = (8, 8)) and the feature names (``t<step>_x<col>``) differ.
"""

from __future__ import annotations

import numpy as np
import sklearn
from sklearn import datasets

from neurotwin.tasks.base import Task
from neurotwin.tasks.registry import register
from neurotwin.tasks.split import split_fields

#: (steps, features) of digits_rows: one step per image row.
DIGITS_ROWS_SHAPE = (8, 8)


def step_names(shape: tuple[int, int]) -> list[str]:
    """``t<step>_x<feature>`` for each feature of each step of a ``(steps, features)`` sequence,
    step-major (the order of the flattened ``X``)."""
    steps, features = shape
    return [f"t{t}_x{j}" for t in range(steps) for j in range(features)]


def load_digits_rows(seed: int = 0) -> Task:
    """The 8x8 digits read row by row (8 steps of 8 pixels), split by ``seed`` as ``digits``."""
    bunch = datasets.load_digits()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int64)
    return Task(
        **split_fields(
            "digits_rows",
            "sequence",
            X,
            y,
            seed=seed,
            feature_names=step_names(DIGITS_ROWS_SHAPE),
            class_names=[str(c) for c in bunch.target_names],
            input_shape=DIGITS_ROWS_SHAPE,
            source={
                "name": "digits_rows",
                "loader": "sklearn.datasets.load_digits",
                "options": {},
                "sequence": "each image's rows as steps, top row first",
                "sklearn_version": sklearn.__version__,
            },
        )
    )


register(
    "digits_rows",
    load_digits_rows,
    "digits read row by row: sequences of 8 steps × 8 pixels, 10 classes (for rnn, lstm, gru)",
)
