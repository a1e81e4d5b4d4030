"""The lesion probe: nested random masks, zero- and mean-ablation, the same noise at every level."""

import copy

import numpy as np
import pytest
import torch
from sklearn.metrics import r2_score

from neurotwin import probes
from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError
from neurotwin.probes.lesion import lesioned_copy, presynaptic_means

W = np.array([2.0, -1.0, 0.5])  # conftest.Linear: y = x · W + 0.25
M = np.array([2.0, 1.0, 1.0])  # the mean of the linear task's two training inputs


def _without(j: int) -> list[torch.Tensor]:
    mask = torch.ones(1, 3, dtype=torch.bool)
    mask[0, j] = False
    return [mask]


@pytest.mark.parametrize("j", [0, 1, 2])
def test_zero_ablation_removes_the_synapse_input_times_weight(linear, j):
    learner, task = linear
    intact = learner.predict(task.X_test)
    out = lesioned_copy(learner, _without(j)).predict(task.X_test)
    np.testing.assert_allclose(out, intact - W[j] * task.X_test[:, j], rtol=0, atol=1e-12)


@pytest.mark.parametrize("j", [0, 1, 2])
def test_mean_ablation_replaces_the_input_by_its_training_mean(linear, j):
    learner, task = linear
    intact = learner.predict(task.X_test)
    means = presynaptic_means(learner, task.X_train, seed=0)
    np.testing.assert_array_equal(means[0].numpy(), M)
    out = lesioned_copy(learner, _without(j), means).predict(task.X_test)
    expected = intact - W[j] * task.X_test[:, j] + W[j] * M[j]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


def test_mean_ablation_of_every_synapse_predicts_the_output_at_the_mean_input(linear):
    learner, task = linear
    curve = probes.lesion_curve(learner, task, seed=0, fractions=(1.0,), mode="mean")
    constant = float(M @ W + 0.25)
    assert curve["test_r2"] == [pytest.approx(r2_score(task.y_test, np.full(4, constant)))]


@pytest.mark.parametrize("mode", ["zero", "mean"])
def test_lesion_curve_scores_the_hand_computed_predictions(linear, mode):
    learner, task = linear
    fractions = (0.0, 1 / 3, 2 / 3)  # 0, 1 and 2 of the 3 synapses
    curve = probes.lesion_curve(learner, task, seed=3, fractions=fractions, mode=mode)
    assert curve["mode"] == mode and curve["fraction"] == list(fractions)
    for fraction, r2 in zip(fractions, curve["test_r2"], strict=True):
        (mask,) = probes.lesion_masks(learner, fraction, torch_generator(3, "lesion"))
        removed = ~mask[0].numpy()
        pred = task.X_test @ (W * ~removed) + 0.25
        if mode == "mean":
            pred = pred + (W * removed) @ M
        assert r2 == pytest.approx(r2_score(task.y_test, pred), rel=1e-12)


def test_presynaptic_means_of_the_readout_are_the_mean_hidden_activity(fitted_mlp, wine):
    learner = fitted_mlp
    first, readout = learner.synapses()
    with torch.no_grad():
        a = learner.model.encoder(torch.as_tensor(wine.X_train, dtype=torch.float32))
        hidden = torch.relu(a @ first.weight.T + first.bias)
    means = presynaptic_means(learner, wine.X_train, seed=0)
    torch.testing.assert_close(means[0], a.double().mean(0))
    torch.testing.assert_close(means[1], hidden.double().mean(0))


@pytest.mark.parametrize("mode", ["zero", "mean"])
def test_lesion_fraction_zero_reproduces_evaluate_exactly(fitted, wine, mode):
    metrics, _ = probes.evaluate(fitted, wine, seed=0)
    curve = probes.lesion_curve(fitted, wine, seed=0, fractions=(0.0,), mode=mode)
    assert curve["test_accuracy"] == [metrics["test_accuracy"]]
    assert curve["test_accuracy_std"] == [0.0]


def test_full_zero_lesion_predicts_the_argmax_of_the_output_bias(fitted, wine):
    # with every synapse removed the output is the output layer's bias, whatever the input
    constant = int(torch.argmax(fitted.synapses()[-1].bias.detach()))
    expected = float(np.mean(wine.y_test == constant))
    curve = probes.lesion_curve(fitted, wine, seed=0, fractions=(1.0,))
    assert curve["test_accuracy"] == [expected]
    lesioned = copy.deepcopy(fitted)
    for layer in lesioned.synapses():
        layer.mask.zero_()
    assert set(lesioned.predict(wine.X_test).tolist()) == {constant}


def test_full_mean_lesion_predicts_one_class_whatever_the_input(fitted, wine):
    masks = [torch.zeros_like(s.mask) for s in fitted.synapses()]
    means = presynaptic_means(fitted, wine.X_train, seed=0)
    assert len(set(lesioned_copy(fitted, masks, means).predict(wine.X_test).tolist())) == 1


def test_lesion_masks_are_nested_and_remove_the_rounded_fraction(fitted):
    n = sum(s.mask.numel() for s in fitted.synapses())
    previous = None
    for fraction in (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0):
        masks = probes.lesion_masks(fitted, fraction, torch_generator(0, "lesion"))
        kept = torch.cat([m.flatten() for m in masks])
        assert n - int(kept.sum()) == round(fraction * n)
        if previous is not None:
            assert not bool((kept & ~previous).any()), "a removed synapse came back"
        previous = kept


def test_lesion_masks_only_remove_from_unmasked_synapses(fitted):
    pruned = copy.deepcopy(fitted)
    first = pruned.synapses()[0]
    first.mask[:, ::2] = False  # already pruned: half the first layer's columns
    before = int(sum(s.mask.sum() for s in pruned.synapses()))
    masks = probes.lesion_masks(pruned, 0.5, torch_generator(0, "lesion"))
    assert not bool(masks[0][:, ::2].any())
    assert before - int(sum(m.sum() for m in masks)) == round(0.5 * before)


def test_mean_ablation_of_an_already_pruned_synapse_adds_nothing(linear):
    learner, task = linear
    learner.layer.mask[0, 0] = False  # pruned before the lesion: its input was already gone
    means = presynaptic_means(learner, task.X_train, seed=0)
    out = lesioned_copy(learner, _without(0), means)
    assert float(out.layer.ablation_drive.abs().sum()) == 0.0


def test_lesion_probe_leaves_the_learner_unchanged(fitted, wine):
    before = fitted.predict(wine.X_test)
    weights = [s.weight.detach().clone() for s in fitted.synapses()]
    out = probes.get("lesion")(probes.ProbeContext(fitted, wine, seed=0))
    np.testing.assert_array_equal(fitted.predict(wine.X_test), before)
    assert all(bool(s.mask.all()) for s in fitted.synapses())
    assert all(not s.ablation_drive.any() for s in fitted.synapses())
    assert all(torch.equal(s.weight, w) for s, w in zip(fitted.synapses(), weights, strict=True))
    assert set(out) == {"lesion", "lesion_mean"}
    for key, mode in (("lesion", "zero"), ("lesion_mean", "mean")):
        curve = out[key]
        assert set(curve) == {"mode", "fraction", "test_accuracy", "test_accuracy_std"}
        assert curve["mode"] == mode
        assert curve["fraction"] == list(probes.LESION_FRACTIONS)
        assert len(curve["test_accuracy"]) == len(probes.LESION_FRACTIONS)
        assert all(0.0 <= a <= 1.0 for a in curve["test_accuracy"])


def test_unknown_lesion_mode_names_the_choices(linear):
    learner, task = linear
    with pytest.raises(ConfigError, match="zero, mean"):
        probes.lesion_curve(learner, task, seed=0, mode="shuffle")


@pytest.mark.parametrize("mode", ["zero", "mean"])
def test_every_lesion_level_uses_the_same_evaluation_noise(noisy, mode):
    Noisy, task = noisy
    probes.lesion_curve(Noisy(task.y_test), task, seed=5, fractions=(0.0, 0.5, 1.0), mode=mode)
    # mean mode first runs the training inputs once, with a generator of its own
    seeds = Noisy.seeds[1:] if mode == "mean" else Noisy.seeds
    per_level = [seeds[i : i + 3] for i in range(0, 9, 3)]
    assert len(seeds) == 9
    assert len(set(per_level[0])) == 3  # three different draws …
    assert per_level[0] == per_level[1] == per_level[2]  # … repeated at every level
    if mode == "mean":
        assert Noisy.seeds[0] not in per_level[0]
    Noisy.seeds = []
    probes.evaluate(Noisy(task.y_test), task, seed=6)
    assert not set(Noisy.seeds) & set(per_level[0])  # another run seed, other noise
