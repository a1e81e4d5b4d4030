"""Every neuron model's multi-step path (the whole sequence in one call) gives exactly the spikes
(or rates) and final state of a loop of single steps."""

import pytest
import torch

from neurotwin.brain.neurons import (
    LIF,
    ConductanceLIF,
    HodgkinHuxley,
    Izhikevich,
    IzhikevichParams,
    LIFConductanceParams,
    LIFParams,
    RateNeuron,
    RateParams,
)

MODELS = {
    "lif": lambda mode: LIF(5, LIFParams(theta_plus_mV=0.5, tau_theta_ms=50.0), step_mode=mode),
    "lif_euler": lambda mode: LIF(5, LIFParams(integration="euler"), step_mode=mode),
    "conductance_lif": lambda mode: ConductanceLIF(
        5, LIFConductanceParams.diehl_cook_inhibitory(), step_mode=mode
    ),
    "izhikevich_rk4": lambda mode: Izhikevich(5, IzhikevichParams.chattering(), step_mode=mode),
    "izhikevich_euler": lambda mode: Izhikevich(
        5, IzhikevichParams(integration="euler"), dt_ms=0.1, step_mode=mode
    ),
    "hodgkin_huxley": lambda mode: HodgkinHuxley(5, dt_ms=0.05, step_mode=mode),
    "rate": lambda mode: RateNeuron(5, RateParams(activation="tanh"), step_mode=mode),
}
SCALE = {"lif": 3.0, "lif_euler": 3.0, "conductance_lif": 6.0, "hodgkin_huxley": 30.0}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("model", MODELS)
def test_multi_step_equals_a_loop_of_single_steps(model, dtype):
    generator = torch.Generator().manual_seed(0)
    currents = torch.rand(400, 3, 5, generator=generator, dtype=dtype) * SCALE.get(model, 20.0)
    single, multi = MODELS[model]("s"), MODELS[model]("m")
    single.reset(3, dtype=dtype)
    multi.reset(3, dtype=dtype)
    looped = torch.stack([single(currents[t]) for t in range(currents.shape[0])])
    at_once = multi(currents)
    assert looped.shape == at_once.shape == currents.shape
    if model != "rate":
        assert looped.sum() > 0  # the inputs do make the neurons spike
    assert torch.equal(looped, at_once)
    for a, b in zip(single.state, multi.state, strict=True):
        assert torch.equal(a, b)
