"""Shared fixtures of the probe tests: learners fitted once per session, and tiny hand-built ones."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import neurotwin as nt
from neurotwin.core.synapses import Synapses
from neurotwin.learners.registry import get


@pytest.fixture(scope="session")
def wine():
    # wine's test classes have unequal sizes (15, 18, 12), so a constant prediction's accuracy
    # tells which class it predicts
    return nt.tasks.load("wine", seed=0)


@pytest.fixture(scope="session")
def fitted_mlp(wine):
    learner = get("mlp")(quick=True)
    learner.fit(wine, seed=0)
    return learner


@pytest.fixture(scope="session", params=["mlp", "hebbian"])
def fitted(request, wine):
    """Each learner fitted on wine (quick preset, seed 0); probes must leave it unchanged."""
    if request.param == "mlp":
        return request.getfixturevalue("fitted_mlp")
    learner = get(request.param)(quick=True)
    learner.fit(wine, seed=0)
    return learner


class Linear:
    """A deterministic regression learner: one float64 Synapses(3, 1), y = x · w + b.

    It follows the Learner contract as far as probes need it.
    """

    W = (2.0, -1.0, 0.5)
    B = 0.25
    stochastic = False

    def __init__(self):
        self.layer = Synapses(3, 1).double()
        with torch.no_grad():
            self.layer.weight.copy_(torch.tensor([self.W], dtype=torch.float64))
            self.layer.bias.fill_(self.B)

    def synapses(self):
        return [self.layer]

    def predict(self, X, *, generator=None):
        with torch.no_grad():
            return self.layer(torch.as_tensor(np.asarray(X), dtype=torch.float64))[:, 0].numpy()

    def n_params(self):
        return 4

    def parameter_counts(self):
        return {"learned": 3, "fixed": 1}

    def extra_metrics(self):
        return {}


@pytest.fixture
def linear():
    """The :class:`Linear` learner and a regression task for it with hand-countable inputs."""
    task = SimpleNamespace(
        kind="regression",
        # per-feature training means m = (2, 1, 1)
        X_train=np.array([[1.0, 2.0, 3.0], [3.0, 0.0, -1.0]]),
        X_test=np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 4.0], [-1.0, 0.0, 2.0], [2.0, -3.0, 0.0]]),
        y_test=np.array([1.0, 0.5, -1.0, 6.0]),
    )
    return Linear(), task


class Noisy:
    """A stochastic learner whose k-th prediction on a task has accuracy ACCURACIES[k]; it records
    the seed of every evaluation generator it, or a copy of it, is given in ``Noisy.seeds``."""

    ACCURACIES = (1.0, 0.5, 0.0)
    stochastic = True
    seeds: list[int] = []  # shared by the copies a lesion makes

    def __init__(self, y_test):
        self.y_test = y_test
        self.calls = 0
        self.layers = [Synapses(4, 3)]

    def synapses(self):
        return self.layers

    def predict(self, X, *, generator=None):
        Noisy.seeds.append(generator.initial_seed())
        self.layers[0](torch.as_tensor(np.asarray(X), dtype=torch.float32))
        n_right = int(round(self.ACCURACIES[self.calls % 3] * len(self.y_test)))
        self.calls += 1
        pred = (self.y_test + 1) % 3
        pred[:n_right] = self.y_test[:n_right]
        return pred


@pytest.fixture
def noisy():
    """The :class:`Noisy` learner class and a 10-sample iris task."""
    task = nt.tasks.load("iris", seed=0)
    task.X_test, task.y_test = task.X_test[:10], task.y_test[:10]
    Noisy.seeds = []
    return Noisy, task
