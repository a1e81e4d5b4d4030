"""Probes on fitted learners: evaluation, lesions and op counts, each against an independent fact."""

import copy

import numpy as np
import pytest
import torch
from sklearn.metrics import mean_squared_error, r2_score

import neurotwin as nt
from neurotwin import probes
from neurotwin.core.seeding import torch_generator
from neurotwin.core.synapses import Synapses
from neurotwin.learners.registry import get

MAC_PJ = 4.6  # Horowitz, ISSCC 2014, 45 nm, fp32 multiply-accumulate


@pytest.fixture(scope="module")
def wine():
    # wine's test classes have unequal sizes (15, 18, 12), so a constant prediction's accuracy
    # tells which class it predicts
    return nt.tasks.load("wine", seed=0)


@pytest.fixture(scope="module", params=["mlp", "hebbian"])
def fitted(request, wine):
    learner = get(request.param)(quick=True)
    learner.fit(wine, seed=0)
    return learner


def test_lesion_fraction_zero_reproduces_evaluate_exactly(fitted, wine):
    metrics, _ = probes.evaluate(fitted, wine, seed=0)
    curve = probes.lesion_curve(fitted, wine, seed=0, fractions=(0.0,))
    assert curve["test_accuracy"] == [metrics["test_accuracy"]]
    assert curve["test_accuracy_std"] == [0.0]


def test_evaluate_accuracy_is_the_fraction_of_correct_predictions(fitted, wine):
    metrics, pred = probes.evaluate(fitted, wine, seed=0)
    assert metrics["test_accuracy"] == np.mean(pred == wine.y_test)
    np.testing.assert_array_equal(pred, fitted.predict(wine.X_test))


def test_full_lesion_predicts_the_argmax_of_the_output_bias(fitted, wine):
    # with every synapse removed the output is the output layer's bias, whatever the input
    constant = int(torch.argmax(fitted.synapses()[-1].bias.detach()))
    expected = float(np.mean(wine.y_test == constant))
    curve = probes.lesion_curve(fitted, wine, seed=0, fractions=(1.0,))
    assert curve["test_accuracy"] == [expected]
    lesioned = copy.deepcopy(fitted)
    for layer in lesioned.synapses():
        layer.mask.zero_()
    assert set(lesioned.predict(wine.X_test).tolist()) == {constant}


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


def test_lesion_curve_leaves_the_learner_unchanged(fitted, wine):
    before = fitted.predict(wine.X_test)
    weights = [s.weight.detach().clone() for s in fitted.synapses()]
    probes.lesion_curve(fitted, wine, seed=0)
    np.testing.assert_array_equal(fitted.predict(wine.X_test), before)
    assert all(bool(s.mask.all()) for s in fitted.synapses())
    assert all(torch.equal(s.weight, w) for s, w in zip(fitted.synapses(), weights, strict=True))


def test_lesion_curve_reports_every_fraction(fitted, wine):
    curve = probes.lesion_curve(fitted, wine, seed=0)
    assert curve["fraction"] == list(probes.LESION_FRACTIONS)
    assert len(curve["test_accuracy"]) == len(probes.LESION_FRACTIONS)
    assert all(0.0 <= a <= 1.0 for a in curve["test_accuracy"])


def _count_by_hand(learner, X) -> dict[str, float]:
    """Per-sample op counts of an mlp or hebbian learner from its activations, layer by layer."""
    model = learner.model
    with torch.no_grad():
        a = model.encoder(torch.as_tensor(X, dtype=torch.float32))
        first, last = learner.synapses()
        hidden = a @ first.weight.T + (first.bias if first.bias is not None else 0)
        hidden = torch.relu(hidden)
    n_hidden, n_out = first.post, last.post
    dense = first.pre * n_hidden + n_hidden * n_out
    effective = (a != 0).sum().item() * n_hidden + (hidden != 0).sum().item() * n_out
    return {
        "dense_mac": dense,
        "effective_mac": effective / len(X),
        "neuron_updates": n_hidden + n_out,
    }


def test_ops_per_inference_averages_over_the_inputs(fitted, wine):
    X = wine.X_test[:2]
    per, energy = probes.ops_per_inference(fitted, X)
    expected = _count_by_hand(fitted, X)
    assert per["dense_mac"] == expected["dense_mac"]
    assert per["effective_mac"] == pytest.approx(expected["effective_mac"])
    assert per["neuron_updates"] == expected["neuron_updates"]
    assert per["dense_ac"] == per["ac"] == 0
    assert energy == pytest.approx(expected["effective_mac"] * MAC_PJ / 1000)


def test_n_params_counts_weights_and_biases(fitted):
    first, last = fitted.synapses()
    expected = first.weight.numel() + last.weight.numel() + last.bias.numel()
    expected += 0 if first.bias is None else first.bias.numel()
    assert probes.n_params(fitted) == expected


def test_regression_metrics_match_scikit_learn():
    task = nt.tasks.load("diabetes", seed=0)
    learner = get("mlp")(quick=True)
    learner.fit(task, seed=0, epochs=3)
    metrics, pred = probes.evaluate(learner, task, seed=0)
    assert metrics["test_r2"] == pytest.approx(r2_score(task.y_test, pred), rel=1e-12)
    assert metrics["test_mse"] == pytest.approx(mean_squared_error(task.y_test, pred), rel=1e-12)
    assert metrics["test_r2_std"] == 0.0
    assert "test_mse_std" not in metrics
    curve = probes.lesion_curve(learner, task, seed=0, fractions=(0.0,))
    assert curve["test_r2"] == [metrics["test_r2"]]


class _Noisy:
    """A stochastic learner whose k-th prediction on a task has accuracy ACCURACIES[k]; it records
    the seed of every evaluation generator it is given."""

    ACCURACIES = (1.0, 0.5, 0.0)
    stochastic = True
    seeds: list[int] = []

    def __init__(self, y_test):
        self.y_test = y_test
        self.calls = 0
        self.layers = [Synapses(4, 3)]

    def synapses(self):
        return self.layers

    def predict(self, X, *, generator=None):
        _Noisy.seeds.append(generator.initial_seed())
        n_right = int(round(self.ACCURACIES[self.calls % 3] * len(self.y_test)))
        self.calls += 1
        pred = (self.y_test + 1) % 3
        pred[:n_right] = self.y_test[:n_right]
        return pred


def test_stochastic_learner_reports_mean_and_std_over_three_draws():
    task = nt.tasks.load("iris", seed=0)
    task.y_test = task.y_test[:10]
    learner = _Noisy(task.y_test)
    metrics, pred = probes.evaluate(learner, task, seed=0)
    assert learner.calls == 3
    assert metrics["test_accuracy"] == pytest.approx(0.5)
    assert metrics["test_accuracy_std"] == pytest.approx(np.sqrt(((0.5**2) * 2) / 3))
    np.testing.assert_array_equal(pred, task.y_test)  # draw 0's predictions
    assert probes.evaluate(_Noisy(task.y_test), task, seed=0, draws=1)[0]["test_accuracy"] == 1.0


def test_every_lesion_level_uses_the_same_evaluation_noise():
    task = nt.tasks.load("iris", seed=0)
    _Noisy.seeds = []
    probes.lesion_curve(_Noisy(task.y_test), task, seed=5, fractions=(0.0, 0.5, 1.0))
    per_level = [_Noisy.seeds[i : i + 3] for i in range(0, 9, 3)]
    assert len(set(per_level[0])) == 3  # three different draws …
    assert per_level[0] == per_level[1] == per_level[2]  # … repeated at every level
    _Noisy.seeds = []
    probes.evaluate(_Noisy(task.y_test), task, seed=6)
    assert not set(_Noisy.seeds) & set(per_level[0])  # another run seed, other noise
