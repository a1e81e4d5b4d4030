"""The rnn, lstm and gru learners: their cells against torch.nn's, analytic op counts, masks,
save/load, probes, and the one-line errors of a non-sequence task."""

import copy

import numpy as np
import pytest
import torch

import neurotwin as nt
from neurotwin.artificial.recurrent import GATES, RecurrentCell, RecurrentNet
from neurotwin.core.ops import count_ops
from neurotwin.errors import ConfigError
from neurotwin.learners.base import Learner
from neurotwin.learners.registry import get
from neurotwin.probes import run_probes

pytestmark = pytest.mark.usefixtures("one_thread_module")

TORCH_CELLS = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
NAMES = ("rnn", "lstm", "gru")


def _copy_into(ours: RecurrentCell, theirs: torch.nn.Module) -> None:
    with torch.no_grad():
        ours.input.weight.copy_(theirs.weight_ih)
        ours.input.bias.copy_(theirs.bias_ih)
        ours.recurrent.weight.copy_(theirs.weight_hh)
        ours.recurrent.bias.copy_(theirs.bias_hh)


@pytest.mark.parametrize("cell", NAMES)
def test_cell_equals_torch_nn_cell_with_the_same_weights_over_a_sequence(cell):
    torch.manual_seed(0)
    theirs = TORCH_CELLS[cell](5, 7).double()
    ours = RecurrentCell(cell, 5, 7, generator=torch.Generator()).double()
    _copy_into(ours, theirs)
    x = torch.randn(6, 4, 5, dtype=torch.float64)  # (batch, steps, features)
    state = ours.initial_state(6, x)
    expected = None
    for t in range(4):
        state = ours.step(x[:, t], state)
        expected = theirs(x[:, t], expected)
        if cell == "lstm":
            torch.testing.assert_close(state[0], expected[0], rtol=0, atol=1e-6)
            torch.testing.assert_close(state[1], expected[1], rtol=0, atol=1e-6)
        else:
            torch.testing.assert_close(state, expected, rtol=0, atol=1e-6)


def test_lstm_forget_gate_bias_starts_at_one():
    cell = RecurrentCell("lstm", 3, 4, generator=torch.Generator())
    bias = cell.input.bias.detach()
    torch.testing.assert_close(bias[4:8], torch.ones(4))
    assert float(bias[:4].abs().sum() + bias[8:].abs().sum()) == 0.0


@pytest.fixture(scope="module")
def rows():
    return nt.tasks.load("digits_rows", seed=0)


@pytest.fixture(scope="module", params=NAMES)
def fitted(request, rows):
    learner = get(request.param)(quick=True)
    learner.fit(rows, seed=0, epochs=3)
    return learner


def test_every_connection_is_synapses_the_recurrent_one_of_kind_recurrent(fitted):
    h, g = 16, GATES[fitted.name] * 16  # quick preset: 16 hidden units
    inp, rec, readout = fitted.synapses()
    assert (inp.pre, inp.post, inp.kind) == (8, g, "dense")
    assert (rec.pre, rec.post, rec.kind) == (h, g, "recurrent")
    assert (readout.pre, readout.post) == (h, 10)
    assert fitted.config["input_shape"] == (8, 8) and fitted.task_kind == "sequence"


def test_ops_per_inference_equal_the_analytic_count(fitted, rows):
    h, g = 16, GATES[fitted.name] * 16
    with count_ops() as ops:
        fitted.predict(rows.X_test)
    per = ops.per_inference(len(rows.X_test))
    assert per["dense_mac"] == 8 * (8 * g + h * g) + h * 10  # 8 steps, then the readout
    # h_0 = 0: the first step's recurrent synapses do no effective work
    assert per["effective_mac"] <= per["dense_mac"] - h * g


def test_save_load_predicts_identically_with_the_same_config(fitted, rows, tmp_path):
    loaded = Learner.load(fitted.save(tmp_path / fitted.name))
    assert type(loaded) is type(fitted) and loaded.config == fitted.config
    assert loaded.task_kind == "sequence"
    torch.testing.assert_close(
        loaded.outputs(rows.X_test), fitted.outputs(rows.X_test), rtol=0, atol=0
    )


def test_masking_the_recurrent_synapses_changes_the_outputs(fitted, rows):
    lesioned = copy.deepcopy(fitted)
    lesioned.synapses()[1].mask.zero_()
    assert not torch.allclose(fitted.outputs(rows.X_test), lesioned.outputs(rows.X_test))
    if fitted.name != "rnn":
        return  # an LSTM's cell state and a GRU's update gate carry h past the recurrent synapses
    # an Elman RNN without recurrence (and its bias zeroed): h_T depends on the last step only
    with torch.no_grad():
        lesioned.synapses()[1].bias.zero_()
    X = rows.X_test[:5].copy()
    X2 = X.copy()
    X2[:, :56] = 0.0  # every step but the last changed
    torch.testing.assert_close(lesioned.outputs(X), lesioned.outputs(X2))


def test_every_probe_runs_with_no_model_specific_code(fitted, rows):
    metrics, predictions = run_probes(fitted, rows, seed=0)
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and len(predictions) == len(rows.X_test)
    assert len(metrics["lesion"]["test_accuracy"]) == len(metrics["lesion"]["fraction"])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("task_name", ["digits", "iris"])
def test_a_non_sequence_task_raises_one_line_config_error(name, task_name):
    task = nt.tasks.load(task_name, seed=0)
    with pytest.raises(ConfigError, match=rf"{name} needs a sequence task .* {task_name} is a"):
        get(name)(quick=True).fit(task, seed=0)


def test_partial_fit_learns_a_sequence_task_from_steps_by_features_arrays(rows):
    learner = get("gru")(quick=True)
    sequences = rows.X_train.reshape(-1, 8, 8)
    assert learner.partial_fit(sequences, rows.y_train, classes=10).epoch == [1]
    assert learner.task_kind == "sequence" and learner.config["input_shape"] == (8, 8)
    assert learner.partial_fit(sequences, rows.y_train).epoch == [1]
    with pytest.raises(ConfigError, match="classes="):
        get("gru")(quick=True).partial_fit(sequences, rows.y_train)


def test_input_shape_must_hold_the_features(rows):
    with pytest.raises(ConfigError, match=r"input_shape \(4, 4\) holds 16 values"):
        get("lstm")(quick=True, input_shape=(4, 4)).fit(rows, seed=0)
    net = RecurrentNet("rnn", (3, 2), 4, 2, generator=torch.Generator())
    assert net.steps == 3 and net.features == 2


@pytest.mark.slow
@pytest.mark.parametrize(("name", "target"), [("lstm", 0.95), ("gru", 0.95), ("rnn", 0.93)])
def test_digits_rows_accuracy_target_over_three_seeds(name, target):
    accuracies = []
    for seed in (0, 1, 2):
        task = nt.tasks.load("digits_rows", seed=seed)
        learner = get(name)()
        learner.fit(task, seed=seed)
        accuracies.append(float(np.mean(learner.predict(task.X_test) == task.y_test)))
    assert np.mean(accuracies) >= target, accuracies
