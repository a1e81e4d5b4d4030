"""``linear``: softmax / linear regression on the engine, with no hidden layer."""

import time

import numpy as np
import pytest
import torch
from sklearn.metrics import r2_score

import neurotwin as nt
from neurotwin.learners.registry import get


@pytest.fixture(scope="module")
def iris():
    return nt.tasks.load("iris", seed=0)


def test_linear_is_one_layer_whose_scores_are_x_w_plus_b(iris):
    learner = get("linear")(quick=True)
    history = learner.fit(iris, seed=0)
    (synapses,) = learner.synapses()
    assert (synapses.pre, synapses.post) == (4, 3)
    assert history.series == {}  # no hidden layer, no alignment angle
    x = learner.model.encoder(torch.as_tensor(iris.X_test, dtype=torch.float32))
    expected = x @ synapses.weight.T + synapses.bias
    torch.testing.assert_close(learner.outputs(iris.X_test), expected)


def test_linear_regression_fits_a_noiseless_linear_target():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = X @ np.array([2.0, -1.0, 0.5]) + 3.0
    task = nt.tasks.Task.from_arrays(X[:300], y[:300], X[300:], y[300:], name="plane")
    learner = get("linear")()
    learner.fit(task, seed=0)
    assert np.abs(learner.predict(task.X_test) - task.y_test).max() < 0.1


def _scores(name_task: str, seeds) -> tuple[list[float], list[float]]:
    scores, seconds = [], []
    for seed in seeds:
        task = nt.tasks.load(name_task, seed=seed)
        learner = get("linear")()
        t0 = time.perf_counter()
        learner.fit(task, seed=seed)
        seconds.append(time.perf_counter() - t0)
        pred = learner.predict(task.X_test)
        if task.kind == "classification":
            scores.append(float(np.mean(pred == task.y_test)))
        else:
            scores.append(float(r2_score(task.y_test, pred)))
    print(
        f"\nlinear on {name_task}: {np.mean(scores):.4f} ± {np.std(scores):.4f} "
        f"{[round(s, 4) for s in scores]}, fit seconds {[round(s, 1) for s in seconds]}"
    )
    return scores, seconds


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "seeds", "target"),
    [
        ("digits", (0, 1, 2), 0.95),
        ("breast_cancer", (0, 1, 2, 3, 4), 0.95),
        ("diabetes", (0, 1, 2, 3, 4), 0.41),
    ],
)
def test_linear_accuracy_target(task, seeds, target):
    scores, _ = _scores(task, seeds)
    assert np.mean(scores) >= target
