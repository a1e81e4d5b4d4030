"""Ageing (gradual loss with and without plasticity) and recovery (retraining after a lesion)."""

from __future__ import annotations

import pytest
import torch

from neurotwin import tasks
from neurotwin.errors import ConfigError
from neurotwin.health import ageing_curve, damage_curve, damaged_copy, recovery
from neurotwin.health.ageing import learn, training_batch
from neurotwin.learners import get as get_learner

pytestmark = pytest.mark.usefixtures("one_thread_module")


def _state(learner):
    return {k: v.clone() for k, v in learner.model.state_dict().items()}


@pytest.mark.parametrize("name", ["mlp", "hebbian"])
def test_masks_stay_in_force_through_partial_fit(name, task, request):
    learner = request.getfixturevalue(name)
    damaged = damaged_copy(learner, "random", 0.5, seed=0)
    masks = [s.mask.clone() for s in damaged.synapses()]
    before = [s.weight.detach().clone() for s in damaged.synapses()]
    X, y = training_batch(task, 200, seed=0, purpose="test")
    for _ in range(2):
        learn(damaged, task, X, y)
    changed = False
    for layer, mask, w0 in zip(damaged.synapses(), masks, before, strict=True):
        assert torch.equal(layer.mask, mask)  # partial_fit never regrows a synapse
        assert not layer.effective_weight()[~mask].any()  # removed synapses stay at 0
        changed |= not torch.equal(layer.weight.detach()[mask], w0[mask])
    assert changed  # the surviving synapses did learn
    # the output does not depend on a removed synapse's stored weight
    out = damaged.outputs(task.X_test)
    with torch.no_grad():
        for layer in damaged.synapses():
            layer.weight[~layer.mask] += 7.0
    assert torch.equal(out, damaged.outputs(task.X_test))


@pytest.mark.parametrize("name", ["mlp", "hebbian"])
def test_ageing_curve(name, task, request):
    learner = request.getfixturevalue(name)
    state = _state(learner)
    curve = ageing_curve(
        learner,
        task,
        seed=0,
        steps=4,
        final_fraction=0.4,
        samples_per_step=128,
        plasticity_control=True,
    )
    assert all(torch.equal(v, state[k]) for k, v in _state(learner).items())  # unchanged
    assert curve["fraction"] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    for key in ("test_accuracy", "test_accuracy_no_plasticity", "test_accuracy_plasticity_no_loss"):
        assert len(curve[key]) == 5
    assert curve["test_accuracy"][0] == curve["test_accuracy_no_plasticity"][0]
    assert curve["budget"] == {"samples_per_step": 128, "steps": 4, "partial_fit_calls": 4}
    assert curve["auc"] is not None and curve["auc_no_plasticity"] is not None
    # without plasticity it is the random damage curve at the same fractions (the same masks)
    random = damage_curve(learner, task, kind="random", seed=0, levels=curve["fraction"])
    assert curve["test_accuracy_no_plasticity"] == pytest.approx(random["test_accuracy"])


def test_ageing_without_plasticity_and_bad_settings(mlp, task):
    curve = ageing_curve(mlp, task, seed=0, steps=2, plasticity=False)
    assert curve["test_accuracy"] is None and curve["auc"] is None
    assert curve["budget"]["partial_fit_calls"] == 0
    with pytest.raises(ConfigError, match="steps >= 1"):
        ageing_curve(mlp, task, seed=0, steps=0)
    with pytest.raises(ConfigError, match="final_fraction"):
        ageing_curve(mlp, task, seed=0, final_fraction=1.5)


def test_ageing_regression_partial_fit_without_classes():
    diabetes = tasks.load("diabetes", 0)
    learner = get_learner("mlp")(quick=True)
    learner.fit(diabetes, seed=0, epochs=2)
    curve = ageing_curve(learner, diabetes, seed=0, steps=2, samples_per_step=64)
    assert len(curve["test_r2"]) == 3 and len(curve["test_r2_no_plasticity"]) == 3
    rec = recovery(learner, diabetes, seed=0, budget_samples=64, budget_epochs=1)
    assert rec["metric"] == "test_r2"


@pytest.mark.parametrize("name", ["mlp", "hebbian"])
def test_recovery(name, task, request):
    learner = request.getfixturevalue(name)
    state = _state(learner)
    rec = recovery(learner, task, seed=0, budget_samples=256, budget_epochs=2)
    assert all(torch.equal(v, state[k]) for k, v in _state(learner).items())
    curve = damage_curve(learner, task, kind="random", seed=0, levels=(0.0, 0.5))
    assert rec["intact"] == pytest.approx(curve["test_accuracy"][0])
    assert rec["lesioned"] == pytest.approx(curve["test_accuracy"][1])  # the same masks
    assert rec["budget"] == {"samples": 256, "epochs": 2, "partial_fit_calls": 2}
    lost = rec["intact"] - rec["lesioned"]
    assert lost > 0.005
    assert rec["regained"] == pytest.approx((rec["recovered"] - rec["lesioned"]) / lost)
    assert rec["regained_note"] is None


def test_recovery_nothing_lost(mlp, task):
    rec = recovery(mlp, task, seed=0, level=0.0, budget_samples=32, budget_epochs=1)
    assert rec["lesioned"] == rec["intact"]
    assert rec["regained"] is None and "nothing meaningful" in rec["regained_note"]


def test_same_budget_samples_for_every_learner(task):
    a = training_batch(task, 100, seed=4, purpose="recovery/random")
    b = training_batch(task, 100, seed=4, purpose="recovery/random")
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()
    assert len(training_batch(task, 5000, seed=0, purpose="x")[0]) == 5000  # with replacement
