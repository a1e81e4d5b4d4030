"""Fixtures of the brain-health tests: digits and two quick learners, fitted once per module."""

import pytest

from neurotwin import tasks
from neurotwin.learners import get as get_learner


@pytest.fixture(scope="module")
def task():
    return tasks.load("digits", 0)


@pytest.fixture(scope="module")
def mlp(task):
    learner = get_learner("mlp")(quick=True)
    learner.fit(task, seed=0, epochs=3)
    return learner


@pytest.fixture(scope="module")
def hebbian(task):
    learner = get_learner("hebbian")(quick=True)
    learner.fit(task, seed=0, epochs=3)
    return learner
