"""EINetwork: the fused step against a plain reference step (lif_conductance_step + Synapses), op
counts by hand, input checks, determinism and the Poisson input's statistics."""

from __future__ import annotations

import math

import pytest
import torch

from neurotwin.brain.monitors import SpikeMonitor
from neurotwin.brain.network import Connection, EINetwork
from neurotwin.brain.neurons.lif import (
    LIFConductanceParams,
    LIFConductanceState,
    lif_conductance_step,
)
from neurotwin.brain.poisson import PoissonEvents
from neurotwin.core.ops import count_ops
from neurotwin.errors import ConfigError, DataError


class Keep:
    """A monitor that keeps a copy of every record."""

    def __init__(self) -> None:
        self.items = []

    def record(self, x) -> None:
        self.items.append(
            {k: v.clone() for k, v in x.items()} if isinstance(x, dict) else x.clone()
        )


def _small(**kwargs) -> EINetwork:
    g = torch.Generator().manual_seed(3)
    args = {"input_to_exc": Connection((0.0, 1.5))}
    args.update(kwargs)
    return EINetwork(20, 6, 6, generator=g, **args).to(torch.float64)


def _rates(batch: int = 3, n_in: int = 20, seed: int = 5) -> torch.Tensor:
    return torch.rand(batch, n_in, generator=torch.Generator().manual_seed(seed)) * 120.0


def _reference(net: EINetwork, inputs: list[torch.Tensor]):
    """The network step by step from lif_conductance_step and Synapses.forward, in W1's order;
    returns the E and I spikes of every step and the E and I states after every step."""
    batch, dt = inputs[0].shape[0], net.dt_ms

    def rest(n, params):
        v = torch.full((batch, n), params.v_rest_mV, dtype=torch.float64)
        zero = torch.zeros_like(v)
        return LIFConductanceState(v, zero, zero, zero, zero)

    exc, inh = rest(net.n_exc, net.exc_params), rest(net.n_inh, net.inh_params)
    no_current_e = torch.zeros(batch, net.n_exc, dtype=torch.float64)
    no_current_i = torch.zeros(batch, net.n_inh, dtype=torch.float64)
    out_e, out_i, states = [], [], []
    for x in inputs:
        exc, s_e = lif_conductance_step(exc, no_current_e, net.exc_params, dt)
        inh, s_i = lif_conductance_step(inh, no_current_i, net.inh_params, dt)
        g_e_exc = exc.g_exc + net.input_to_exc(x.to(torch.float64))
        g_e_inh, g_i_exc, g_i_inh = exc.g_inh, inh.g_exc, inh.g_inh
        if net.exc_to_exc is not None:
            g_e_exc = g_e_exc + net.exc_to_exc(s_e)
        if net.exc_to_inh is not None:
            g_i_exc = g_i_exc + net.exc_to_inh(s_e)
        if net.inh_to_exc is not None:
            g_e_inh = g_e_inh + net.inh_to_exc(s_i)
        if net.inh_to_inh is not None:
            g_i_inh = g_i_inh + net.inh_to_inh(s_i)
        exc = exc._replace(g_exc=g_e_exc, g_inh=g_e_inh)
        inh = inh._replace(g_exc=g_i_exc, g_inh=g_i_inh)
        out_e.append(s_e)
        out_i.append(s_i)
        states.append((exc, inh))
    return torch.stack(out_e), torch.stack(out_i), states


def _run_recorded(net: EINetwork, steps: int, *, seed: int = 11, compile: bool = False):
    keys = ("input_spikes", "exc_spikes", "inh_spikes", "exc_state", "inh_state")
    mons = {k: Keep() for k in keys}
    counts = net.run(
        _rates(),
        steps * net.dt_ms,
        generator=torch.Generator().manual_seed(seed),
        monitors=mons,
        compile=compile,
    )
    return counts, mons


def _assert_matches_reference(net: EINetwork, steps: int = 300) -> None:
    counts, mons = _run_recorded(net, steps)
    ref_e, ref_i, ref_states = _reference(net, mons["input_spikes"].items)
    got_e, got_i = torch.stack(mons["exc_spikes"].items), torch.stack(mons["inh_spikes"].items)
    assert ref_e.sum() > 20 and ref_i.sum() > 5, "the test network should fire"
    assert torch.equal(got_e, ref_e) and torch.equal(got_i, ref_i)
    # the state at the start of step t + 1 is the reference's state after step t
    for pop, key in ((0, "exc_state"), (1, "inh_state")):
        for name in ("v_mV", "g_exc", "g_inh"):
            got = torch.stack([s[name] for s in mons[key].items[1:]])
            want = torch.stack([getattr(states[pop], name) for states in ref_states[:-1]])
            torch.testing.assert_close(got, want, rtol=0, atol=1e-9, msg=f"{key} {name}")
    torch.testing.assert_close(counts.exc, ref_e.sum(0), rtol=0, atol=0)
    torch.testing.assert_close(counts.inh, ref_i.sum(0), rtol=0, atol=0)


def test_fused_step_equals_the_reference_step_on_w1_topology():
    _assert_matches_reference(_small())


def test_general_and_all_to_all_connections_equal_the_reference():
    net = _small(
        exc_to_exc=Connection((0.0, 0.4), "fixed_probability", p=0.5),
        inh_to_inh=Connection(0.5, "all_to_all"),
        exc_to_inh=Connection((2.0, 6.0), "all_to_all"),
    )
    _assert_matches_reference(net)


def test_populations_of_different_sizes_equal_the_reference():
    g = torch.Generator().manual_seed(3)
    net = EINetwork(
        20,
        6,
        4,
        input_to_exc=Connection((0.0, 1.5)),
        exc_to_inh=Connection(3.0, "all_to_all"),
        inh_to_exc=Connection(2.5, "all_to_all"),
        inh_to_inh=Connection((0.0, 1.0), "fixed_probability", p=0.5),
        generator=g,
    ).to(torch.float64)
    _assert_matches_reference(net)


def test_a_lesioned_connection_leaves_the_closed_form_and_still_equals_the_reference():
    net = _small()
    with torch.no_grad():
        net.inh_to_exc.mask[2, 4] = False
        net.exc_to_inh.weight[1, 1] = 3.0
    _assert_matches_reference(net)


def test_ops_are_counted_as_by_hand():
    # inputs 0 and 1 fire every step (p = 1), input 2 never; 2 samples, 4 steps
    net = EINetwork(3, 2, 2, dt_ms=0.5, input_to_exc=Connection(40.0))
    rates = torch.tensor([[2000.0, 2000.0, 0.0], [2000.0, 2000.0, 0.0]])
    with count_ops() as ops:
        counts = net.run(rates, 2.0, generator=torch.Generator().manual_seed(0))
    n_e, n_i = float(counts.exc.sum()), float(counts.inh.sum())
    assert n_e > 0 and n_i > 0
    steps, batch = 4, 2
    assert ops.neuron_updates == steps * batch * (2 + 2)
    dense = steps * batch * (3 * 2) + steps * batch * (2 * 2) * 2  # input, E→I, I→E
    assert ops.dense_ac == dense
    # input: 2 inputs × fan-out 2 per step and sample; E→I fan-out 1; I→E (all but self) 1
    assert ops.ac == steps * batch * 2 * 2 + n_e * 1 + n_i * 1
    assert ops.dense_mac == ops.effective_mac == 0


def test_ops_equal_those_synapses_forward_counts():
    net = _small(exc_to_exc=Connection((0.0, 0.4), "fixed_probability", p=0.5))
    steps = 80
    with count_ops() as ops:
        _, mons = _run_recorded(net, steps)
    with count_ops() as ref:
        _reference(net, mons["input_spikes"].items)
    assert ops.dense_ac == ref.dense_ac
    assert ops.ac == pytest.approx(ref.ac, abs=1e-6)
    assert ops.neuron_updates == steps * 3 * (6 + 6)


def test_same_generator_gives_the_same_counts_and_another_differs():
    net = _small()

    def run(seed):
        return net.run(_rates(), 100.0, generator=torch.Generator().manual_seed(seed))

    a, b, c = run(1), run(1), run(2)
    assert torch.equal(a.exc, b.exc) and torch.equal(a.inh, b.inh)
    assert not torch.equal(a.exc, c.exc)


def test_spike_monitor_from_brain_monitors_sees_every_spike():
    net = _small()
    mon = SpikeMonitor(6, dt_ms=net.dt_ms)
    counts = net.run(
        _rates(), 60.0, generator=torch.Generator().manual_seed(4), monitors={"exc_spikes": mon}
    )
    assert torch.equal(mon.counts.to(counts.exc.dtype), counts.exc)


def test_w1_has_the_peer_topology():
    w_in = torch.rand(784, 400, generator=torch.Generator().manual_seed(0)) * 0.3
    net = EINetwork.w1(w_in=w_in)
    assert torch.equal(net.input_to_exc.weight, w_in.T)
    eye = torch.eye(400, dtype=torch.bool)
    assert torch.equal(net.exc_to_inh.mask, eye) and torch.equal(net.inh_to_exc.mask, ~eye)
    assert float(net.exc_to_inh.weight.detach()[0, 0]) == pytest.approx(10.4)
    assert float(net.inh_to_exc.weight.detach()[0, 1]) == 17.0
    assert net.dt_ms == 0.5 and net.exc_params.tau_m_ms == 100.0
    assert net.inh_params == LIFConductanceParams.diehl_cook_inhibitory()


def test_poisson_events_fire_at_the_asked_rates():
    p = torch.tensor([[0.0, 0.01, 0.05, 1.0], [0.2, 0.0, 0.003, 0.5]], dtype=torch.float64)
    source = PoissonEvents(p, torch.Generator().manual_seed(0))
    counts = torch.zeros_like(p)
    steps = 0
    for n in (7, 64, 500, 1429):  # chunks of different lengths
        rows, inputs = source.draw(n)
        assert bool((rows[1:] * 4 + inputs[1:] > rows[:-1] * 4 + inputs[:-1]).all())  # sorted
        counts.index_put_((rows % 2, inputs), torch.ones(len(rows), dtype=p.dtype), accumulate=True)
        steps += n
    assert counts[0, 0] == 0 and counts[1, 1] == 0 and counts[0, 3] == steps
    sd = torch.sqrt(steps * p * (1 - p))
    assert bool(((counts - steps * p).abs() <= 5 * sd + 1e-9).all()), (counts, steps * p)


@pytest.mark.parametrize(
    ("rates", "error", "words"),
    [
        (torch.zeros(2, 19), DataError, "shape"),
        (torch.full((2, 20), math.nan), DataError, "NaN"),
        (torch.full((2, 20), -1.0), DataError, ">= 0"),
        (torch.full((2, 20), 2500.0), DataError, "probability"),
        (torch.zeros(2, 20, dtype=torch.bool), DataError, "dtype"),
        ("fast", DataError, "rates_hz"),
    ],
)
def test_bad_rates_are_refused_in_one_line(rates, error, words):
    with pytest.raises(error, match=words) as info:
        _small().run(rates, 10.0, generator=torch.Generator())
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"duration_ms": 0.1}, "duration_ms"),
        ({"duration_ms": math.inf}, "duration_ms"),
        ({"generator": 3}, "generator"),
        ({"monitors": {"voltage": Keep()}}, "monitor key"),
        ({"monitors": {"exc_spikes": object()}}, "record"),
    ],
)
def test_bad_run_options_are_refused(kwargs, words):
    args = {"duration_ms": 10.0, "generator": torch.Generator(), **kwargs}
    with pytest.raises(ConfigError, match=words) as info:
        _small().run(_rates(), **args)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: EINetwork(20, 6, 5), "pre == post"),
        (lambda: EINetwork(20, 6, 6, w_in=torch.zeros(6, 20)), "w_in"),
        (lambda: EINetwork(20, 6, 6, w_in=-torch.ones(20, 6)), "w_in"),
        (lambda: EINetwork(0, 6, 6), "n_in"),
        (lambda: EINetwork(20, 6, 6, exc_to_inh=Connection(-1.0, "one_to_one")), "weight"),
        (
            lambda: EINetwork(20, 6, 6, exc_params=LIFConductanceParams(integration="euler")),
            "exponential_euler",
        ),
        (lambda: EINetwork(20, 6, 6, inh_params=LIFConductanceParams(theta_plus_mV=1)), "theta"),
        (lambda: EINetwork(20, 6, 6, dt_ms=20.0), "dt_ms"),
    ],
)
def test_bad_networks_are_refused(make, words):
    with pytest.raises(ConfigError, match=words) as info:
        make()
    assert "\n" not in str(info.value)


def test_half_precision_is_refused():
    net = EINetwork(20, 6, 6).to(torch.float16)
    with pytest.raises(ConfigError, match="float32 or float64"):
        net.run(_rates(), 10.0, generator=torch.Generator())


def test_float32_runs_and_counts_are_float32():
    net = EINetwork(20, 6, 6, input_to_exc=Connection((0.0, 1.5)))
    counts = net.run(_rates(), 50.0, generator=torch.Generator().manual_seed(0))
    assert counts.exc.dtype == torch.float32 and counts.exc.shape == (3, 6)
    assert float(counts.exc.sum()) > 0


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_compiled_step_gives_the_same_spikes_as_the_eager_one(dtype):
    net = _small(exc_to_exc=Connection((0.0, 0.4), "fixed_probability", p=0.5)).to(dtype)
    eager, mons_eager = _run_recorded(net, 300)
    compiled, mons_compiled = _run_recorded(net, 300, compile=True)
    assert net.compile_seconds is not None and net.compile_seconds > 0
    assert torch.equal(eager.exc, compiled.exc) and torch.equal(eager.inh, compiled.inh)
    got = torch.stack([s["v_mV"] for s in mons_compiled["exc_state"].items])
    want = torch.stack([s["v_mV"] for s in mons_eager["exc_state"].items])
    assert torch.equal(got, want)  # the same rounding, step by step


@pytest.mark.slow
def test_compiling_for_several_batch_sizes_never_hits_the_recompile_limit(monkeypatch):
    monkeypatch.setattr(torch._dynamo.config, "recompile_limit", 1)
    net = _small()
    for batch in (3, 2):
        rates = _rates()[:batch]
        eager = net.run(rates, 50.0, generator=torch.Generator().manual_seed(2))
        compiled = net.run(rates, 50.0, generator=torch.Generator().manual_seed(2), compile=True)
        assert torch.equal(eager.exc, compiled.exc) and torch.equal(eager.inh, compiled.inh)
