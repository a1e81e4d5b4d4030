"""The cnn learner: its im2col convolution against conv2d, analytic op counts, masks, save/load,
probes and the one-line errors of a wrong task."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neurotwin as nt
from neurotwin.artificial.conv import Conv2dSynapses, ConvNet
from neurotwin.core.ops import count_ops
from neurotwin.errors import ConfigError
from neurotwin.learners.base import Learner
from neurotwin.learners.registry import get
from neurotwin.probes import run_probes

pytestmark = pytest.mark.usefixtures("one_thread_module")


@pytest.mark.parametrize(("c_in", "c_out", "kernel", "padding"), [(1, 4, 3, 1), (3, 5, 3, 0)])
def test_im2col_convolution_equals_conv2d_with_the_same_weights(c_in, c_out, kernel, padding):
    conv = Conv2dSynapses(c_in, c_out, kernel, padding=padding, generator=torch.Generator())
    with torch.no_grad():
        conv.synapses.bias.normal_()
    x = torch.randn(6, c_in, 7, 9)
    weight = conv.synapses.weight.reshape(c_out, c_in, kernel, kernel)
    expected = F.conv2d(x, weight, conv.synapses.bias, padding=padding)
    torch.testing.assert_close(conv(x), expected, rtol=1e-5, atol=1e-5)


def test_op_counts_of_a_convolution_are_its_multiply_accumulates():
    conv = Conv2dSynapses(2, 5, 3, padding=1)
    x = torch.rand(4, 2, 6, 7) + 0.1  # no zero inputs
    with count_ops() as ops:
        conv(x)
    assert ops.dense_mac == 4 * (6 * 7) * (2 * 3 * 3) * 5  # batch · positions · C·k·k · out
    # effective ops skip the zero padding: 2 channels × Σ over pixels of the outputs each reaches
    reach_h = sum(min(r + 1, 6 - 1) - max(r - 1, 0) + 1 for r in range(6))
    reach_w = sum(min(c + 1, 7 - 1) - max(c - 1, 0) + 1 for c in range(7))
    assert ops.effective_mac == 4 * 2 * reach_h * reach_w * 5


@pytest.fixture(scope="module")
def digits():
    return nt.tasks.load("digits", seed=0)


@pytest.fixture(scope="module")
def fitted(digits):
    learner = get("cnn")(quick=True)
    learner.fit(digits, seed=0)
    return learner


def test_fit_resolves_the_input_shape_into_the_config_and_every_connection_is_synapses(fitted):
    assert fitted.config["input_shape"] == (8, 8)
    conv, dense, readout = fitted.synapses()
    assert (conv.pre, conv.post) == (1 * 3 * 3, 4)  # channels (4,) in the quick preset
    assert (dense.pre, dense.post) == (4 * 4 * 4, 16)  # 8x8 pooled to 4x4, 4 channels
    assert (readout.pre, readout.post) == (16, 10)


def test_ops_per_inference_equal_the_analytic_count(fitted, digits):
    with count_ops() as ops:
        fitted.predict(digits.X_test)
    per = ops.per_inference(len(digits.X_test))
    conv = 8 * 8 * 9 * 4  # positions · C·k·k · out
    assert per["dense_mac"] == conv + 64 * 16 + 16 * 10
    assert 0 < per["effective_mac"] <= per["dense_mac"]


def test_save_load_predicts_identically_with_the_same_config(fitted, digits, tmp_path):
    loaded = Learner.load(fitted.save(tmp_path / "cnn"))
    assert type(loaded) is type(fitted) and loaded.config == fitted.config
    torch.testing.assert_close(
        loaded.outputs(digits.X_test), fitted.outputs(digits.X_test), rtol=0, atol=0
    )


def test_a_fully_masked_conv_layer_changes_the_outputs(fitted, digits):
    import copy

    lesioned = copy.deepcopy(fitted)
    lesioned.synapses()[0].mask.zero_()
    before, after = fitted.outputs(digits.X_test), lesioned.outputs(digits.X_test)
    assert not torch.allclose(before, after)
    # with no conv synapse left, the outputs no longer depend on the input
    torch.testing.assert_close(after, after[:1].expand_as(after))


def test_every_probe_runs_with_no_model_specific_code(fitted, digits):
    metrics, predictions = run_probes(fitted, digits, seed=0)
    assert metrics["test_accuracy"] > 0.3 and len(predictions) == len(digits.X_test)
    assert metrics["ops_per_inference"]["dense_mac"] == 8 * 8 * 9 * 4 + 64 * 16 + 16 * 10
    assert len(metrics["lesion"]["test_accuracy"]) == len(metrics["lesion"]["fraction"])


@pytest.mark.parametrize("name", ["breast_cancer", "digits_rows"])
def test_a_task_without_images_raises_one_line_config_error(name):
    task = nt.tasks.load(name, seed=0)
    with pytest.raises(ConfigError, match=r"cnn needs an image task \(input_shape \(H, W\)\)") as e:
        get("cnn")(quick=True).fit(task, seed=0)
    assert name in str(e.value) and "\n" not in str(e.value)


def test_partial_fit_takes_the_shape_of_images_or_of_the_config(digits):
    images = digits.X_train.reshape(-1, 8, 8)
    learner = get("cnn")(quick=True)
    assert learner.partial_fit(images, digits.y_train, classes=10).epoch == [1]
    assert learner.config["input_shape"] == (8, 8)
    assert learner.predict(digits.X_test).shape == (len(digits.X_test),)
    with pytest.raises(ConfigError, match="input_shape"):
        get("cnn")(quick=True).partial_fit(digits.X_train, digits.y_train, classes=10)
    flat = get("cnn")(quick=True, input_shape=[8, 8])
    assert flat.partial_fit(digits.X_train, digits.y_train, classes=10).epoch == [1]


def test_a_three_axis_input_shape_is_channels_first():
    net = ConvNet((2, 6, 6), (3,), (), 4, generator=torch.Generator())
    net.encoder.fit(np.random.default_rng(0).normal(size=(10, 72)))
    assert net.convs[0].synapses.pre == 2 * 9 and net(torch.randn(5, 72)).shape == (5, 4)


@pytest.mark.slow
def test_digits_accuracy_target_over_three_seeds():
    accuracies = []
    for seed in (0, 1, 2):
        task = nt.tasks.load("digits", seed=seed)
        learner = get("cnn")()
        learner.fit(task, seed=seed)
        accuracies.append(float(np.mean(learner.predict(task.X_test) == task.y_test)))
    assert np.mean(accuracies) >= 0.985, accuracies
