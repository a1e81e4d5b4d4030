"""The few pieces both worlds share: :class:`Synapses`, the op counter, seeding and devices."""

from neurotwin.core.device import resolve_device
from neurotwin.core.ops import PJ_PER_AC, PJ_PER_MAC, OpCounts, count_ops
from neurotwin.core.seeding import derive_seed, numpy_rng, torch_generator
from neurotwin.core.synapses import Synapses

__all__ = [
    "PJ_PER_AC",
    "PJ_PER_MAC",
    "OpCounts",
    "Synapses",
    "count_ops",
    "derive_seed",
    "numpy_rng",
    "resolve_device",
    "torch_generator",
]
