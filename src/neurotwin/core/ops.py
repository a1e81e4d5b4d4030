"""Operation counting and energy, with NeuroBench's definitions (Yik et al., 2024/2025).

Inside ``with count_ops() as ops:`` every :class:`~neurotwin.core.synapses.Synapses` forward pass adds
its operations to ``ops``:

- **dense** ops: one per synapse and input sample, masked or not, whatever the input value
  (NeuroBench's Dense: pre × post per sample for every layer the sample goes through);
- **effective** ops: only the unmasked synapses whose presynaptic input is non-zero;
- an op on a binary (spike) input is an accumulate (**AC**), on a real-valued input a
  multiply-accumulate (**MAC**);
- **neuron updates**: one per neuron state update (an activation applied, a membrane step), added by
  the model through :func:`add_neuron_updates`.

Energy (per inference) = effective MAC · 4.6 pJ + effective AC · 0.9 pJ: Horowitz, "Computing's energy
problem", ISSCC 2014, 45 nm, 32-bit floating point (multiply 3.7 pJ + add 0.9 pJ). Neuron updates and
memory traffic are not costed. These constants live here and nowhere else.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import asdict, dataclass

#: Energy of one 32-bit floating-point multiply-accumulate at 45 nm, in picojoules (Horowitz 2014).
PJ_PER_MAC = 4.6
#: Energy of one 32-bit floating-point accumulate (add) at 45 nm, in picojoules (Horowitz 2014).
PJ_PER_AC = 0.9
ENERGY_SOURCE = "Horowitz, ISSCC 2014, 45 nm, fp32: MAC 4.6 pJ, AC 0.9 pJ"


@dataclass
class OpCounts:
    """Operation totals over every sample counted; :meth:`per_inference` divides by the samples."""

    dense_mac: float = 0.0
    effective_mac: float = 0.0
    dense_ac: float = 0.0  #: dense accumulates (spike inputs), masked synapses included
    ac: float = 0.0  #: effective accumulates (on non-zero spike inputs)
    neuron_updates: float = 0.0

    def per_inference(self, n: int) -> dict[str, float]:
        """Counts divided by the ``n`` samples that went through the model, as a plain dict."""
        if n <= 0:
            raise ValueError(f"per_inference needs a positive number of samples, got {n}")
        return {k: v / n for k, v in asdict(self).items()}


_ACTIVE: contextvars.ContextVar[OpCounts | None] = contextvars.ContextVar("nt_ops", default=None)


@contextlib.contextmanager
def active(var: contextvars.ContextVar, value):
    """Make ``value`` the one ``var`` holds inside the block (an inner block replaces an outer)."""
    token = var.set(value)
    try:
        yield value
    finally:
        var.reset(token)


def count_ops() -> contextlib.AbstractContextManager[OpCounts]:
    """Count the operations of every forward pass inside the block (nesting replaces the outer)."""
    return active(_ACTIVE, OpCounts())


def active_counter() -> OpCounts | None:
    """The counter of the innermost :func:`count_ops` block, or ``None`` outside any."""
    return _ACTIVE.get()


def add_synaptic_ops(*, dense: float, effective: float, spikes: bool) -> None:
    """Record synaptic operations: ACs when the input is spikes, MACs otherwise."""
    counts = _ACTIVE.get()
    if counts is None:
        return
    if spikes:
        counts.dense_ac += dense
        counts.ac += effective
    else:
        counts.dense_mac += dense
        counts.effective_mac += effective


def add_neuron_updates(n: float) -> None:
    """Record ``n`` neuron state updates (e.g. ``batch × n_neurons`` for one activation)."""
    counts = _ACTIVE.get()
    if counts is not None:
        counts.neuron_updates += n


def energy_nj(per_inference: dict[str, float]) -> float:
    """Energy in nanojoules of per-inference counts (as returned by :meth:`OpCounts.per_inference`)."""
    return (per_inference["effective_mac"] * PJ_PER_MAC + per_inference["ac"] * PJ_PER_AC) / 1000.0
