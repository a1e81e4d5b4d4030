"""The Learner contract, checked on every registered learner and variant."""

import json

import numpy as np
import pytest
import torch

import neurotwin as nt
from neurotwin.core.synapses import Synapses
from neurotwin.errors import ConfigError, DataError
from neurotwin.learners.base import History, Learner
from neurotwin.learners.registry import available, get


def _takes_iris(name: str) -> bool:
    """Whether learner ``name`` can be fitted on iris (a classification task of 4 features):
    learners built for a task's shape (cnn: images, rnn/lstm/gru: sequences) say why not."""
    return get(name).task_problem(nt.tasks.load("iris", seed=0)) is None


IRIS_LEARNERS = [name for name in available() if _takes_iris(name)]
ROWS = [(name, variant) for name in IRIS_LEARNERS for variant in get(name).variants]


def _row_id(row) -> str:
    return f"{row[0]}-{row[1]}" if row[1] else row[0]


@pytest.fixture(scope="module")
def iris():
    return nt.tasks.load("iris", seed=0)


@pytest.fixture(scope="module", params=ROWS, ids=_row_id)
def fitted(request, iris):
    name, variant = request.param
    learner = get(name)(variant=variant, quick=True)
    history = learner.fit(iris, seed=0)
    return learner, history


def test_builtin_learners_are_registered():
    assert {"mlp", "hebbian"} <= set(available())


@pytest.mark.parametrize("name", available())
def test_class_attributes_declare_identity_and_a_quick_preset(name):
    klass = get(name)
    assert klass.name == name
    assert klass.paradigm in ("artificial", "brain")
    assert klass.encoding in ("standard", "unit")
    assert klass.rule and klass.description and "\n" not in klass.description
    assert set(klass.quick) <= set(klass.defaults)
    assert None in klass.variants


def test_fit_returns_one_history_entry_per_epoch_with_validation_metric_in_unit_range(fitted):
    _, history = fitted
    assert isinstance(history, History)
    n = len(history.epoch)
    assert n >= 1 and history.epoch == list(range(1, n + 1))
    assert len(history.train_loss) == len(history.val_metric) == n
    assert all(0.0 <= v <= 1.0 for v in history.val_metric)
    assert all(np.isfinite(history.train_loss))


def test_synapses_lists_every_connection_as_synapses(fitted):
    learner, _ = fitted
    layers = learner.synapses()
    assert len(layers) >= 1 and all(isinstance(s, Synapses) for s in layers)
    assert layers[0].pre == 4 and layers[-1].post == 3  # iris: 4 features, 3 classes


def test_predict_returns_class_indices_and_leaves_the_model_unchanged(fitted, iris):
    learner, _ = fitted
    state = {k: v.clone() for k, v in learner.model.state_dict().items()}
    pred = learner.predict(iris.X_test)
    assert pred.shape == (len(iris.X_test),) and set(pred.tolist()) <= {0, 1, 2}
    np.testing.assert_array_equal(learner.predict(iris.X_test), pred)
    after = learner.model.state_dict()
    assert all(torch.equal(state[k], after[k]) for k in state)


def test_predict_flattens_image_shaped_input(fitted, iris):
    learner, _ = fitted
    images = iris.X_test.reshape(len(iris.X_test), 2, 2)
    np.testing.assert_array_equal(learner.predict(images), learner.predict(iris.X_test))


def test_save_and_load_round_trip_gives_identical_predictions_and_config(fitted, iris, tmp_path):
    learner, _ = fitted
    learner.save(tmp_path / "model")
    assert {p.name for p in (tmp_path / "model").iterdir()} == {"config.json", "model.safetensors"}
    for loader in (Learner.load, type(learner).load):
        loaded = loader(tmp_path / "model")
        assert type(loaded) is type(learner)
        assert loaded.variant == learner.variant
        assert loaded.config == learner.config
        assert loaded.task_kind == "classification" and loaded.n_features == 4
        np.testing.assert_array_equal(loaded.predict(iris.X_test), learner.predict(iris.X_test))
        torch.testing.assert_close(
            loaded.outputs(iris.X_test), learner.outputs(iris.X_test), rtol=0, atol=0
        )
    meta = json.loads((tmp_path / "model" / "config.json").read_text())
    assert meta["learner"] == learner.name


def test_loading_a_folder_without_a_model_raises_data_error(tmp_path):
    with pytest.raises(DataError, match="not a saved neurotwin model"):
        Learner.load(tmp_path)


@pytest.mark.parametrize("name", available())
def test_predict_before_fit_raises_config_error(name, iris):
    learner = get(name)()
    with pytest.raises(ConfigError, match="not fitted"):
        learner.predict(iris.X_test)
    with pytest.raises(ConfigError, match="not fitted"):
        learner.synapses()
    with pytest.raises(ConfigError, match="not fitted"):
        learner.save("unused")


@pytest.mark.parametrize("name", available())
def test_unknown_option_raises_config_error_naming_the_valid_ones(name):
    klass = get(name)
    with pytest.raises(ConfigError, match="learning_rate_typo") as info:
        klass(learning_rate_typo=0.1)
    assert all(option in str(info.value) for option in klass.defaults)


@pytest.mark.parametrize("name", available())
def test_unknown_variant_raises_config_error_naming_the_valid_ones(name):
    klass = get(name)
    with pytest.raises(ConfigError, match="no_such_variant") as info:
        klass(variant="no_such_variant")
    named = ["none" if v is None else v for v in klass.variants]
    assert all(v in str(info.value) for v in named)


def test_unknown_learner_name_raises_config_error_naming_the_registered_ones():
    with pytest.raises(ConfigError, match="unknown learner 'perceptron'") as info:
        get("perceptron")
    assert "mlp" in str(info.value) and "hebbian" in str(info.value)


def test_hebbian_on_a_regression_task_raises_config_error():
    task = nt.tasks.load("diabetes", seed=0)
    with pytest.raises(ConfigError, match="classification"):
        get("hebbian")(quick=True).fit(task, seed=0)


@pytest.mark.parametrize("name", available())
@pytest.mark.parametrize("epochs", [0, -3, 2.5])
def test_bad_epochs_raise_config_error(name, epochs, iris):
    with pytest.raises(ConfigError, match="epochs"):
        get(name)(quick=True).fit(iris, seed=0, epochs=epochs)


def test_input_of_the_wrong_width_raises_data_error(fitted, iris):
    learner, _ = fitted
    with pytest.raises(DataError, match=r"expected \(n, 4\)"):
        learner.predict(iris.X_test[:, :3])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_input_with_nan_or_infinity_raises_data_error(fitted, iris, bad):
    learner, _ = fitted
    X = iris.X_test.copy()
    X[2, 1] = bad
    with pytest.raises(DataError, match="NaN or infinite"):
        learner.predict(X)


@pytest.mark.parametrize("name", available())
def test_partial_fit_with_mismatched_labels_raises_data_error(name, iris):
    with pytest.raises(DataError, match="as many labels"):
        get(name)().partial_fit(iris.X_train, iris.y_train[:-1], classes=3)


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        ("mlp", None),
        ("hebbian", None),
        ("hebbian", "random_first_layer"),
    ],
)
def test_partial_fit_continues_a_learner_trained_by_fit(name, variant, iris):
    learner = get(name)(variant=variant, quick=True)
    learner.fit(iris, seed=0, epochs=2)
    readout = learner.synapses()[-1].weight.detach().clone()
    history = learner.partial_fit(iris.X_train, iris.y_train)
    assert history.epoch == [1]
    assert not torch.equal(learner.synapses()[-1].weight, readout)
    assert learner.n_outputs == 3


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        ("mlp", None),
        ("hebbian", None),
        ("hebbian", "random_first_layer"),
    ],
)
def test_partial_fit_continues_a_loaded_learner(name, variant, iris, tmp_path):
    learner = get(name)(variant=variant, quick=True)
    learner.fit(iris, seed=0, epochs=2)
    loaded = Learner.load(learner.save(tmp_path / "model"))
    readout = loaded.synapses()[-1].weight.detach().clone()
    assert loaded.partial_fit(iris.X_train, iris.y_train).epoch == [1]
    assert not torch.equal(loaded.synapses()[-1].weight, readout)


@pytest.mark.parametrize(
    "name",
    [
        "mlp",
        "hebbian",
    ],
)
def test_partial_fit_accepts_classes_as_a_numpy_array(name, iris):
    learner = get(name)()
    learner.partial_fit(iris.X_train, iris.y_train, classes=np.unique(iris.y_train))
    assert learner.n_outputs == 3 and learner.task_kind == "classification"


@pytest.mark.parametrize("name", IRIS_LEARNERS)
def test_partial_fit_accepts_classes_as_a_numpy_integer(name, iris):
    learner = get(name)()
    learner.partial_fit(iris.X_train, iris.y_train, classes=np.int64(3))
    assert learner.n_outputs == 3


@pytest.mark.parametrize("text", ["²", "①", "٣", "1.5", "-3", ""])
def test_epochs_take_ascii_digits_only(text):
    from neurotwin.learners.base import resolve_epochs

    with pytest.raises(ConfigError, match="whole number from 1 to 100000"):
        resolve_epochs(text, 1)
    assert resolve_epochs(" 12 ", 1) == 12


def test_predict_proba_gives_probabilities_that_agree_with_predict_and_cross_entropy(fitted, iris):
    from sklearn.metrics import log_loss

    learner, _ = fitted
    proba = learner.predict_proba(iris.X_test)
    assert proba.shape == (len(iris.X_test), 3) and proba.dtype == np.float64
    assert (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(proba.argmax(1), learner.predict(iris.X_test))
    # the log-loss of the probabilities is the cross-entropy of the logits they came from
    logits = learner.outputs(iris.X_test).double()
    cross_entropy = torch.nn.functional.cross_entropy(logits, torch.as_tensor(iris.y_test))
    assert log_loss(iris.y_test, proba, labels=[0, 1, 2]) == pytest.approx(float(cross_entropy))


def test_predict_proba_on_a_regression_task_raises_config_error():
    task = nt.tasks.load("diabetes", seed=0)
    learner = get("mlp")(quick=True)
    learner.fit(task, seed=0)
    with pytest.raises(ConfigError, match="predict_proba is for class targets"):
        learner.predict_proba(task.X_test)


def test_a_learner_without_probabilities_says_so():
    class NoProbabilities(Learner):
        name = "no_probabilities"

    with pytest.raises(ConfigError, match="no_probabilities has no class probabilities"):
        NoProbabilities.predict_proba(NoProbabilities.__new__(NoProbabilities), np.zeros((1, 4)))
