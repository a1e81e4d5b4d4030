"""A batched network of excitatory and inhibitory conductance LIF neurons driven by Poisson inputs,
in the topology of Diehl & Cook (2015, *Front. Comput. Neurosci.* 9:99); :meth:`EINetwork.w1` is the
W1 workload exactly (``shared/peers/w1_lif_inference.py``).

**Cells.** ``n_exc`` excitatory (E) and ``n_inh`` inhibitory (I) conductance LIF cells
(:func:`~neurotwin.brain.neurons.lif.lif_conductance_step`; Diehl & Cook's parameters by default),
v in mV, t in ms, conductances dimensionless (in units of the leak conductance)::

    τ_m dv/dt = (v_rest − v) + g_e (E_exc − v) + g_i (E_inh − v)
    τ_e dg_e/dt = −g_e          τ_i dg_i/dt = −g_i

**Connections**, each a :class:`~neurotwin.core.Synapses` (``pre_spikes=True``, weights are
dimensionless conductance increments ≥ 0), so op counting, lesions and plasticity act on them:
input → E (all-to-all), E → I, I → E, and optionally E → E and I → I, each with a connectivity rule of
:func:`~neurotwin.brain.synapses.connect`. A spike of an input or an E cell adds w_ij to g_e of its
targets, a spike of an I cell adds w_ij to g_i (Dale's law by population).

**Input.** Input j of sample b fires in a step with probability p_bj = rate_bj · dt / 1000 (rate in
Hz, dt in ms), independently in every step, as Brian2's ``PoissonGroup``.

**A step of dt**, in Brian2's schedule and the order of W1's ``torch_loop``:

1. every cell is integrated from the values at the start of the step: exponential Euler (exact while
   the conductances are frozen over the step), v ← v_∞ + (v − v_∞)·exp(−dt·g_tot/τ_m) with
   g_tot = 1 + g_e + g_i and v_∞ = (v_rest + g_e E_exc + g_i E_inh)/g_tot; a refractory cell keeps
   its v; the conductances decay exactly, g ← g·exp(−dt/τ);
2. threshold and reset: a cell with v > v_thresh fires, v ← v_reset, and is held there until it
   integrates again R = round(t_ref/dt) steps after its spike, so v stays at v_reset for exactly
   t_ref (as Brian2 and :func:`~neurotwin.brain.neurons.lif.lif_conductance_step`; W1's torch_loop
   holds one step longer, which changes its E spike counts by less than their noise);
3. propagation: this step's spikes (recurrent and input) add their weights to the conductances,
   which act from the next step.

**How it runs fast** (the speed targets are W1's plain PyTorch loop and Brian2):

- the E and I cells share one set of ``(batch, n_exc + n_inh)`` state tensors with per-column
  parameters, so every operation of a step is one kernel for both populations, written in place into
  buffers allocated once per run (no allocation per step); masks are 0/1 floats selected with
  ``lerp`` (vectorised, where bool masks and ``where`` are not);
- E → I one-to-one, I → E all-but-self and all-to-all connections with one weight w are closed forms
  (w·s_i, w·(Σ_j s_j − s_i), w·Σ_j s_j) instead of matrix products; which form applies is read from
  the ``Synapses``' mask and weights at the start of every run (a lesion or a weight change makes
  the connection a general one, sent through :func:`~neurotwin.brain.synapses.propagate`). A closed
  form equals the masked sum Σ_j s_j W_ij M_ij exactly when k·w is a float (W1's 10.4 and 17.0 are),
  otherwise to within float rounding;
- the Poisson inputs are drawn as events, never as a dense (batch, n_in) draw per step: candidate
  spikes at the largest probability p_max are placed by geometric gaps along the (step, sample,
  input) sequence of a chunk of steps, and each is kept with probability p_bj / p_max (thinning:
  independent Bernoulli(p_bj) trials, to the float32 rounding of ln U). Their conductance
  increments are summed with one ``embedding_bag`` per chunk (the rows of W_in of the inputs that
  fired, event-driven). The draws differ from a dense ``rand < p`` per step, so the spikes equal
  W1's torch_loop in distribution, not draw for draw;
- ``compile=True`` runs the per-step state update and the closed-form propagation as one
  ``torch.compile``-d function (compiled once per batch size, device, dtype and structure; the
  compile time is in :attr:`EINetwork.compile_seconds`). It rounds as the eager step (products
  rounded before sums, ATen's exp), so both give the same spikes from the same generator.

**Ops** (:mod:`neurotwin.core.ops`, inside ``with count_ops():``): every step adds
batch·(n_exc + n_inh) neuron updates and, for every connection, dense = batch·pre·post and
effective = Σ over this step's spikes of their unmasked fan-out ACs; a run adds the sums over its
steps at its end (the same totals, without a host synchronisation per step).
"""

from __future__ import annotations

import math
import time
import types
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from neurotwin.brain.neurons.base import steps_of
from neurotwin.brain.neurons.lif import LIFConductanceParams
from neurotwin.brain.poisson import PoissonEvents
from neurotwin.brain.synapses import connect, propagate
from neurotwin.core import ops as _ops
from neurotwin.core.synapses import Synapses
from neurotwin.errors import ConfigError, DataError, shown

#: W1 (``shared/peers/w1_lif_inference.py``): sizes, weights, step and duration.
W1_N_IN, W1_N_EXC, W1_N_INH = 784, 400, 400
W1_W_IN_RANGE, W1_W_EXC_INH, W1_W_INH_EXC = (0.0, 0.3), 10.4, 17.0
W1_DT_MS, W1_DURATION_MS = 0.5, 350.0

#: Elements of the input drive computed per chunk of steps (chunk = this // (batch · n_exc) steps).
DRIVE_CHUNK_ELEMENTS = 1 << 21
MAX_CHUNK_STEPS = 64

#: Steps a run takes at most: step numbers are exact in float32 up to 2**24.
MAX_STEPS = 1 << 24

#: What a monitor can watch: the key of ``run(monitors=...)`` and what its ``record`` receives.
MONITOR_KEYS = ("exc_spikes", "inh_spikes", "input_spikes", "exc_state", "inh_state")


@dataclass(frozen=True)
class Connection:
    """How one population projects onto another.

    ``weight``: one number, or ``(low, high)`` for a uniform draw (dimensionless conductance
    increments ≥ 0); ``rule``: a connectivity rule of :func:`~neurotwin.brain.synapses.connect`
    (``"all_to_all"``, ``"fixed_probability"`` with ``p``, ``"one_to_one"``, ``"all_but_self"``).
    """

    weight: float | tuple[float, float]
    rule: str = "all_to_all"
    p: float | None = None


#: W1's connections (Diehl & Cook 2015's topology).
W1_INPUT = Connection(W1_W_IN_RANGE)
W1_EXC_TO_INH = Connection(W1_W_EXC_INH, "one_to_one")
W1_INH_TO_EXC = Connection(W1_W_INH_EXC, "all_but_self")


class SpikeCounts(NamedTuple):
    """Spikes per cell and sample over a run: ``exc`` (batch, n_exc), ``inh`` (batch, n_inh)."""

    exc: torch.Tensor
    inh: torch.Tensor


# --- the network --------------------------------------------------------------------------------


class _Closed(NamedTuple):
    """A connection as a closed form: ``kind`` one_to_one / all_but_self / all_to_all / silent,
    its weight, the (start, stop) columns of its pre and post cells, and its target ge or gi."""

    kind: str
    weight: float
    pre: tuple[int, int]
    post: tuple[int, int]
    target: str


class _Rows(NamedTuple):
    """Per-column constants (1, n_exc + n_inh) of the stacked E|I state, in the run's dtype."""

    v_rest: torch.Tensor
    e_exc: torch.Tensor | None  # None where every E_exc is 0 mV (the term vanishes)
    e_inh: torch.Tensor | None
    neg_dt_over_tau_m: torch.Tensor
    decay_exc: torch.Tensor
    decay_inh: torch.Tensor
    v_thresh: torch.Tensor
    v_reset: torch.Tensor
    refractory_steps: torch.Tensor


_COMPILED: weakref.WeakKeyDictionary[nn.Module, dict] = weakref.WeakKeyDictionary()


def _check_params(name: str, params: LIFConductanceParams, dt_ms: float) -> None:
    if not isinstance(params, LIFConductanceParams):
        raise ConfigError(f"{name} must be LIFConductanceParams, got {type(params).__name__}")
    params.validate(dt_ms)
    if params.integration != "exponential_euler":
        raise ConfigError(
            f"{name}.integration = {params.integration!r}: the network integrates by "
            "'exponential_euler' only (forward Euler runs away when the I cells fire together)"
        )
    if params.theta_plus_mV:
        raise ConfigError(
            f"{name}.theta_plus_mV = {params.theta_plus_mV:g}: the network has no adaptive "
            "threshold; use theta_plus_mV=0"
        )


class EINetwork(nn.Module):
    """Poisson inputs → E ↔ I conductance LIF cells, batched (see the module docstring).

    Args:
        n_in, n_exc, n_inh: sizes of the input, excitatory and inhibitory populations.
        dt_ms: the integration step, in ms.
        exc_params, inh_params: the cells (default: Diehl & Cook 2015's excitatory / inhibitory).
        input_to_exc, exc_to_inh, inh_to_exc: the connections (default: W1's); ``None`` for none
            but ``input_to_exc``.
        exc_to_exc, inh_to_inh: optional recurrent connections (default: none).
        w_in: optional input weights (n_in, n_exc), W1's orientation, instead of drawing them.
        generator: the ``torch.Generator`` for connectivity and weights drawn here.

    Attributes: the ``Synapses`` ``input_to_exc``, ``exc_to_inh``, ``inh_to_exc``, ``exc_to_exc``,
    ``inh_to_inh`` (``None`` where absent); ``compile_seconds``: the time the last compilation took.
    """

    def __init__(
        self,
        n_in: int = W1_N_IN,
        n_exc: int = W1_N_EXC,
        n_inh: int = W1_N_INH,
        *,
        dt_ms: float = W1_DT_MS,
        exc_params: LIFConductanceParams | None = None,
        inh_params: LIFConductanceParams | None = None,
        input_to_exc: Connection = W1_INPUT,
        exc_to_inh: Connection | None = W1_EXC_TO_INH,
        inh_to_exc: Connection | None = W1_INH_TO_EXC,
        exc_to_exc: Connection | None = None,
        inh_to_inh: Connection | None = None,
        w_in: Any = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        for name, n in (("n_in", n_in), ("n_exc", n_exc), ("n_inh", n_inh)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {shown(n)}")
        if isinstance(dt_ms, bool) or not isinstance(dt_ms, (int, float)):
            raise ConfigError(f"dt_ms must be a number of ms, got {shown(dt_ms)}")
        self.exc_params = exc_params or LIFConductanceParams.diehl_cook_excitatory()
        self.inh_params = inh_params or LIFConductanceParams.diehl_cook_inhibitory()
        _check_params("exc_params", self.exc_params, dt_ms)
        _check_params("inh_params", self.inh_params, dt_ms)
        self.n_in, self.n_exc, self.n_inh, self.dt_ms = n_in, n_exc, n_inh, float(dt_ms)
        if input_to_exc is None:
            raise ConfigError("input_to_exc is required: the inputs are the network's only drive")
        self.input_to_exc = self._synapses("input_to_exc", input_to_exc, n_in, n_exc, generator)
        if w_in is not None:
            self._set_w_in(w_in)
        self.exc_to_inh = self._synapses("exc_to_inh", exc_to_inh, n_exc, n_inh, generator)
        self.inh_to_exc = self._synapses("inh_to_exc", inh_to_exc, n_inh, n_exc, generator)
        self.exc_to_exc = self._synapses("exc_to_exc", exc_to_exc, n_exc, n_exc, generator)
        self.inh_to_inh = self._synapses("inh_to_inh", inh_to_inh, n_inh, n_inh, generator)
        self.compile_seconds: float | None = None

    @classmethod
    def w1(cls, w_in: Any = None, *, generator: torch.Generator | None = None) -> EINetwork:
        """The W1 network: 784 Poisson inputs → 400 E (Diehl & Cook excitatory) and 400 I (D&C
        inhibitory) cells, E → I one-to-one 10.4, I → every other E 17.0, dt 0.5 ms; ``w_in``
        (784, 400) given, or drawn from U(0, 0.3) with ``generator``. Run it for 350 ms."""
        return cls(
            W1_N_IN,
            W1_N_EXC,
            W1_N_INH,
            dt_ms=W1_DT_MS,
            exc_params=LIFConductanceParams.diehl_cook_excitatory(),
            inh_params=LIFConductanceParams.diehl_cook_inhibitory(),
            input_to_exc=W1_INPUT,
            exc_to_inh=W1_EXC_TO_INH,
            inh_to_exc=W1_INH_TO_EXC,
            w_in=w_in,
            generator=generator,
        )

    @staticmethod
    def _synapses(name, conn, pre, post, generator) -> Synapses | None:
        if conn is None:
            return None
        if not isinstance(conn, Connection):
            raise ConfigError(f"{name} must be a Connection or None, got {type(conn).__name__}")
        low, high = conn.weight if isinstance(conn.weight, tuple) else (conn.weight, conn.weight)
        for value in (low, high):
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name}: weight {shown(conn.weight)} must be finite and >= 0")
        if high < low:
            raise ConfigError(f"{name}: weight range {shown(conn.weight)} needs low <= high")
        kind = "dense" if name == "input_to_exc" else "recurrent"
        syn = Synapses(pre, post, kind=kind, bias=False, init="zeros", w_min=0.0, pre_spikes=True)
        with torch.no_grad():
            syn.mask.copy_(connect(conn.rule, pre, post, p=conn.p, generator=generator))
            syn.weight.uniform_(low, high, generator=generator)
        return syn

    def _set_w_in(self, w_in: Any) -> None:
        w = torch.as_tensor(w_in)
        if tuple(w.shape) != (self.n_in, self.n_exc) or not w.is_floating_point():
            raise ConfigError(
                f"w_in has shape {tuple(w.shape)} ({w.dtype}); expected floats (n_in, n_exc) = "
                f"({self.n_in}, {self.n_exc})"
            )
        if not bool(torch.isfinite(w).all()) or bool((w < 0).any()):
            raise ConfigError("w_in must be finite and >= 0 (conductance increments)")
        with torch.no_grad():
            self.input_to_exc.weight.copy_(w.T)

    # --- a run ---------------------------------------------------------------------------------

    def _connections(self):
        """(Synapses, pre columns, post columns, target conductance) of every recurrent one."""
        e, i = (0, self.n_exc), (self.n_exc, self.n_exc + self.n_inh)
        table = (
            (self.exc_to_inh, e, i, "ge"),
            (self.inh_to_exc, i, e, "gi"),
            (self.exc_to_exc, e, e, "ge"),
            (self.inh_to_inh, i, i, "gi"),
        )
        return [row for row in table if row[0] is not None]

    @torch.no_grad()
    def _plan(self) -> tuple[tuple[_Closed, ...], list[Synapses], list]:
        """Split the recurrent connections, as they are now, into closed forms (and their
        ``Synapses``) and general ones ``(synapses, pre slice, post slice, target)``."""
        closed, closed_syn, general = [], [], []
        for syn, pre, post, target in self._connections():
            form = _closed_form(syn)
            if form is None:
                general.append((syn, slice(*pre), slice(*post), target))
            else:
                closed.append(_Closed(form[0], form[1], pre, post, target))
                closed_syn.append(syn)
        return tuple(closed), closed_syn, general

    def _rows(self, device, dtype) -> _Rows:
        pe, pi, ne, ni = self.exc_params, self.inh_params, self.n_exc, self.n_inh

        def row(a: float, b: float) -> torch.Tensor:
            return torch.tensor([a] * ne + [b] * ni, dtype=dtype, device=device).unsqueeze(0)

        dt = self.dt_ms
        e_exc = None if pe.e_exc_mV == pi.e_exc_mV == 0 else row(pe.e_exc_mV, pi.e_exc_mV)
        e_inh = None if pe.e_inh_mV == pi.e_inh_mV == 0 else row(pe.e_inh_mV, pi.e_inh_mV)
        return _Rows(
            v_rest=row(pe.v_rest_mV, pi.v_rest_mV),
            e_exc=e_exc,
            e_inh=e_inh,
            neg_dt_over_tau_m=row(-(dt / pe.tau_m_ms), -(dt / pi.tau_m_ms)),
            decay_exc=row(math.exp(-dt / pe.tau_exc_ms), math.exp(-dt / pi.tau_exc_ms)),
            decay_inh=row(math.exp(-dt / pe.tau_inh_ms), math.exp(-dt / pi.tau_inh_ms)),
            v_thresh=row(pe.v_thresh_mV, pi.v_thresh_mV),
            v_reset=row(pe.v_reset_mV, pi.v_reset_mV),
            refractory_steps=row(round(pe.refractory_ms / dt), round(pi.refractory_ms / dt)),
        )

    def _check_rates(self, rates_hz: Any, device) -> torch.Tensor:
        if not isinstance(rates_hz, torch.Tensor):
            try:
                rates_hz = torch.as_tensor(rates_hz)
            except (TypeError, ValueError, RuntimeError) as exc:
                raise DataError(f"rates_hz must be a (batch, n_in) array of Hz: {exc}") from None
        r = rates_hz
        if r.ndim != 2 or r.shape[1] != self.n_in or r.shape[0] < 1:
            raise DataError(
                f"rates_hz has shape {tuple(r.shape)}; expected (batch, n_in) with batch >= 1 "
                f"and n_in = {self.n_in}"
            )
        if not (r.is_floating_point() or r.dtype in (torch.int32, torch.int64, torch.int16)):
            raise DataError(f"rates_hz must hold numbers of Hz, got dtype {r.dtype}")
        r = r.to(device=device, dtype=torch.float64)
        if not bool(torch.isfinite(r).all()):
            raise DataError("rates_hz contains NaN or infinite values")
        low, high = (float(x) for x in torch.aminmax(r))
        if low < 0:
            raise DataError(f"rates_hz must be >= 0 Hz, got a minimum of {low:g} Hz")
        p = r * (self.dt_ms / 1000.0)
        if high * self.dt_ms / 1000.0 > 1.0:
            raise DataError(
                f"rates_hz up to {high:g} Hz give a spike probability rate·dt/1000 = "
                f"{high * self.dt_ms / 1000.0:g} > 1 per step of dt_ms = {self.dt_ms:g}; lower "
                f"the rates (at most {1000.0 / self.dt_ms:g} Hz) or dt_ms"
            )
        return p

    def _check_run(self, generator, duration_ms, device) -> int:
        """Check ``run``'s generator and duration; returns the number of steps."""
        if not isinstance(generator, torch.Generator):
            raise ConfigError(
                f"generator must be a torch.Generator, got {type(generator).__name__}"
            )
        if generator.device.type != device.type:
            raise ConfigError(
                f"generator is on {generator.device}, the network on {device}; pass a generator "
                f"made with torch.Generator(device={device.type!r})"
            )
        if isinstance(duration_ms, bool) or not isinstance(duration_ms, (int, float)):
            raise ConfigError(f"duration_ms must be a number of ms, got {shown(duration_ms)}")
        n_steps = steps_of(duration_ms, self.dt_ms) if math.isfinite(duration_ms) else 0
        if not 1 <= n_steps <= MAX_STEPS:
            raise ConfigError(
                f"duration_ms = {duration_ms!r} must be finite and from one step to {MAX_STEPS} "
                f"steps of dt_ms = {self.dt_ms:g}"
            )
        return n_steps

    @torch.no_grad()
    def run(
        self,
        rates_hz: Any,
        duration_ms: float = W1_DURATION_MS,
        *,
        generator: torch.Generator,
        monitors: Mapping[str, Any] | None = None,
        compile: bool = False,
    ) -> SpikeCounts:
        """Run every sample from rest for ``duration_ms`` under Poisson inputs of ``rates_hz``.

        Args:
            rates_hz: input rates (batch, n_in) in Hz, ≥ 0, with rate·dt/1000 ≤ 1.
            duration_ms: simulated time, in ms (rounded to whole steps of ``dt_ms``).
            generator: the ``torch.Generator`` of the Poisson inputs, on the network's device.
            monitors: optional ``{key: monitor}`` with ``monitor.record(x)`` called every step
                (e.g. :mod:`neurotwin.brain.monitors`); keys: ``"exc_spikes"``/``"inh_spikes"``
                get that step's 0/1 spikes (batch, n) in the network's dtype, ``"input_spikes"``
                the inputs' (batch, n_in) as bool, ``"exc_state"``/``"inh_state"`` the state at
                the start of the step, ``{"v_mV", "g_exc", "g_inh"}`` of (batch, n). They are
                views into live buffers: copy what you keep.
            compile: run the fused step through ``torch.compile`` (compiled on first use for this
                batch size, device, dtype and structure, which takes seconds: see
                :attr:`compile_seconds`; for long runs and repeated batches, not quick ones).

        Returns:
            :class:`SpikeCounts`: spikes per cell and sample, ``exc`` (batch, n_exc) and ``inh``
            (batch, n_inh), float in the network's dtype.
        """
        w = self.input_to_exc.weight
        device, dtype = w.device, w.dtype
        if dtype not in (torch.float32, torch.float64):
            raise ConfigError(
                f"the network runs in float32 or float64, not {dtype}; use .to(torch.float32)"
            )
        p = self._check_rates(rates_hz, device)
        n_steps = self._check_run(generator, duration_ms, device)
        monitors = _checked_monitors(monitors)
        batch = p.shape[0]
        closed, closed_syn, general = self._plan()
        rows = self._rows(device, dtype)
        state = _State(batch, self.n_exc, self.n_inh, rows, device, dtype)
        step = self._compiled_step(closed, rows, state) if compile else None
        source = PoissonEvents(p, generator)
        w_in_t = (self.input_to_exc.weight * self.input_to_exc.mask).T.contiguous()
        counting = _ops.active_counter() is not None
        in_effective = torch.zeros((), dtype=torch.float64, device=device)
        fan_out_in = self.input_to_exc.mask.sum(0).to(torch.float64)
        chunk = max(1, min(MAX_CHUNK_STEPS, DRIVE_CHUNK_ELEMENTS // (batch * self.n_exc)))
        t = 0
        while t < n_steps:
            k_steps = min(chunk, n_steps - t)
            ev_rows, ev_inputs = source.draw(k_steps)
            offsets = torch.searchsorted(ev_rows, torch.arange(k_steps * batch + 1, device=device))
            drive = F.embedding_bag(
                ev_inputs, w_in_t, offsets, mode="sum", include_last_offset=True
            ).view(k_steps, batch, self.n_exc)
            if counting:
                in_effective += fan_out_in.index_select(0, ev_inputs).sum()
            for k in range(k_steps):
                if monitors:
                    self._record_state(monitors, state)
                if step is None:
                    _eager_step(state, rows, closed, t, drive[k], self.n_exc)
                else:
                    state.take_step(step, t, drive[k])
                for syn, pre, post, target in general:
                    getattr(state, target)[:, post] += propagate(syn, state.spikes[:, pre])
                if monitors:
                    self._record_spikes(monitors, state, offsets, ev_rows, ev_inputs, k)
                t += 1
        if counting:
            self._count(state, closed, closed_syn, batch, n_steps, float(in_effective))
        return SpikeCounts(state.counts[:, : self.n_exc], state.counts[:, self.n_exc :])

    def _record_state(self, monitors, state) -> None:
        for key, cols in (("exc_state", state.exc), ("inh_state", state.inh)):
            if key in monitors:
                monitors[key].record(
                    {
                        "v_mV": state.v[:, cols],
                        "g_exc": state.ge[:, cols],
                        "g_inh": state.gi[:, cols],
                    }
                )

    def _record_spikes(self, monitors, state, offsets, ev_rows, ev_inputs, k) -> None:
        for key, cols in (("exc_spikes", state.exc), ("inh_spikes", state.inh)):
            if key in monitors:
                monitors[key].record(state.spikes[:, cols])
        if "input_spikes" in monitors:
            batch = state.v.shape[0]
            lo, hi = int(offsets[k * batch]), int(offsets[(k + 1) * batch])
            dense = torch.zeros(batch, self.n_in, dtype=torch.bool, device=state.v.device)
            dense[ev_rows[lo:hi] - k * batch, ev_inputs[lo:hi]] = True
            monitors["input_spikes"].record(dense)

    def _count(self, state, closed, closed_syn, batch: int, n_steps: int, in_effective) -> None:
        """Add a run's ops (module docstring); general connections were counted by propagate()."""
        _ops.add_neuron_updates(float(n_steps) * batch * (self.n_exc + self.n_inh))
        per_cell = state.counts.sum(0, dtype=torch.float64)  # spikes of each cell, all samples
        for syn, effective in [(self.input_to_exc, in_effective)] + [
            (syn, float(per_cell[slice(*form.pre)] @ syn.mask.sum(0).to(torch.float64)))
            for form, syn in zip(closed, closed_syn, strict=True)
        ]:
            dense = float(n_steps) * batch * syn.pre * syn.post
            _ops.add_synaptic_ops(dense=dense, effective=effective, spikes=True)

    def _compiled_step(self, closed, rows: _Rows, state: _State) -> Callable:
        w = self.input_to_exc.weight
        key = (state.v.shape[0], w.device, w.dtype, closed, self.exc_params, self.inh_params)
        cache = _COMPILED.setdefault(self, {})
        if key not in cache:
            step = _make_functional_step(rows, closed, self.n_exc)
            # dynamo keeps its compiled versions per code object, up to recompile_limit: give
            # every version its own code object, so many batch sizes never hit the limit
            step = types.FunctionType(
                step.__code__.replace(), step.__globals__, step.__name__, None, step.__closure__
            )
            fn = torch.compile(step, dynamic=False, fullgraph=True)
            scratch = _State(state.v.shape[0], self.n_exc, self.n_inh, rows, w.device, w.dtype)
            drive = torch.zeros(state.v.shape[0], self.n_exc, dtype=w.dtype, device=w.device)
            start = time.perf_counter()
            scratch.take_step(fn, 0, drive)  # the first call compiles
            self.compile_seconds = time.perf_counter() - start
            cache[key] = fn
        return cache[key]

    def extra_repr(self) -> str:
        return f"n_in={self.n_in}, n_exc={self.n_exc}, n_inh={self.n_inh}, dt_ms={self.dt_ms:g}"


def _checked_monitors(monitors: Mapping[str, Any] | None) -> dict[str, Any]:
    monitors = dict(monitors or {})
    for key, mon in monitors.items():
        if key not in MONITOR_KEYS:
            raise ConfigError(
                f"unknown monitor key {key!r}; choose from: {', '.join(MONITOR_KEYS)}"
            )
        if not callable(getattr(mon, "record", None)):
            raise ConfigError(f"monitor {key!r} has no record() method")
    return monitors


@torch.no_grad()
def _closed_form(syn: Synapses) -> tuple[str, float] | None:
    """``(kind, w)`` when ``syn``'s effective weights are one weight on a one-to-one, all-but-self
    or all-to-all mask (``("silent", 0)`` when nothing is connected); ``None`` otherwise."""
    mask, weight = syn.mask, syn.weight
    if not bool(mask.any()):
        return "silent", 0.0
    values = weight[mask]
    w0 = values[0]
    if not bool((values == w0).all()):
        return None
    w0 = float(w0)
    if bool(mask.all()):
        return "all_to_all", w0
    if syn.pre == syn.post:
        eye = torch.eye(syn.pre, dtype=torch.bool, device=mask.device)
        if bool((mask == eye).all()):
            return "one_to_one", w0
        if bool((mask == ~eye).all()):
            return "all_but_self", w0
    return None


class _State:
    """The stacked E|I state (batch, n_exc + n_inh) of a run and its scratch buffers. Masks are
    0/1 in the state's float dtype (float comparisons and ``lerp`` are vectorised where bool
    masks and ``where`` are not); ``free_at`` is the first step at which a cell is free again."""

    def __init__(self, batch, n_exc, n_inh, rows: _Rows, device, dtype) -> None:
        n = n_exc + n_inh
        self.exc, self.inh = slice(0, n_exc), slice(n_exc, n)

        def zeros():
            return torch.zeros(batch, n, dtype=dtype, device=device)

        self.v = rows.v_rest.expand(batch, n).clone()
        self.ge, self.gi, self.free_at, self.counts, self.spikes = (zeros() for _ in range(5))
        self.hold, self.g_tot, self.v_inf, self.decay = (zeros() for _ in range(4))
        self.col = torch.zeros(batch, 1, dtype=dtype, device=device)
        self.part = torch.zeros(batch, max(n_exc, n_inh), dtype=dtype, device=device)
        self.next_free = rows.refractory_steps.to(dtype)  # t + R at step t = 0
        self.t_now = torch.zeros((), dtype=dtype, device=device)

    def take_step(self, step: Callable, t: int, drive: torch.Tensor) -> None:
        """Advance by one step of the functional (compiled) ``step`` at step number ``t``."""
        self.t_now.fill_(t)
        self.v, self.ge, self.gi, self.free_at, self.counts, self.spikes = step(
            self.v, self.ge, self.gi, self.free_at, self.counts, drive, self.t_now
        )


def _eager_step(s: _State, c: _Rows, closed, t: int, drive: torch.Tensor, n_exc: int) -> None:
    """One step of every cell, in place (module docstring, steps 1–3; general connections are
    sent by the caller). Every product is rounded before its sum (no ``addcmul``, which ATen fuses
    into one rounding), so the step rounds as the reference step and the compiled one do.

    ``lerp(a, b, m)`` with m ∈ {0, 1} is exactly a or b (ATen takes ``b − (b − a)(1 − m)`` for
    m ≥ 0.5), so it selects like ``where``. A held cell sits at v_reset < v_thresh, so
    ``v > v_thresh`` alone is the threshold test of
    :func:`~neurotwin.brain.neurons.lif.lif_conductance_step`."""
    v, ge, gi, g_tot, v_inf, decay = s.v, s.ge, s.gi, s.g_tot, s.v_inf, s.decay
    torch.add(ge, 1.0, out=g_tot).add_(gi)  # (1 + g_e) + g_i
    # v_∞'s numerator as lif_conductance_step rounds it, (v_rest + g_e E_exc) + g_i E_inh
    if c.e_exc is None:
        v_inf.copy_(c.v_rest.expand_as(v_inf))
    else:
        torch.mul(ge, c.e_exc, out=v_inf).add_(c.v_rest)
    if c.e_inh is not None:
        v_inf.add_(torch.mul(gi, c.e_inh, out=decay))
    v_inf.div_(g_tot)
    torch.mul(g_tot, c.neg_dt_over_tau_m, out=decay).exp_()
    torch.sub(v, v_inf, out=g_tot).mul_(decay)  # g_tot's buffer is free: (v − v_∞)·exp(…)
    v_inf.add_(g_tot)  # v_∞ + (v − v_∞)·exp(−dt·g_tot/τ_m), rounded once per operation
    torch.gt(s.free_at, t, out=s.hold)
    torch.lerp(v_inf, v, s.hold, out=v)  # refractory cells keep v
    ge.mul_(c.decay_exc)
    gi.mul_(c.decay_inh)
    torch.gt(v, c.v_thresh, out=s.spikes)
    torch.lerp(v, c.v_reset, s.spikes, out=v)
    torch.lerp(s.free_at, s.next_free, s.spikes, out=s.free_at)
    s.next_free.add_(1.0)
    s.counts.add_(s.spikes)
    for form in closed:
        _closed_eager(s, form)
    ge[:, :n_exc].add_(drive)


def _closed_eager(s: _State, form: _Closed) -> None:
    target = (s.ge if form.target == "ge" else s.gi)[:, slice(*form.post)]
    pre = s.spikes[:, slice(*form.pre)]
    if form.kind == "one_to_one":
        target.add_(pre, alpha=form.weight)  # 0 or w: exact however it is rounded
    elif form.kind in ("all_but_self", "all_to_all"):
        torch.sum(pre, 1, keepdim=True, out=s.col)
        part = s.part[:, : target.shape[1]]
        if form.kind == "all_to_all":
            torch.mul(s.col.expand_as(part), form.weight, out=part)
        else:
            torch.sub(s.col, pre, out=part).mul_(form.weight)
        target.add_(part)


_EXP: list[Callable] = []


def _eager_exp() -> Callable:
    """``torch.exp`` as an opaque custom op: inside a compiled graph it still runs ATen's kernel
    (whose rounding differs from the compiler's own exp in ~1 % of floats by an ulp, which the
    network's thresholds can amplify), so compiled and eager steps give the same spikes."""
    if not _EXP:
        custom_op = getattr(torch.library, "custom_op", None)
        if custom_op is None:  # torch < 2.4: the compiler's exp (1-ulp differences)
            _EXP.append(torch.exp)
        else:

            @custom_op("neurotwin::aten_exp", mutates_args=())
            def aten_exp(x: torch.Tensor) -> torch.Tensor:
                return torch.exp(x)

            @aten_exp.register_fake
            def _(x):
                return torch.empty_like(x)

            _EXP.append(aten_exp)
    return _EXP[0]


def _make_functional_step(c: _Rows, closed: tuple[_Closed, ...], n_exc: int) -> Callable:
    """The step of :func:`_eager_step` as a pure function, for ``torch.compile``."""
    exp = _eager_exp()

    def step(v, ge, gi, free_at, counts, drive, t_now):
        g_tot = 1.0 + ge + gi
        num = c.v_rest if c.e_exc is None else c.v_rest + ge * c.e_exc
        if c.e_inh is not None:
            num = num + gi * c.e_inh
        v_inf = num / g_tot
        v_new = v_inf + (v - v_inf) * exp(c.neg_dt_over_tau_m * g_tot)
        v = torch.where(free_at > t_now, v, v_new)
        ge, gi = ge * c.decay_exc, gi * c.decay_inh
        fired = v > c.v_thresh
        v = torch.where(fired, c.v_reset, v)
        free_at = torch.where(fired, t_now + c.refractory_steps, free_at)
        s = fired.to(v.dtype)
        counts = counts + s
        # per target conductance, one piece per population, each piece's arrivals added in the
        # order of _eager_step (so both paths round alike), then the pieces joined once
        cols = {"e": (0, n_exc), "i": (n_exc, v.shape[1])}
        pieces = {
            (t, pop): g[:, a:b] for t, g in (("ge", ge), ("gi", gi)) for pop, (a, b) in cols.items()
        }
        for form in closed:
            pre = s[:, slice(*form.pre)]
            if form.kind == "one_to_one":
                arriving = pre * form.weight
            elif form.kind == "all_to_all":
                arriving = pre.sum(1, keepdim=True) * form.weight
            elif form.kind == "all_but_self":
                arriving = (pre.sum(1, keepdim=True) - pre) * form.weight
            else:
                continue
            key = (form.target, "e" if form.post[0] == 0 else "i")
            pieces[key] = pieces[key] + arriving
        pieces["ge", "e"] = pieces["ge", "e"] + drive
        ge = torch.cat([pieces["ge", "e"], pieces["ge", "i"]], 1)
        gi = torch.cat([pieces["gi", "e"], pieces["gi", "i"]], 1)
        return v, ge, gi, free_at, counts, s

    return step
