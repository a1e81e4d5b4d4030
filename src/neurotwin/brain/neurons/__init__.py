"""Neuron models: pure step functions of batch-first tensors, wrapped by modules with two step modes."""

from neurotwin.brain.neurons.base import NeuronGroup
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

__all__ = [
    "LIF",
    "ConductanceLIF",
    "LIFConductanceParams",
    "LIFConductanceState",
    "LIFParams",
    "LIFState",
    "NeuronGroup",
    "lif_conductance_step",
    "lif_step",
]
