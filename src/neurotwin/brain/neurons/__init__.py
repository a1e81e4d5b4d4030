"""Neuron models: pure step functions of batch-first tensors, wrapped by modules with two step modes."""

from neurotwin.brain.neurons.base import NeuronGroup
from neurotwin.brain.neurons.hodgkin_huxley import (
    HodgkinHuxley,
    HodgkinHuxleyParams,
    HodgkinHuxleyState,
    hodgkin_huxley_step,
)
from neurotwin.brain.neurons.izhikevich import (
    Izhikevich,
    IzhikevichParams,
    IzhikevichState,
    izhikevich_step,
)
from neurotwin.brain.neurons.lif import (
    LIF,
    ConductanceLIF,
    LIFConductanceParams,
    LIFConductanceState,
    LIFParams,
    LIFState,
    lif_conductance_step,
    lif_step,
)
from neurotwin.brain.neurons.rate import RateNeuron, RateParams, RateState, rate_step

__all__ = [
    "LIF",
    "ConductanceLIF",
    "HodgkinHuxley",
    "HodgkinHuxleyParams",
    "HodgkinHuxleyState",
    "Izhikevich",
    "IzhikevichParams",
    "IzhikevichState",
    "LIFConductanceParams",
    "LIFConductanceState",
    "LIFParams",
    "LIFState",
    "NeuronGroup",
    "RateNeuron",
    "RateParams",
    "RateState",
    "hodgkin_huxley_step",
    "izhikevich_step",
    "lif_conductance_step",
    "lif_step",
    "rate_step",
]
