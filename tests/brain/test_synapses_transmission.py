"""Spike transmission through Synapses: propagate's two paths, op counts, connectivity, Dale's law,
current- and conductance-based projections."""

from __future__ import annotations

import math

import pytest
import torch

import neurotwin.brain.synapses as transmission
from neurotwin.brain.neurons.lif import ConductanceLIF
from neurotwin.brain.synapses import (
    ConductanceProjection,
    CurrentProjection,
    connect,
    propagate,
)
from neurotwin.core import Synapses, count_ops
from neurotwin.errors import ConfigError, DataError


def _layer(pre: int, post: int, *, seed: int = 0, dtype=torch.float64) -> Synapses:
    g = torch.Generator().manual_seed(seed)
    syn = Synapses(pre, post, bias=False, init="normal", pre_spikes=True, generator=g).to(dtype)
    with torch.no_grad():
        syn.mask.copy_(torch.rand(post, pre, generator=g) < 0.5)
    return syn


def _spikes(batch: int, pre: int, density: float, seed: int = 1, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, pre, generator=g) < density).to(dtype)


def _path(monkeypatch, path: str) -> None:
    monkeypatch.setattr(transmission, "EVENT_DRIVEN_MAX_DENSITY", 1.01 if path == "event" else 0.0)


@pytest.mark.parametrize("density", [0.01, 0.3])
def test_event_and_dense_paths_agree_with_the_definition_in_float64(monkeypatch, density):
    syn, spikes = _layer(50, 30), _spikes(20, 50, density)
    expected = torch.zeros(20, 30, dtype=torch.float64)
    w, m = syn.weight.detach(), syn.mask
    for b, j in spikes.nonzero().tolist():  # the definition, one spike at a time
        expected[b] += w[:, j] * m[:, j]
    results = {}
    for path in ("event", "dense"):
        _path(monkeypatch, path)
        results[path] = propagate(syn, spikes)
    for out in results.values():
        assert out.shape == (20, 30) and out.dtype == torch.float64
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)


def test_default_path_choice_follows_the_fixed_density_threshold(monkeypatch):
    calls = []
    real = transmission._events
    monkeypatch.setattr(transmission, "_events", lambda *a: calls.append(1) or real(*a))
    syn = _layer(100, 10)
    sparse = torch.zeros(10, 100, dtype=torch.float64)
    sparse[0, :49] = 1  # 49 of 1000 entries: below 5 %
    propagate(syn, sparse)
    dense = sparse.clone()
    dense[1, :1] = 1  # 50 of 1000: not below
    propagate(syn, dense)
    assert calls == [1]


@pytest.mark.parametrize("path", ["event", "dense"])
def test_ops_of_a_tiny_net_are_counted_by_hand(monkeypatch, path):
    _path(monkeypatch, path)
    syn = Synapses(3, 2, bias=False, pre_spikes=True)
    with torch.no_grad():
        syn.mask[1, 0] = False  # input 0 reaches 1 neuron, inputs 1 and 2 reach 2
    spikes = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    with count_ops() as ops:
        propagate(syn, spikes)
    assert ops.dense_ac == 2 * 3 * 2  # batch · pre · post, masked or not
    assert ops.ac == (1 + 2) + 2  # sample 0: inputs 0 and 2; sample 1: input 2
    assert ops.dense_mac == ops.effective_mac == 0
    with count_ops() as reference:
        syn(spikes, spikes=True)
    assert (ops.dense_ac, ops.ac) == (reference.dense_ac, reference.ac)


def test_the_cache_follows_plasticity_and_lesions():
    syn = _layer(6, 4)
    spikes = torch.zeros(1, 6, dtype=torch.float64)
    spikes[0, 2] = 1
    before = propagate(syn, spikes).clone()
    syn.apply_dw_(torch.ones(4, 6, dtype=torch.float64))
    after_dw = propagate(syn, spikes)
    torch.testing.assert_close(after_dw, before + syn.mask[:, 2].to(torch.float64).unsqueeze(0))
    with torch.no_grad():
        syn.mask[:, 2] = False
    assert propagate(syn, spikes).abs().sum() == 0
    fresh = _layer(6, 4, seed=5)
    syn.load_state_dict(fresh.state_dict())
    torch.testing.assert_close(propagate(syn, spikes), propagate(fresh, spikes))


def test_bool_spikes_give_the_same_sums():
    syn, spikes = _layer(40, 8), _spikes(5, 40, 0.02)
    torch.testing.assert_close(propagate(syn, spikes.bool()), propagate(syn, spikes))


@pytest.mark.parametrize("path", ["event", "dense"])
@pytest.mark.parametrize("bad", [0.5, math.nan, -1.0, 2.0])
def test_non_binary_spikes_are_refused(monkeypatch, path, bad):
    _path(monkeypatch, path)
    spikes = _spikes(4, 10, 0.3)
    spikes[0, 0] = bad
    with pytest.raises(DataError, match="0/1"):
        propagate(_layer(10, 3), spikes)


def test_spikes_of_the_wrong_size_are_refused():
    with pytest.raises(DataError, match=r"expected \(batch, pre\) with pre = 10"):
        propagate(_layer(10, 3), torch.zeros(4, 9, dtype=torch.float64))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_propagate_runs_on_cuda():
    syn, spikes = _layer(50, 30), _spikes(20, 50, 0.01)
    expected = propagate(syn, spikes)
    out = propagate(syn.cuda(), spikes.cuda())
    assert out.is_cuda
    torch.testing.assert_close(out.cpu(), expected, rtol=0, atol=1e-12)


def test_connectivity_rules():
    assert connect("all_to_all", 3, 2).all()
    assert torch.equal(connect("one_to_one", 4, 4), torch.eye(4, dtype=torch.bool))
    but_self = connect("all_but_self", 4, 4)
    assert not but_self.diagonal().any() and int(but_self.sum()) == 12
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    mask = connect("fixed_probability", 200, 300, p=0.1, generator=g1)
    assert torch.equal(mask, connect("fixed_probability", 200, 300, p=0.1, generator=g2))
    assert abs(mask.double().mean().item() - 0.1) < 0.005  # 60 000 draws: sd 0.0012


@pytest.mark.parametrize(
    ("rule", "pre", "post", "p", "message"),
    [
        ("ring", 3, 3, None, "unknown connectivity 'ring'"),
        ("one_to_one", 3, 4, None, "needs pre == post"),
        ("fixed_probability", 3, 4, 1.5, "0 <= p <= 1"),
        ("all_to_all", 3, 4, 0.5, "only used by"),
    ],
)
def test_bad_connectivity_is_refused(rule, pre, post, p, message):
    with pytest.raises(ConfigError, match=message):
        connect(rule, pre, post, p=p)


def test_a_sparse_projection_counts_only_its_synapses():
    proj = CurrentProjection(4, 4, weight=1.0, dt_ms=1.0, connectivity="one_to_one")
    with count_ops() as ops:
        proj.step(torch.ones(1, 4))
    assert (ops.dense_ac, ops.ac) == (16, 4)


def test_dale_signs_survive_plasticity():
    exc = CurrentProjection(5, 3, weight=(0.5, 1.0), dt_ms=1.0, tau_syn_ms=None)
    inh = CurrentProjection(5, 3, weight=(0.5, 1.0), dt_ms=1.0, tau_syn_ms=None, sign="inhibitory")
    for proj in (exc, inh):
        dw = torch.full((3, 5), -0.75)
        dw[0] = 10.0
        proj.synapses.apply_dw_(dw)  # would flip the sign of rows 1 and 2 without the bound
        assert proj.synapses.weight.min() >= 0
        proj.step(torch.ones(1, 5))
        current = proj.step(torch.zeros(1, 5))
        assert (current * proj.sign >= 0).all() and (current * proj.sign > 0).any()
    assert exc.sign == 1 and inh.sign == -1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weight": -0.1}, "Dale's law"),
        ({"weight": (0.2, 0.1)}, "low <= high"),
        ({"weight": 1.0, "sign": "modulatory"}, "unknown sign"),
        ({"weight": math.nan}, "finite magnitudes"),
        ({"weight": 1.0, "tau_syn_ms": -5.0}, "tau_syn_ms must be a finite number > 0"),
        ({"weight": 1.0, "dt_ms": 0.0}, "dt_ms must be a finite number > 0"),
    ],
)
def test_bad_projection_settings_are_refused(kwargs, message):
    kwargs = {"dt_ms": 1.0, **kwargs}
    with pytest.raises(ConfigError, match=message):
        CurrentProjection(3, 2, **kwargs)


def test_synaptic_current_jumps_by_w_and_decays_with_tau_syn():
    proj = CurrentProjection(1, 1, weight=2.0, dt_ms=1.0, tau_syn_ms=5.0, delay_ms=1.0)
    currents = [proj.step(torch.tensor([[1.0 if t == 0 else 0.0]])).item() for t in range(5)]
    assert currents[0] == 0.0
    for k, value in enumerate(currents[1:]):
        assert value == pytest.approx(2.0 * math.exp(-k / 5.0), rel=1e-6)


def test_a_delta_synapse_is_a_one_step_pulse_and_inhibition_is_negative():
    proj = CurrentProjection(2, 1, weight=1.5, dt_ms=0.5, tau_syn_ms=None, sign="inhibitory")
    currents = [proj.step(torch.tensor([[1.0, 1.0 if t == 0 else 0.0]])).item() for t in range(3)]
    assert currents == [0.0, -3.0, -1.5]


def test_reading_before_reset_is_refused():
    with pytest.raises(ConfigError, match="call reset"):
        CurrentProjection(2, 2, weight=1.0, dt_ms=1.0).current()


def test_conductance_projections_feed_g_exc_or_g_inh():
    group = ConductanceLIF(3, dt_ms=0.5)
    group.reset(2)
    exc = ConductanceProjection(4, 3, weight=0.25, dt_ms=0.5)
    inh = ConductanceProjection(2, 3, weight=0.5, dt_ms=0.5, sign="inhibitory")
    exc.reset(2), inh.reset(2)
    exc.send(torch.tensor([[1.0, 1, 0, 0], [0, 0, 0, 0]]))
    inh.send(torch.tensor([[0.0, 0], [1, 0]]))
    exc.deliver(group), inh.deliver(group)
    torch.testing.assert_close(group.state.g_exc, torch.tensor([[0.5] * 3, [0.0] * 3]))
    torch.testing.assert_close(group.state.g_inh, torch.tensor([[0.0] * 3, [0.5] * 3]))
    with pytest.raises(ConfigError, match="n = 4 neurons"):
        ConductanceProjection(3, 4, weight=0.1, dt_ms=0.5).deliver(group)
