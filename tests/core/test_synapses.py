"""Synapses: the masked forward pass, mask-respecting plasticity, validation and initialisation."""

import copy
import math

import numpy as np
import pytest
import torch

from neurotwin.core.synapses import Synapses, record_presynaptic_means
from neurotwin.errors import ConfigError

W = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
MASK = [[True, False, True], [True, True, False]]
BIAS = [0.1, -0.2]


def _layer(**kwargs) -> Synapses:
    """Synapses(3, 2) with the weights, mask and bias above, in float64."""
    layer = Synapses(3, 2, **kwargs).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(W, dtype=torch.float64))
        layer.mask.copy_(torch.tensor(MASK))
        if layer.bias is not None:
            layer.bias.copy_(torch.tensor(BIAS, dtype=torch.float64))
    return layer


def test_forward_is_input_times_masked_weight_plus_bias():
    x = np.array([[1.0, 0.0, 2.0], [0.0, -3.0, 0.5], [4.0, 1.0, 1.0]])
    # by hand: W*mask = [[0.5, 0, 2], [1.5, 0.25, 0]]
    expected = np.array(
        [
            [0.5 * 1 + 2 * 2 + 0.1, 1.5 * 1 - 0.2],
            [2 * 0.5 + 0.1, 0.25 * -3 - 0.2],
            [0.5 * 4 + 2 * 1 + 0.1, 1.5 * 4 + 0.25 * 1 - 0.2],
        ]
    )
    got = _layer()(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_forward_without_bias_has_no_offset():
    layer = _layer(bias=False)
    assert layer.bias is None
    out = layer(torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64))
    np.testing.assert_allclose(out.detach().numpy(), [[0.0, 0.0], [2.5, 1.75]], rtol=1e-12)


def test_n_synapses_counts_only_unmasked_connections():
    assert _layer().n_synapses == 4
    assert Synapses(7, 5).n_synapses == 35


def test_apply_dw_leaves_masked_weights_unchanged():
    layer = _layer()
    layer.apply_dw_(torch.full((2, 3), 0.5, dtype=torch.float64))
    expected = [[1.0, -1.0, 2.5], [2.0, 0.75, -0.75]]  # masked: (0, 1) and (1, 2)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), expected)


def test_apply_dw_clamps_to_the_weight_bounds():
    layer = _layer(w_min=-0.5, w_max=1.0)
    layer.apply_dw_(torch.tensor([[1.0, 0.0, 0.0], [-3.0, 0.0, 0.0]], dtype=torch.float64))
    w = layer.weight.detach().numpy()
    assert w.min() >= -0.5 and w.max() <= 1.0
    # 0.5 + 1 → 1.0 (upper bound); 1.5 − 3 → −0.5 (lower bound); 0.25 stays inside
    assert w[0, 0] == 1.0 and w[1, 0] == -0.5 and w[1, 1] == 0.25


def test_apply_dw_with_one_bound_only_clamps_that_side():
    layer = _layer(w_max=1.0)
    layer.apply_dw_(torch.full((2, 3), -10.0, dtype=torch.float64))
    assert layer.weight[0, 0].item() == -9.5  # no lower bound


def test_apply_dw_rejects_a_wrong_shape():
    with pytest.raises(ConfigError, match=r"\(2, 3\)"):
        _layer().apply_dw_(torch.zeros(3, 2, dtype=torch.float64))


def test_masked_weights_get_zero_gradient():
    layer = _layer()
    x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]], dtype=torch.float64)
    (layer(x) ** 2).sum().backward()
    grad = layer.weight.grad.numpy()
    assert grad[0, 1] == 0.0 and grad[1, 2] == 0.0
    assert np.all(grad[np.array(MASK)] != 0.0)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"kind": "conv2d"}, "dense, recurrent"),
        ({"init": "orthogonal"}, "xavier_uniform"),
    ],
)
def test_unknown_kind_or_init_raises_config_error_naming_the_choices(kwargs, named):
    with pytest.raises(ConfigError, match=named):
        Synapses(3, 2, **kwargs)


@pytest.mark.parametrize(("pre", "post"), [(0, 2), (3, 0), (-1, -1)])
def test_empty_shape_raises_config_error(pre, post):
    with pytest.raises(ConfigError, match="pre >= 1"):
        Synapses(pre, post)


def test_recurrent_kind_is_accepted():
    assert Synapses(4, 4, kind="recurrent").kind == "recurrent"


def test_xavier_uniform_stays_within_and_reaches_glorot_bound():
    gen = torch.Generator().manual_seed(0)
    layer = Synapses(400, 200, init="xavier_uniform", generator=gen)
    bound = math.sqrt(6.0 / (400 + 200))  # Glorot & Bengio 2010
    w = layer.weight.detach().abs()
    assert float(w.max()) <= bound
    assert float(w.max()) > 0.999 * bound  # 80,000 uniform draws come this close
    # a uniform on [-b, b] has variance b²/3
    assert float(layer.weight.detach().var()) == pytest.approx(bound**2 / 3, rel=0.02)


def test_he_uniform_stays_within_and_reaches_he_bound():
    gen = torch.Generator().manual_seed(0)
    layer = Synapses(400, 200, init="he_uniform", generator=gen)
    bound = math.sqrt(6.0 / 400)  # He et al. 2015, fan-in
    w = layer.weight.detach().abs()
    assert bound * 0.999 < float(w.max()) <= bound


def test_normal_init_is_standard_normal():
    w = Synapses(
        300, 300, init="normal", generator=torch.Generator().manual_seed(0)
    ).weight.detach()
    assert float(w.mean()) == pytest.approx(0.0, abs=0.01)
    assert float(w.std()) == pytest.approx(1.0, abs=0.01)


def test_zeros_init_and_every_bias_start_at_zero():
    assert not Synapses(5, 4, init="zeros").weight.detach().any()
    assert not Synapses(5, 4).bias.detach().any()


def test_same_generator_seed_gives_same_weights():
    a = Synapses(6, 5, generator=torch.Generator().manual_seed(3))
    b = Synapses(6, 5, generator=torch.Generator().manual_seed(3))
    c = Synapses(6, 5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a.weight, b.weight)
    assert not torch.equal(a.weight, c.weight)


def test_mask_is_a_saved_buffer_not_a_parameter():
    layer = _layer()
    assert "mask" in layer.state_dict()
    assert all(p is not layer.mask for p in layer.parameters())
    assert layer.mask.dtype == torch.bool


def test_ablation_drive_is_added_to_the_output_of_every_sample():
    layer = _layer()
    x = torch.tensor([[1.0, 0.0, 2.0], [0.0, -3.0, 0.5]], dtype=torch.float64)
    before = layer(x).detach()
    layer.ablation_drive.copy_(torch.tensor([3.0, -0.5], dtype=torch.float64))
    np.testing.assert_allclose((layer(x).detach() - before).numpy(), [[3.0, -0.5]] * 2, atol=1e-12)


def test_ablation_drive_starts_at_zero_and_is_not_saved():
    layer = Synapses(4, 3)
    assert layer.ablation_drive.shape == (3,) and not layer.ablation_drive.any()
    assert "ablation_drive" not in layer.state_dict()
    assert all(b is not layer.ablation_drive for b in layer.parameters())
    Synapses(4, 3).load_state_dict(layer.state_dict())  # strict: nothing missing, nothing extra


def test_ablation_drive_follows_deepcopy_and_dtype_changes():
    layer = _layer()  # float64
    layer.ablation_drive.fill_(2.0)
    twin = copy.deepcopy(layer)
    assert torch.equal(twin.ablation_drive, layer.ablation_drive)
    assert twin.ablation_drive.data_ptr() != layer.ablation_drive.data_ptr()
    single = twin.float()
    assert single.ablation_drive.dtype == torch.float32
    torch.testing.assert_close(single(torch.zeros(1, 3)), torch.tensor([[2.1, 1.8]]))  # bias + 2
    assert single.to("meta").ablation_drive.device.type == "meta"  # .to(device) moves it


def test_mask_and_ablation_drive_add_up_to_mean_ablation_by_hand():
    # y = x · w + b with w = (2, -1, 0.5): removing synapse 1 and adding w_1 · m_1 to the drive
    # replaces x_1 by m_1
    layer = Synapses(3, 1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[2.0, -1.0, 0.5]], dtype=torch.float64))
    layer.mask[0, 1] = False
    layer.ablation_drive.fill_(-1.0 * 4.0)  # m_1 = 4
    x = torch.tensor([[1.0, 7.0, 2.0]], dtype=torch.float64)
    assert layer(x).item() == 2.0 * 1 - 1.0 * 4 + 0.5 * 2


def test_presynaptic_means_are_the_column_means_of_every_input_seen():
    layer, other = _layer(), _layer()
    a = torch.tensor([[1.0, 0.0, 2.0], [3.0, -3.0, 0.5]], dtype=torch.float64)
    b = torch.tensor([[2.0, 6.0, -2.5]], dtype=torch.float64)
    with record_presynaptic_means() as rec:
        layer(a)
        layer(b)
        other(b)
    # three rows: (1 + 3 + 2) / 3, (0 − 3 + 6) / 3, (2 + 0.5 − 2.5) / 3
    assert rec.mean(layer).tolist() == [2.0, 1.0, 0.0]
    assert rec.mean(other).tolist() == [2.0, 6.0, -2.5]
    assert rec.counts[layer] == 3


def test_presynaptic_means_of_time_major_input_count_every_step():
    layer = Synapses(2, 1)
    x = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])  # (T=2, batch=2, pre)
    with record_presynaptic_means() as rec:
        layer(x)
    assert rec.mean(layer).tolist() == [4.0, 5.0] and rec.counts[layer] == 4


def test_presynaptic_means_record_only_inside_the_block_and_the_innermost():
    layer, x = _layer(), torch.ones(2, 3, dtype=torch.float64)
    layer(x)
    with record_presynaptic_means() as outer:
        layer(x)
        with record_presynaptic_means() as inner:
            layer(2 * x)
        layer(x)
    layer(5 * x)
    assert outer.counts[layer] == 4 and outer.mean(layer).tolist() == [1.0, 1.0, 1.0]
    assert inner.counts[layer] == 2 and inner.mean(layer).tolist() == [2.0, 2.0, 2.0]


def test_mean_of_a_layer_never_run_raises():
    with record_presynaptic_means() as rec:
        pass
    with pytest.raises(ValueError, match="no input was recorded"):
        rec.mean(_layer())
