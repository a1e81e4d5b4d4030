"""Associative long-term memory: the classical Hopfield network (Hebbian and Storkey rules) and
dense associative memories (the modern continuous Hopfield network, Krotov & Hopfield 2016)."""

from neurotwin.brain.memory.hopfield import (
    MODES,
    RULES,
    Hopfield,
    Recall,
    async_sweep,
    hebbian_weights,
    hopfield_energy,
    overlap,
    storkey_weights,
    sync_update,
    update_unit,
)
from neurotwin.brain.memory.modern_hopfield import (
    INTERACTIONS,
    ModernHopfield,
    ModernRecall,
    dense_associative_step,
    modern_hopfield_energy,
    modern_hopfield_step,
)

__all__ = [
    "INTERACTIONS",
    "MODES",
    "RULES",
    "Hopfield",
    "ModernHopfield",
    "ModernRecall",
    "Recall",
    "async_sweep",
    "dense_associative_step",
    "hebbian_weights",
    "hopfield_energy",
    "modern_hopfield_energy",
    "modern_hopfield_step",
    "overlap",
    "storkey_weights",
    "sync_update",
    "update_unit",
]
