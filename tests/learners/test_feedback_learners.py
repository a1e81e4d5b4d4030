"""The engine learners fa, dfa, sign (and linear, end to end): pathways, training, the command line.

The contract itself (fit, predict, save/load, errors) is checked on every registered learner by
``test_learner_contract.py``; here, what is particular to learners on the explicit engine."""

import json
import time

import numpy as np
import pytest
import torch

import neurotwin as nt
from neurotwin.artificial.engine import (
    DirectFeedbackAlignment,
    FeedbackAlignment,
    Network,
    SignSymmetry,
)
from neurotwin.cli import main
from neurotwin.learners.base import Learner
from neurotwin.learners.registry import available, get
from neurotwin.probes import probes_for

FEEDBACK = {
    "fa": FeedbackAlignment,
    "dfa": DirectFeedbackAlignment,
    "sign": SignSymmetry,
}


@pytest.fixture(scope="module")
def iris():
    return nt.tasks.load("iris", seed=0)


def test_engine_learners_are_registered_as_artificial_with_their_pathway_as_rule():
    assert {"fa", "dfa", "sign", "linear"} <= set(available())
    for name, pathway in FEEDBACK.items():
        klass = get(name)
        assert klass.paradigm == "artificial" and klass.encoding == "standard"
        assert klass.rule == pathway.name
        assert len(klass.defaults["hidden"]) == 2  # with one hidden layer FA and DFA coincide


def test_neurotwin_list_shows_the_engine_learners(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("fa", "dfa", "sign", "linear"):
        assert name in out


@pytest.mark.parametrize("name", sorted(FEEDBACK))
def test_fit_trains_an_engine_network_through_the_named_pathway(name, iris):
    learner = get(name)(quick=True)
    history = learner.fit(iris, seed=0, epochs=3)
    network = learner.model.network
    assert isinstance(network, Network) and isinstance(network.pathway, FEEDBACK[name])
    assert network.sizes == (4, 64, 64, 3)
    # synapses() are the engine layers' own Synapses, so lesions and op counts act on the network
    assert learner.synapses() == [layer.synapses for layer in network.layers]
    assert len(history.series["alignment_angle_deg"]) == len(history.epoch) == 3
    assert "alignment" in [p.name for p in probes_for(learner, iris)]


@pytest.mark.parametrize("name", [*sorted(FEEDBACK), "linear"])
def test_partial_fit_continues_a_fitted_and_a_loaded_learner(name, iris, tmp_path):
    learner = get(name)(quick=True)
    learner.fit(iris, seed=0, epochs=2)
    for current in (learner, Learner.load(learner.save(tmp_path / "model"))):
        readout = current.synapses()[-1].weight.detach().clone()
        assert current.partial_fit(iris.X_train, iris.y_train).epoch == [1]
        assert not torch.equal(current.synapses()[-1].weight, readout)


@pytest.mark.parametrize("name", [*sorted(FEEDBACK), "linear"])
def test_fit_is_deterministic_for_a_seed(name, iris):
    a, b = get(name)(quick=True), get(name)(quick=True)
    a.fit(iris, seed=1, epochs=3)
    b.fit(iris, seed=1, epochs=3)
    torch.testing.assert_close(a.outputs(iris.X_test), b.outputs(iris.X_test), rtol=0, atol=0)


def test_feedback_learner_on_a_regression_task_predicts_in_the_targets_units():
    task = nt.tasks.load("diabetes", seed=0)
    learner = get("fa")(quick=True)
    learner.fit(task, seed=0)
    pred = learner.predict(task.X_test)
    assert pred.shape == (len(task.X_test),)
    assert abs(pred.mean() - task.y_train.mean()) < task.y_train.std()


def test_fa_angle_starts_near_90_degrees_and_falls_on_digits():
    # the untrained network's B is unrelated to W: θ ≈ 90°; the forward weights then align
    task = nt.tasks.load("digits", seed=0)
    history = get("fa")(quick=True).fit(task, seed=0, epochs=6)
    angles = history.series["alignment_angle_deg"]
    assert angles[0] >= 85.0
    assert angles[-1] < angles[0] - 10.0


def test_compare_runs_the_engine_learners_end_to_end(capsys, tmp_path):
    out = tmp_path / "run"
    status = main(
        ["compare", "--task", "iris", "--models", "fa,dfa,sign,linear", "--quick"]
        + ["--seeds", "0", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert status == 0, err
    rows = {p.name for p in (out / "rows").glob("*.json")}
    assert rows == {f"{name}-s0.json" for name in ("fa", "dfa", "sign", "linear")}
    for name in ("fa", "dfa", "sign", "linear"):
        row = json.loads((out / "rows" / f"{name}-s0.json").read_text())
        assert row["paradigm"] == "artificial"
        assert "lesion" in row["metrics"] and "ops_per_inference" in row["metrics"]
        if name == "linear":
            assert "alignment" not in row["metrics"]
        else:
            curve = row["metrics"]["alignment"]
            assert len(curve["angle_deg"]) == len(row["history"]["epoch"])
            assert row["history"]["alignment_angle_deg"] == curve["angle_deg"]
    assert (out / "results.json").exists()


TARGETS = {"fa": 0.965, "dfa": 0.965, "sign": 0.96}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_digits_accuracy_target(name):
    accuracies, seconds, angles = [], [], []
    for seed in (0, 1, 2):
        task = nt.tasks.load("digits", seed=seed)
        learner = get(name)()
        t0 = time.perf_counter()
        history = learner.fit(task, seed=seed)
        seconds.append(time.perf_counter() - t0)
        accuracies.append(float(np.mean(learner.predict(task.X_test) == task.y_test)))
        series = history.series["alignment_angle_deg"]
        angles.append((round(series[0], 1), round(series[-1], 1)))
    print(
        f"\n{name}: digits accuracy {np.mean(accuracies):.4f} ± {np.std(accuracies):.4f} "
        f"{accuracies}, fit seconds {[round(s, 1) for s in seconds]}, angle start→end {angles}"
    )
    assert np.mean(accuracies) >= TARGETS[name]
