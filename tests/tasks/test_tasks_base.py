"""The Task record: its kind comes from the kinds table, which fixes the metric and the split."""

import numpy as np
import pytest

from neurotwin.errors import ConfigError
from neurotwin.tasks import Task


def make(kind="classification", n=40, **extra):
    y = np.arange(n) % 2
    return Task(
        name="t",
        kind=kind,
        X_train=np.zeros((n, 2)) + y[:, None],
        y_train=y if kind != "regression" else y.astype(float),
        X_test=np.zeros((4, 2)),
        y_test=np.zeros(4, dtype=np.int64),
        feature_names=["a", "b"],
        class_names=["0", "1"] if kind != "regression" else None,
        input_shape=(2,),
        seed=0,
        **extra,
    )


def test_unknown_kind_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="unknown task kind 'clasification'.*regression"):
        make("clasification")


@pytest.mark.parametrize(
    "kind,metric", [("classification", "accuracy"), ("regression", "r2"), ("memory", "accuracy")]
)
def test_metric_comes_from_the_kind(kind, metric):
    assert make(kind).metric == metric


def test_validation_split_stratifies_class_kinds_only():
    for kind in ("classification", "sequence"):
        _, _, _, y_val = make(kind).validation_split(0)
        assert len(y_val) == 4 and np.bincount(y_val).tolist() == [2, 2]


def test_subtasks_are_ordered_tasks():
    first, second = make(), make()
    task = make("continual", subtasks=(first, second))
    assert task.subtasks == [first, second]
    assert make().subtasks is None
    with pytest.raises(ConfigError, match="subtask 1 is a str, not a Task"):
        make("continual", subtasks=[first, "second"])
