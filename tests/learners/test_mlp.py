"""The mlp learner: backprop gradients, determinism, its training record and partial_fit."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neurotwin as nt
from neurotwin.artificial.mlp import MLPNet
from neurotwin.learners.registry import get


def _numpy_loss(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, act: str) -> float:
    """Mean cross-entropy of a one-hidden-layer net, written out in numpy (float64)."""
    h = x @ params["w1"].T + params["b1"]
    h = np.maximum(h, 0.0) if act == "relu" else np.tanh(h)
    z = h @ params["w2"].T + params["b2"]
    z = z - z.max(axis=1, keepdims=True)
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_softmax[np.arange(len(y)), y].mean())


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_backprop_gradient_of_a_hidden_weight_matches_central_difference(activation):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 5)), rng.integers(0, 3, size=16)
    net = MLPNet(5, (7,), 3, activation=activation, generator=torch.Generator().manual_seed(1))
    net = net.double()
    with torch.no_grad():
        net.layers[0].bias.copy_(torch.from_numpy(rng.normal(size=7)))
    loss = F.cross_entropy(net.core(torch.from_numpy(x)), torch.from_numpy(y))
    loss.backward()
    params = {
        "w1": net.layers[0].weight.detach().numpy().copy(),
        "b1": net.layers[0].bias.detach().numpy(),
        "w2": net.layers[1].weight.detach().numpy(),
        "b2": net.layers[1].bias.detach().numpy(),
    }
    assert _numpy_loss(params, x, y, activation) == pytest.approx(loss.item(), rel=1e-12)
    eps = 1e-6
    for i, j in [(0, 0), (3, 2), (6, 4)]:
        w = params["w1"][i, j]
        params["w1"][i, j] = w + eps
        up = _numpy_loss(params, x, y, activation)
        params["w1"][i, j] = w - eps
        down = _numpy_loss(params, x, y, activation)
        params["w1"][i, j] = w
        numeric = (up - down) / (2 * eps)
        assert net.layers[0].weight.grad[i, j].item() == pytest.approx(numeric, rel=1e-6, abs=1e-9)


@pytest.fixture(scope="module")
def iris():
    return nt.tasks.load("iris", seed=0)


def test_same_seed_gives_identical_predictions(iris):
    a, b = get("mlp")(quick=True), get("mlp")(quick=True)
    a.fit(iris, seed=3, epochs=3)
    b.fit(iris, seed=3, epochs=3)
    X = iris.X_test
    torch.testing.assert_close(a.outputs(X), b.outputs(X), rtol=0, atol=0)


def test_different_seed_gives_different_weights(iris):
    a, b = get("mlp")(quick=True), get("mlp")(quick=True)
    a.fit(iris, seed=3, epochs=3)
    b.fit(iris, seed=4, epochs=3)
    assert not torch.equal(a.synapses()[0].weight, b.synapses()[0].weight)


def test_history_has_one_entry_per_epoch_with_validation_accuracy(iris):
    history = get("mlp")(quick=True, patience=100).fit(iris, seed=0, epochs=6)
    assert history.epoch == [1, 2, 3, 4, 5, 6]
    assert len(history.train_loss) == len(history.val_metric) == 6
    assert all(0.0 <= v <= 1.0 for v in history.val_metric)
    assert set(history.to_dict()) == {"stage", "epoch", "train_loss", "val_accuracy"}
    assert history.stage == "train"


def test_early_stopping_ends_patience_epochs_after_the_best_validation_epoch(iris):
    # lr 0: the validation loss never improves on epoch 1, so training stops after 1 + patience
    history = get("mlp")(quick=True, lr=0.0, patience=3).fit(iris, seed=0, epochs=50)
    assert history.epoch == [1, 2, 3, 4]
    assert len(set(history.val_metric)) == 1


def test_regression_history_reports_validation_r2():
    task = nt.tasks.load("diabetes", seed=0)
    history = get("mlp")(quick=True).fit(task, seed=0, epochs=3)
    assert set(history.to_dict()) == {"stage", "epoch", "train_loss", "val_r2"}
    assert len(history.val_metric) == 3


def _blobs(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two well separated Gaussian blobs in 2-D, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, 2)) * 0.5 + np.where(y[:, None] == 1, 2.0, -2.0)
    return X, y


@pytest.mark.parametrize("classes", [[0, 1], 2])
def test_partial_fit_on_unfitted_mlp_makes_a_classifier_that_keeps_improving(classes):
    X, y = _blobs()
    learner = get("mlp")(dropout=0.0, lr=1e-2)
    losses = [learner.partial_fit(X, y, classes=classes).train_loss[0] for _ in range(4)]
    assert learner.task_kind == "classification" and learner.n_outputs == 2
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    assert np.mean(learner.predict(X) == y) > 0.95


def test_partial_fit_without_classes_makes_a_regressor():
    X, y = _blobs()
    learner = get("mlp")(dropout=0.0, lr=1e-2)
    target = X @ np.array([1.5, -0.5]) + 3.0
    first = learner.partial_fit(X, target)
    later = [learner.partial_fit(X, target) for _ in range(5)][-1]
    assert learner.task_kind == "regression"
    assert later.train_loss[0] < first.train_loss[0]
    assert learner.predict(X).shape == (len(X),)
