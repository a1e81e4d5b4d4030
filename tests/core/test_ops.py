"""Operation counting and energy, checked against counts made by hand on small networks."""

import pytest
import torch

from neurotwin.artificial.mlp import MLPNet
from neurotwin.core.ops import OpCounts, active_counter, add_neuron_updates, count_ops, energy_nj
from neurotwin.core.synapses import Synapses

# Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm, fp32: mult 3.7 pJ + add 0.9 pJ.
MAC_PJ, AC_PJ = 4.6, 0.9

# Synapses(3, 2) with this mask: input 0 reaches 2 outputs, inputs 1 and 2 reach 1 each; 6
# synapses in all, 4 of them unmasked.
MASK = [[True, False, True], [True, True, False]]


def _masked_layer(pre_spikes: bool = False) -> Synapses:
    layer = Synapses(3, 2, pre_spikes=pre_spikes, generator=torch.Generator().manual_seed(0))
    layer.mask.copy_(torch.tensor(MASK))
    return layer


def test_real_input_counts_dense_and_effective_macs_by_hand():
    x = torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 0.5]])
    with count_ops() as ops:
        _masked_layer()(x)
    # dense: 2 samples × 6 synapses, masked or not; effective: sample 1 inputs 0, 2 → 2 + 1,
    # sample 2 input 2 → 1
    assert (ops.dense_mac, ops.effective_mac) == (12, 4)
    assert (ops.dense_ac, ops.ac, ops.neuron_updates) == (0, 0, 0)
    assert energy_nj(ops.per_inference(1)) == pytest.approx(4 * MAC_PJ / 1000)


@pytest.mark.parametrize("how", ["constructor", "forward"])
def test_spike_input_counts_accumulates_not_macs(how):
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    layer = _masked_layer(pre_spikes=how == "constructor")
    with count_ops() as ops:
        layer(x) if how == "constructor" else layer(x, spikes=True)
    assert (ops.dense_ac, ops.ac) == (12, 4)
    assert (ops.dense_mac, ops.effective_mac) == (0, 0)
    assert energy_nj(ops.per_inference(1)) == pytest.approx(4 * AC_PJ / 1000)


def test_forward_spikes_false_overrides_a_spiking_layer():
    with count_ops() as ops:
        _masked_layer(pre_spikes=True)(torch.tensor([[1.0, 1.0, 1.0]]), spikes=False)
    assert (ops.dense_mac, ops.effective_mac, ops.dense_ac, ops.ac) == (6, 4, 0, 0)


def test_fully_masked_layer_counts_dense_ops_but_no_effective_ones():
    layer = _masked_layer()
    layer.mask.zero_()
    with count_ops() as ops:
        layer(torch.ones(5, 3))
    assert (ops.dense_mac, ops.effective_mac) == (5 * 3 * 2, 0)


@pytest.mark.parametrize("keep", [1.0, 0.5, 0.1, 0.0])
def test_dense_ops_are_batch_times_pre_times_post_whatever_the_mask(keep):
    gen = torch.Generator().manual_seed(0)
    layers = [Synapses(4, 64, generator=gen), Synapses(64, 3, generator=gen)]
    for layer in layers:
        layer.mask.copy_(torch.rand(layer.mask.shape, generator=gen) < keep)
    x = torch.randn(7, 4, generator=gen)
    with count_ops() as ops:
        layers[1](torch.relu(layers[0](x)))
    assert ops.dense_mac == 7 * (4 * 64 + 64 * 3)


def test_two_layer_mlp_counts_synapses_and_neuron_updates_by_hand():
    net = MLPNet(3, (2,), 2, generator=torch.Generator().manual_seed(0))
    first, second = net.layers
    with torch.no_grad():
        first.weight.copy_(torch.tensor([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]]))
        first.mask.copy_(torch.tensor(MASK))  # effective [[1, 0, 1], [-1, -1, 0]]
        first.bias.zero_()
    x = torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 0.5]])
    # hidden = relu([[3, -1], [0.5, 0]]) = [[3, 0], [0.5, 0]]: one active hidden unit per sample
    with count_ops() as ops:
        net.core(x)
    # layer 1 (3 × 2 synapses, 4 unmasked): dense 2 × 6, effective 3 + 1; layer 2 (2 × 2
    # synapses, fan-out 2 per hidden unit): dense 2 × 4, effective 2 + 2
    assert ops.dense_mac == 12 + 8
    assert ops.effective_mac == 4 + 4
    # 2 hidden + 2 output neurons updated per sample
    assert ops.neuron_updates == 2 * 2 + 2 * 2
    assert energy_nj(ops.per_inference(2)) == pytest.approx(4 * MAC_PJ / 1000)


def test_energy_adds_macs_and_accumulates_at_horowitz_costs():
    per = {"dense_mac": 100.0, "effective_mac": 10.0, "dense_ac": 50.0, "ac": 20.0}
    assert energy_nj(per) == pytest.approx((10 * 4.6 + 20 * 0.9) / 1000)
    per = {"effective_mac": 8540.0, "ac": 0.0}
    assert energy_nj(per) == pytest.approx(39.284)  # DESIGN.md's digits example


def test_per_inference_divides_every_count_by_the_samples():
    with count_ops() as ops:
        _masked_layer()(torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 0.5]]))
        add_neuron_updates(6)
    assert ops.per_inference(2) == {
        "dense_mac": 6.0,
        "effective_mac": 2.0,
        "dense_ac": 0.0,
        "ac": 0.0,
        "neuron_updates": 3.0,
    }
    assert ops.per_inference(4)["dense_mac"] == 3.0


@pytest.mark.parametrize("n", [0, -1])
def test_per_inference_without_samples_raises(n):
    with pytest.raises(ValueError, match="positive number of samples"):
        OpCounts(dense_mac=3).per_inference(n)


def test_nothing_is_counted_outside_count_ops():
    layer, x = _masked_layer(), torch.ones(4, 3)
    assert active_counter() is None
    layer(x)
    add_neuron_updates(10)
    with count_ops() as ops:
        pass
    assert ops == OpCounts()
    layer(x)  # after the block: its counts stay as they were
    assert ops == OpCounts()
    assert active_counter() is None


def test_nested_count_ops_inner_block_replaces_the_outer():
    layer, x = _masked_layer(), torch.tensor([[1.0, 1.0, 1.0]])  # 6 dense MACs a pass
    with count_ops() as outer:
        layer(x)
        with count_ops() as inner:
            assert active_counter() is inner
            layer(x)
            layer(x)
        assert active_counter() is outer
        layer(x)
    assert inner.dense_mac == 12
    assert outer.dense_mac == 12  # the two passes outside the inner block
