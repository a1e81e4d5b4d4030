"""Damage curves: random and targeted synapse loss, neuron death and synaptic noise, on copies."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError
from neurotwin.health import damage
from neurotwin.health.damage import (
    area_under,
    damage_curve,
    damage_masks,
    damaged_copy,
    dead_units,
    hidden_populations,
)
from neurotwin.learners import get as get_learner

FRACTIONS = (0.0, 0.1, 0.3, 0.5, 0.8, 1.0)


pytestmark = pytest.mark.usefixtures("one_thread_module")


@pytest.fixture(scope="module")
def linear(task):
    learner = get_learner("linear")(quick=True)
    learner.fit(task, seed=0, epochs=2)
    return learner


def _state(learner):
    return {k: v.clone() for k, v in learner.model.state_dict().items()}


def _same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("name", ["mlp", "hebbian"])
def test_random_removes_exact_fraction_nested(name, request):
    learner = request.getfixturevalue(name)
    n = sum(s.n_synapses for s in learner.synapses())
    previous = None
    for f in FRACTIONS:
        masks = damage_masks(learner, "random", f, seed=3)
        kept = torch.stack([m.sum() for m in masks]).sum().item()
        assert n - kept == round(f * n)
        if previous is not None:  # nested: nothing removed before comes back
            assert all(bool((m & ~p).sum() == 0) for m, p in zip(masks, previous, strict=True))
        previous = masks


def test_targeted_removes_largest_weights_per_layer_nested(mlp):
    previous = None
    for f in FRACTIONS:
        masks = damage_masks(mlp, "targeted", f, seed=0)
        for layer, mask in zip(mlp.synapses(), masks, strict=True):
            removed = ~mask
            assert int(removed.sum()) == round(f * layer.mask.numel())
            w = layer.weight.detach().abs()
            if 0 < int(removed.sum()) < mask.numel():
                assert w[removed].min() >= w[mask].max()
        if previous is not None:
            assert all(bool((m & ~p).sum() == 0) for m, p in zip(masks, previous, strict=True))
        previous = masks


def test_neurons_kill_whole_units(mlp, task):
    ((i, j),) = hidden_populations(mlp)
    layers = mlp.synapses()
    assert layers[i].post == layers[j].pre
    dead = dead_units(mlp, 0.5, torch_generator(0, "health", "neurons"))[0]
    assert len(dead) == round(0.5 * layers[i].post)
    damaged = damaged_copy(mlp, "neurons", 0.5, seed=0)
    dl = damaged.synapses()
    assert not dl[i].mask[dead].any()  # every incoming synapse of a dead unit
    assert not dl[j].mask[:, dead].any()  # every outgoing one
    alive = torch.ones(layers[i].post, dtype=torch.bool)
    alive[dead] = False
    assert dl[i].mask[alive].all() and dl[j].mask[:, alive].all()
    # the output does not depend on a dead unit: perturb its incoming weights and its bias
    before = damaged.outputs(task.X_test)
    with torch.no_grad():
        dl[i].weight[dead] += 5.0 * torch.randn_like(dl[i].weight[dead])
        dl[i].bias[dead] += 3.0
    assert torch.equal(before, damaged.outputs(task.X_test))


def test_neurons_nested(hebbian):
    previous = None
    for f in FRACTIONS:
        masks = damage_masks(hebbian, "neurons", f, seed=1)
        if previous is not None:
            assert all(bool((m & ~p).sum() == 0) for m, p in zip(masks, previous, strict=True))
        previous = masks


def test_single_layer_has_no_hidden_units(linear, task):
    assert hidden_populations(linear) == []
    with pytest.raises(ConfigError, match="has no hidden units to kill; choose --kind") as exc:
        damage_curve(linear, task, kind="neurons", seed=0)
    assert "\n" not in str(exc.value)
    curve = damage_curve(linear, task, kind="random", seed=0, levels=(0.0, 0.5))
    assert len(curve["test_accuracy"]) == 2


def test_unknown_kind(mlp, task):
    with pytest.raises(ConfigError, match="unknown lesion kind"):
        damage_curve(mlp, task, kind="fire", seed=0)


def test_noise_zero_is_intact_and_scaled(mlp, task):
    assert torch.equal(
        damaged_copy(mlp, "noise", 0.0, seed=0).outputs(task.X_test), mlp.outputs(task.X_test)
    )
    noisy = damaged_copy(mlp, "noise", 0.5, seed=0)
    for a, b in zip(mlp.synapses(), noisy.synapses(), strict=True):
        delta = (b.weight - a.weight).detach()
        ratio = float(delta.std() / (0.5 * a.weight.detach().std(unbiased=False)))
        assert 0.8 < ratio < 1.2
        assert torch.equal(a.mask, b.mask)
    # the same ε at every σ: σ = 1 is twice σ = 0.5
    twice = damaged_copy(mlp, "noise", 1.0, seed=0)
    for a, b, c in zip(mlp.synapses(), noisy.synapses(), twice.synapses(), strict=True):
        assert torch.allclose(c.weight - a.weight, 2 * (b.weight - a.weight), atol=1e-5)


@pytest.mark.parametrize("kind", damage.DAMAGE_KINDS)
def test_curve_keys_and_learner_unchanged(kind, hebbian, task):
    before = _state(hebbian)
    curve = damage_curve(hebbian, task, kind=kind, seed=0)
    assert _same_state(before, _state(hebbian))
    levels = damage.default_levels(kind)
    assert curve["kind"] == kind and curve["levels"] == list(levels)
    assert curve["level_name"] == ("sigma" if kind == "noise" else "fraction")
    assert len(curve["test_accuracy"]) == len(curve["test_accuracy_std"]) == len(levels)
    assert curve["auc"] == pytest.approx(area_under(levels, curve["test_accuracy"]))
    intact = float(np.mean(hebbian.predict(task.X_test) == task.y_test))
    assert curve["test_accuracy"][0] == pytest.approx(intact)
    if kind != "noise":
        assert curve["test_accuracy"][-1] < intact  # everything removed


def test_area_under_normalised():
    assert area_under([0, 0.5, 1], [0.9, 0.9, 0.9]) == pytest.approx(0.9)
    assert area_under([0, 2], [1.0, 0.0]) == pytest.approx(0.5)
    assert area_under([0, 1, 2], [1.0, 1.0, 0.0]) == pytest.approx(0.75)
    assert area_under([0.5], [0.7]) == pytest.approx(0.7)


def test_mean_ablation_only_for_synapse_loss(mlp, task):
    curve = damage_curve(mlp, task, kind="random", seed=0, levels=(0.0, 0.5), mode="mean")
    assert curve["mode"] == "mean"
    with pytest.raises(ConfigError, match="mean-ablation"):
        damage_curve(mlp, task, kind="neurons", seed=0, mode="mean")


def test_bad_levels(mlp, task):
    with pytest.raises(ConfigError, match="fractions must be in"):
        damage_curve(mlp, task, kind="random", seed=0, levels=(0.0, 1.5))
    with pytest.raises(ConfigError, match="σ must be"):
        damage_curve(mlp, task, kind="noise", seed=0, levels=(-1.0,))


def test_copy_is_independent(mlp):
    twin = copy.deepcopy(mlp)
    damaged_copy(twin, "targeted", 0.5, seed=0)
    assert _same_state(_state(mlp), _state(twin))
