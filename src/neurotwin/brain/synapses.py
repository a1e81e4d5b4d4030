"""Synaptic transmission for spiking networks: spikes through a :class:`~neurotwin.core.Synapses`.

**Transmission** (:func:`propagate`): the 0/1 spikes of a step deliver the summed weights::

    s_i(t) = Σ_j spikes_j(t) · e_j(t) · W_ij · M_ij        spikes: (batch, pre), s: (batch, post)

with W the ``weight`` (post, pre), M the boolean ``mask`` and e_j an optional release efficacy
(short-term plasticity, :mod:`neurotwin.brain.short_term`; 1 without). Operations are counted as
NeuroBench's (:mod:`neurotwin.core.ops`): dense = batch · pre · post, effective = the unmasked synapses
leaving the inputs that spiked; accumulates (AC) for plain spikes, multiply-accumulates (MAC) when an
efficacy scales them.

**Projections** (:class:`CurrentProjection`, :class:`ConductanceProjection`) hold a ``Synapses``, so
lesions, pruning, plasticity and op counting act on them. They obey Dale's law: the presynaptic
population has one sign (+1 excitatory, −1 inhibitory), weights are non-negative magnitudes (the
``Synapses`` has ``w_min = 0``, so ``apply_dw_`` can never flip a sign) and the sign is applied on
delivery. Connectivity (:func:`connect`): all-to-all, fixed probability p, one-to-one, all-but-self.

**Delays** (Brian2's convention of whole steps): a delay of ``delay_ms`` is ``d = round(delay_ms /
dt_ms)`` steps (nearest step, ties to even, as :func:`~neurotwin.brain.neurons.base.steps_of`); a delay
shorter than one step is refused, so a spike never acts in the step that emitted it. Spikes sent at
step t arrive at step t + d through a ring buffer of shape (max_delay_steps, batch, post).

**A step**, for a projection ``proj`` onto a group ``group``::

    current = proj.current()         # what arrives at step t (nA), CurrentProjection
    spikes = group(current)          # the postsynaptic update of step t
    proj.send(pre_spikes)            # presynaptic spikes of step t, arriving at t + d; t ← t + 1

(:meth:`ConductanceProjection.deliver` adds the arrivals to the group's g_exc or g_inh instead.)
"""

from __future__ import annotations

import math
import weakref

import torch
from torch import nn

from neurotwin.brain.neurons.base import check_positive, steps_of
from neurotwin.brain.short_term import ShortTermPlasticity, TsodyksMarkramParams
from neurotwin.core import ops as _ops
from neurotwin.core.synapses import Synapses
from neurotwin.errors import ConfigError, DataError, shown

#: Below this fraction of non-zero spike entries :func:`propagate` takes the event-driven path
#: (gather the rows of the presynaptic neurons that fired), at or above it a dense matmul. A fixed
#: number, so the path (and the float summation order) never depends on timing.
EVENT_DRIVEN_MAX_DENSITY = 0.05

RULES = ("all_to_all", "fixed_probability", "one_to_one", "all_but_self")
SIGNS = {"excitatory": 1, "inhibitory": -1, 1: 1, -1: -1}


# --- transmission -------------------------------------------------------------------------------


class _Effective:
    """The transposed effective weight (pre, post), contiguous, and the fan-out (pre,) of a layer,
    recomputed only when the weight or mask changes (their storage or in-place version).

    ``sources`` holds the weight and mask storages the entry was made from, so that no new tensor
    can be allocated at their addresses while the entry is in use (a stale hit)."""

    __slots__ = ("key", "sources", "weight_t", "fan_out")

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.sources: tuple[torch.Tensor, ...] = ()
        self.weight_t = torch.empty(0)
        self.fan_out = torch.empty(0)


_CACHE: weakref.WeakKeyDictionary[Synapses, _Effective] = weakref.WeakKeyDictionary()


def _effective(synapses: Synapses) -> _Effective:
    w, m = synapses.weight, synapses.mask
    key = (w.data_ptr(), w._version, w.dtype, w.device, m.data_ptr(), m._version)
    entry = _CACHE.get(synapses)
    if entry is None:
        entry = _CACHE[synapses] = _Effective()
    if entry.key != key:
        w, m = w.detach(), m.detach()  # no no_grad decorator: it costs more than a cache hit
        entry.weight_t = (w * m).T.contiguous()
        entry.fan_out = m.sum(0).to(w.dtype)
        entry.key, entry.sources = key, (w, m)
    return entry


def _check_shape(name: str, x: torch.Tensor, batch: int | None, n: int, what: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != n:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise DataError(f"{name} has shape {shape}; expected (batch, {what}) with {what} = {n}")
    if batch is not None and x.shape[0] != batch:
        raise DataError(f"{name} has batch {x.shape[0]}; expected {batch} (as the spikes)")


def _binary_error() -> DataError:
    return DataError("spikes must be 0/1 (or bool); found other values (NaN or a graded input?)")


def _events(synapses: Synapses, spikes: torch.Tensor, efficacy: torch.Tensor | None):
    """(sample, neuron) of every spike and the rows (k, post) of W·M (× efficacy) they deliver."""
    sample, neuron = spikes.nonzero(as_tuple=True)
    if spikes.dtype != torch.bool and bool((spikes[sample, neuron] != 1).any()):
        raise _binary_error()
    rows = _effective(synapses).weight_t.index_select(0, neuron)
    if efficacy is not None:
        rows = rows * efficacy[sample, neuron].unsqueeze(1)
    return sample, neuron, rows


def _count(synapses: Synapses, batch: int, fan_in: torch.Tensor, scaled: bool) -> None:
    """Add dense = batch·pre·post and effective = Σ fan-out of the spikes (``fan_in``) ops."""
    dense = float(batch) * synapses.pre * synapses.post
    _ops.add_synaptic_ops(dense=dense, effective=float(fan_in), spikes=not scaled)


def propagate(
    synapses: Synapses, spikes: torch.Tensor, *, efficacy: torch.Tensor | None = None
) -> torch.Tensor:
    """The summed effective weights the spikes deliver, ``spikes @ (weight * mask).T``, (batch, post).

    Args:
        synapses: the connection (``weight`` (post, pre), ``mask``); its bias is not added.
        spikes: 0/1 (float or bool) spikes of the presynaptic neurons, shape (batch, pre).
        efficacy: optional release efficacy e (batch, pre) that scales each spike (short-term
            plasticity); the ops are then counted as MACs instead of ACs.

    Returns:
        s (batch, post) in the weight's dtype and device: s_i = Σ_j spikes_j · e_j · W_ij · M_ij.

    When fewer than :data:`EVENT_DRIVEN_MAX_DENSITY` of the entries of ``spikes`` are non-zero, the
    rows of the transposed effective weight of every (sample, presynaptic) pair that fired are
    gathered and added with ``index_add_``; otherwise a dense matmul. Both give the same sums up to
    float summation order. The transposed effective weight is cached per layer and recomputed when
    ``weight`` or ``mask`` is changed in place or replaced (``apply_dw_``, lesions, ``.to()``);
    a write through ``weight.data`` bypasses the version counter and is not seen.

    Transmission carries no gradient (weights learn through local plasticity and ``apply_dw_``), and
    a mean-ablated layer's ``ablation_drive`` is not added. Inside ``with count_ops():`` adds
    dense = batch·pre·post and effective = Σ over spikes of the unmasked fan-out, as
    ``Synapses.forward(x, spikes=True)``.
    """
    _check_shape("spikes", spikes, None, synapses.pre, "pre")
    spikes, batch = spikes.detach(), spikes.shape[0]
    if efficacy is not None:
        _check_shape("efficacy", efficacy, batch, synapses.pre, "pre")
        efficacy = efficacy.detach()
    eff = _effective(synapses)
    n_active = int(torch.count_nonzero(spikes))
    counting = _ops.active_counter() is not None
    if n_active < EVENT_DRIVEN_MAX_DENSITY * spikes.numel():
        sample, neuron, rows = _events(synapses, spikes, efficacy)
        out = torch.zeros(batch, synapses.post, dtype=rows.dtype, device=rows.device)
        out.index_add_(0, sample, rows)
        if counting:
            _count(synapses, batch, eff.fan_out.index_select(0, neuron).sum(), efficacy is not None)
        return out
    if spikes.dtype != torch.bool:
        # values in [0, 1] that sum to their count of non-zeros are all 0 or 1 (NaN fails aminmax)
        lo, hi = torch.aminmax(spikes)
        if not (lo >= 0 and hi <= 1 and spikes.sum(dtype=torch.float64) == n_active):
            raise _binary_error()
    x = spikes.to(eff.weight_t.dtype)
    if counting:
        _count(synapses, batch, (x @ eff.fan_out).sum(), efficacy is not None)
    if efficacy is not None:
        x = x * efficacy
    return x @ eff.weight_t


# --- connectivity -------------------------------------------------------------------------------


def connect(
    rule: str,
    pre: int,
    post: int,
    *,
    p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The boolean connectivity mask (post, pre) of ``rule``.

    ``"all_to_all"``: every pair; ``"fixed_probability"``: each pair independently with probability
    ``p`` (drawn from ``generator``); ``"one_to_one"``: i ← i (needs pre == post); ``"all_but_self"``:
    every pair but i ← i (needs pre == post: a population onto itself or an equal-sized peer).
    """
    if rule not in RULES:
        raise ConfigError(f"unknown connectivity {rule!r}; choose one of: {', '.join(RULES)}")
    if rule == "fixed_probability":
        if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ConfigError(f"connectivity 'fixed_probability' needs 0 <= p <= 1, got {shown(p)}")
        return torch.rand(post, pre, generator=generator) < p
    if p is not None:
        raise ConfigError(f"p is only used by connectivity 'fixed_probability', not {rule!r}")
    if rule == "all_to_all":
        return torch.ones(post, pre, dtype=torch.bool)
    if pre != post:
        raise ConfigError(f"connectivity {rule!r} needs pre == post, got pre={pre}, post={post}")
    eye = torch.eye(post, dtype=torch.bool)
    return eye if rule == "one_to_one" else ~eye


# --- projections --------------------------------------------------------------------------------


def _delay_steps(delay_ms: float | None, dt_ms: float) -> int:
    if delay_ms is None:
        return 1
    check_positive("delay_ms", delay_ms)
    if delay_ms < dt_ms * (1 - 1e-9):
        raise ConfigError(
            f"delay_ms = {delay_ms:g} is shorter than one step dt_ms = {dt_ms:g}; transmission "
            "needs a delay of at least one step (use delay_ms >= dt_ms or a smaller dt_ms)"
        )
    return steps_of(delay_ms, dt_ms)


class Projection(nn.Module):
    """Spikes of a ``pre`` population sent through a :class:`Synapses` onto ``post`` neurons, with
    Dale's sign, connectivity, a transmission delay and optional short-term plasticity.

    Args:
        pre: presynaptic population size.
        post: postsynaptic population size.
        weight: the initial weight magnitude(s) (≥ 0): one number, or ``(low, high)`` for a uniform
            draw from ``generator``. Units are the subclass's (nA or leak-conductance units).
        dt_ms: the simulation step, in ms.
        sign: ``"excitatory"`` (+1) or ``"inhibitory"`` (−1): the sign of every outgoing synapse.
        connectivity: a rule of :func:`connect` (``p`` for ``"fixed_probability"``).
        w_max: optional upper bound of the weights under plasticity (the lower bound is 0).
        delay_ms: the transmission delay (rounded to whole steps, at least one step); ``None`` is one
            step.
        delay_steps: optional per-synapse delays, an integer tensor (post, pre) of whole steps ≥ 1
            (instead of ``delay_ms``).
        stp: optional Tsodyks–Markram short-term plasticity (:mod:`neurotwin.brain.short_term`).
        kind: the ``Synapses`` kind, ``"dense"`` (feed-forward) or ``"recurrent"``.
        generator: the ``torch.Generator`` for the connectivity and the weights.

    Attributes: ``synapses`` (the :class:`Synapses`), ``sign`` (±1), ``delay`` (the delay in steps;
    the largest one with ``delay_steps``), ``dt_ms``. State (created by :meth:`reset`, or by the
    first :meth:`send`): the ring buffer ``buffer`` (delay, batch, post) and the step counter ``t``.
    """

    def __init__(
        self,
        pre: int,
        post: int,
        *,
        weight: float | tuple[float, float],
        dt_ms: float,
        sign: str | int = "excitatory",
        connectivity: str = "all_to_all",
        p: float | None = None,
        w_max: float | None = None,
        delay_ms: float | None = None,
        delay_steps: torch.Tensor | None = None,
        stp: TsodyksMarkramParams | None = None,
        kind: str = "dense",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        check_positive("dt_ms", dt_ms)
        if isinstance(sign, bool) or not isinstance(sign, (str, int)) or sign not in SIGNS:
            raise ConfigError(
                f"unknown sign {shown(sign)}; choose 'excitatory' (+1) or 'inhibitory' (-1)"
            )
        low, high = weight if isinstance(weight, tuple) else (weight, weight)
        for value in (low, high):
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ConfigError(
                    f"weight {shown(weight)} must be finite magnitudes >= 0 (Dale's law: the sign "
                    "comes from sign='excitatory'/'inhibitory')"
                )
        if high < low or (w_max is not None and not high <= w_max):
            raise ConfigError(f"weight {shown(weight)} must satisfy low <= high <= w_max={w_max}")
        self.dt_ms, self.sign = float(dt_ms), SIGNS[sign]
        self.synapses = Synapses(
            pre, post, kind=kind, bias=False, init="zeros", w_min=0.0, w_max=w_max, pre_spikes=True
        )
        with torch.no_grad():
            self.synapses.mask.copy_(connect(connectivity, pre, post, p=p, generator=generator))
            self.synapses.weight.uniform_(low, high, generator=generator)
        self.delay = _delay_steps(delay_ms, self.dt_ms)
        if delay_steps is None:
            self.register_buffer("delay_steps", None)
        else:
            if delay_ms is not None:
                raise ConfigError(
                    "give delay_ms (one delay) or delay_steps (per synapse), not both"
                )
            ok = isinstance(delay_steps, torch.Tensor) and not delay_steps.is_floating_point()
            ok = ok and delay_steps.dtype != torch.bool and tuple(delay_steps.shape) == (post, pre)
            if not ok or int(delay_steps.min()) < 1:
                got = getattr(delay_steps, "dtype", type(delay_steps).__name__)
                raise ConfigError(
                    f"delay_steps must be an integer tensor (post, pre) = ({post}, {pre}) of whole "
                    f"steps >= 1, got {got} {tuple(getattr(delay_steps, 'shape', ()))}"
                )
            self.register_buffer("delay_steps", delay_steps.to(torch.int64))
            self.delay = int(delay_steps.max())
        self.stp = None if stp is None else ShortTermPlasticity(pre, stp, dt_ms=self.dt_ms)
        self.t = 0
        self.buffer: torch.Tensor | None = None

    @property
    def pre(self) -> int:
        return self.synapses.pre

    @property
    def post(self) -> int:
        return self.synapses.post

    def reset(self, batch: int = 1) -> None:
        """Empty the delay line (and reset short-term plasticity) for ``batch`` samples; t = 0."""
        w = self.synapses.weight
        self.buffer = torch.zeros(self.delay, int(batch), self.post, dtype=w.dtype, device=w.device)
        self.t = 0
        if self.stp is not None:
            self.stp.reset(batch, device=w.device, dtype=w.dtype)

    def arriving(self) -> torch.Tensor:
        """The summed weight magnitudes (batch, post) arriving at the current step (unsigned)."""
        if self.buffer is None:
            raise ConfigError("call reset(batch) before reading a projection: it has no state yet")
        return self.buffer[self.t % self.delay].clone()

    def send(self, spikes: torch.Tensor) -> None:
        """Transmit the presynaptic spikes (batch, pre) of the current step to arrive ``delay``
        steps later (per synapse with ``delay_steps``), then advance one step."""
        _check_shape("spikes", spikes, None, self.pre, "pre")
        buffer = self.buffer
        if buffer is None or buffer.shape[1] != spikes.shape[0]:
            self.reset(spikes.shape[0])
            buffer = self.buffer
        head = self.t % self.delay
        buffer[head].zero_()  # consumed at this step; a delay of max steps writes here again
        efficacy = None if self.stp is None else self.stp.release(spikes)
        if self.delay_steps is None:  # the buffer is ``delay`` long: slot head + d is head
            buffer[head] += propagate(self.synapses, spikes, efficacy=efficacy)
        else:
            self._send_per_synapse(spikes, efficacy, head)
        self.t += 1

    def _send_per_synapse(self, spikes, efficacy, head: int) -> None:
        # every delivered row element goes to its own slot: one flat index_add_ over the events
        sample, neuron, rows = _events(self.synapses, spikes, efficacy)
        delays = self.delay_steps.T.index_select(0, neuron)  # (k, post)
        batch, post = spikes.shape[0], self.post
        slot = (head + delays) % self.delay
        target = slot * (batch * post) + (sample * post).unsqueeze(1)
        target = target + torch.arange(post, device=target.device)
        self.buffer.view(-1).index_add_(0, target.reshape(-1), rows.reshape(-1))
        if _ops.active_counter() is not None:
            fan_out = _effective(self.synapses).fan_out
            _count(
                self.synapses, batch, fan_out.index_select(0, neuron).sum(), efficacy is not None
            )

    def extra_repr(self) -> str:
        return f"sign={self.sign:+d}, delay={self.delay} steps, dt_ms={self.dt_ms:g}"


class CurrentProjection(Projection):
    """A current-based projection: arriving spikes add w (nA) to a synaptic current (Gerstner et
    al., *Neuronal Dynamics*, 2014, sec. 3.1), with the presynaptic population's sign σ = ±1::

        I_syn(t) = I_syn(t − 1) · exp(−dt / τ_syn) + σ · a(t)     (nA; τ_syn = ``tau_syn_ms``)

    where a(t) is what arrives at step t (:meth:`Projection.arriving`). ``tau_syn_ms=None`` gives a
    delta synapse: I_syn(t) = σ · a(t), a current pulse lasting one step. Other arguments: see
    :class:`Projection`.
    """

    def __init__(self, pre: int, post: int, *, tau_syn_ms: float | None = 5.0, **kwargs) -> None:
        super().__init__(pre, post, **kwargs)
        if tau_syn_ms is not None:
            check_positive("tau_syn_ms", tau_syn_ms)
        self.tau_syn_ms = tau_syn_ms
        self.decay = 0.0 if tau_syn_ms is None else math.exp(-self.dt_ms / tau_syn_ms)
        self.i_syn_nA: torch.Tensor | None = None
        self._i_step = -1

    def reset(self, batch: int = 1) -> None:
        super().reset(batch)
        self.i_syn_nA = torch.zeros_like(self.buffer[0])
        self._i_step = -1

    def current(self) -> torch.Tensor:
        """The synaptic current I_syn (batch, post) in nA at the current step (once per step)."""
        if self._i_step != self.t:
            if self.buffer is None:
                self.arriving()  # raises the "call reset" error
            self.i_syn_nA = self.i_syn_nA * self.decay + self.sign * self.arriving()
            self._i_step = self.t
        return self.i_syn_nA

    def send(self, spikes: torch.Tensor) -> None:
        if self.buffer is not None and self.buffer.shape[1] == spikes.shape[0]:
            self.current()  # the current of a step is integrated once, whether it is read or not
        super().send(spikes)

    def step(self, spikes: torch.Tensor) -> torch.Tensor:
        """``current()`` then ``send(spikes)``: the current (batch, post) of this step, in nA,
        for presynaptic spikes known in advance (an input layer); they arrive ``delay`` steps later."""
        if self.buffer is None or self.buffer.shape[1] != spikes.shape[0]:
            self.reset(spikes.shape[0])
        current = self.current()
        self.send(spikes)
        return current


class ConductanceProjection(Projection):
    """A conductance-based projection (Diehl & Cook 2015): arriving spikes add w (dimensionless, in
    units of the leak conductance) to the target's g_exc (excitatory population) or g_inh
    (inhibitory population), which then decay in the target
    (:class:`~neurotwin.brain.neurons.lif.ConductanceLIF`)::

        g_exc ← g_exc + a(t)   (sign +1)          g_inh ← g_inh + a(t)   (sign −1)

    Other arguments: see :class:`Projection`.
    """

    def deliver(self, group) -> None:
        """Add what arrives at the current step to ``group``'s g_exc or g_inh (``receive``)."""
        if getattr(group, "n", None) != self.post or not hasattr(group, "receive"):
            raise ConfigError(
                f"deliver needs a conductance group of n = {self.post} neurons with receive(), "
                f"got {type(group).__name__} of n = {getattr(group, 'n', None)}"
            )
        arriving = self.arriving()
        if self.sign > 0:
            group.receive(g_exc=arriving)
        else:
            group.receive(g_inh=arriving)
