"""The params probe: every weight and bias, split into learned and fixed."""

import pytest

from neurotwin import probes
from neurotwin.learners.registry import get


def test_n_params_counts_weights_and_biases(fitted):
    first, last = fitted.synapses()
    expected = first.weight.numel() + last.weight.numel() + last.bias.numel()
    expected += 0 if first.bias is None else first.bias.numel()
    assert probes.n_params(fitted) == expected


def test_params_probe_of_a_trained_network_has_nothing_fixed(fitted, wine):
    out = probes.get("params")(probes.ProbeContext(fitted, wine, seed=0))
    n = probes.n_params(fitted)
    assert out == {"params": n, "params_learned": n, "params_fixed": 0}


@pytest.mark.parametrize("variant", ["random_first_layer"])
def test_a_control_with_a_frozen_first_layer_counts_it_as_fixed(variant, wine):
    learner = get("hebbian")(variant=variant, quick=True)
    learner.fit(wine, seed=0, epochs=1)
    out = probes.get("params")(probes.ProbeContext(learner, wine, seed=0))
    first = learner.synapses()[0]
    # wine: 13 features → hidden units, a bias-free first layer
    assert out["params_fixed"] == first.pre * first.post == first.weight.numel()
    assert out["params_learned"] + out["params_fixed"] == out["params"]
