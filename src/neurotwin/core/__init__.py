"""The few pieces both worlds share: :class:`Synapses`, the op counter, seeding and devices."""

from neurotwin.core.device import resolve_device
from neurotwin.core.ops import PJ_PER_AC, PJ_PER_MAC, OpCounts, count_ops, energy_nj
from neurotwin.core.seeding import derive_seed, torch_generator
from neurotwin.core.synapses import PresynapticMeans, Synapses, record_presynaptic_means

__all__ = [
    "PJ_PER_AC",
    "PJ_PER_MAC",
    "OpCounts",
    "PresynapticMeans",
    "Synapses",
    "count_ops",
    "derive_seed",
    "energy_nj",
    "record_presynaptic_means",
    "resolve_device",
    "torch_generator",
]
