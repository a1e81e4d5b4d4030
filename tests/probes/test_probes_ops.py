"""The ops probe: NeuroBench operations per inference and energy, counted by hand."""

import pytest
import torch

from neurotwin import probes
from neurotwin.probes.lesion import lesioned_copy

MAC_PJ = 4.6  # Horowitz, ISSCC 2014, 45 nm, fp32 multiply-accumulate


def _count_by_hand(learner, X) -> dict[str, float]:
    """Per-sample op counts of an mlp or hebbian learner from its activations, layer by layer."""
    model = learner.model
    with torch.no_grad():
        a = model.encoder(torch.as_tensor(X, dtype=torch.float32))
        first, last = learner.synapses()
        hidden = torch.relu(
            a @ (first.weight * first.mask).T + (first.bias if first.bias is not None else 0)
        )
    n_hidden, n_out = first.post, last.post
    effective = ((a != 0).float() @ first.mask.sum(0).float()).sum().item() + (
        (hidden != 0).float() @ last.mask.sum(0).float()
    ).sum().item()
    return {
        "dense_mac": first.pre * n_hidden + n_hidden * n_out,  # every synapse, masked or not
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


def test_masking_leaves_dense_ops_and_cuts_effective_ops(fitted, wine):
    lesioned = lesioned_copy(
        fitted, probes.lesion_masks(fitted, 0.5, torch.Generator().manual_seed(0))
    )
    X = wine.X_test[:5]
    full, _ = probes.ops_per_inference(fitted, X)
    half, _ = probes.ops_per_inference(lesioned, X)
    assert half["dense_mac"] == full["dense_mac"]
    assert half["effective_mac"] == pytest.approx(_count_by_hand(lesioned, X)["effective_mac"])
    assert half["effective_mac"] < full["effective_mac"]


def test_ops_probe_writes_the_counts_of_the_test_set(fitted_mlp, wine):
    out = probes.get("ops")(probes.ProbeContext(fitted_mlp, wine, seed=0))
    per, energy = probes.ops_per_inference(fitted_mlp, wine.X_test)
    assert out == {"ops_per_inference": per, "energy_nj_per_inference": energy}
    assert set(per) == {"dense_mac", "effective_mac", "dense_ac", "ac", "neuron_updates"}
