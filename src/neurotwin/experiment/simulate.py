"""Simulate one neuron model under a step current, or an E/I network under Poisson input: the
Python API behind ``neurotwin simulate``.

>>> from neurotwin.experiment.simulate import simulate
>>> result = simulate("lif", current=2.0, duration_ms=200)       # a 2 nA step
>>> result.summary["spikes"]["count"], result.summary["f_i"]["onset_current"]
>>> result.save("runs/simulate-lif")      # summary.json, figures/*.png, simulation.html

**A single neuron** (``lif``, ``izhikevich``, ``hh``) gets a step current: 0 for the first tenth of
the duration, then ``current`` until the end, in the model's own unit — nA for the LIF (it enters
as R_m·I with R_m in MΩ), the dimensionless I of Izhikevich's dv/dt = 0.04v² + 5v + 140 − u + I
(v in mV, t in ms), µA/cm² for Hodgkin–Huxley. Its f–I curve comes from the same simulation: the
neuron is run as a batch of ``1 + fi_levels`` rows — row 0 gets the requested current, the others
evenly spaced levels from 0 to the top of the sweep — in one batched simulation. Per row:

- ``rate_hz`` = spikes while the current is on / that window (the mean rate);
- ``isi_rate_hz`` = 1000 · (count − 1) / (t_last − t_first) with t in ms, the rate of the spike
  train once it fires (1 / the mean inter-spike interval); ``None`` with fewer than two spikes;
- the **onset current** is the lowest level of the sweep that fires at least once in the window,
  so it is known to within one step of the sweep (``f_i["resolution"]``).

Time follows Brian2's monitors (:mod:`neurotwin.brain.monitors`): step k (0-based) is t = k·dt;
a spike in step k is dated k·dt and the trace holds the state at the start of each step. The step
current is on from step ``round(0.1 · n_steps)``.

**The network** (``network``) is :class:`~neurotwin.brain.network.EINetwork` with its defaults
(W1: 784 Poisson inputs → 400 E / 400 I conductance-LIF cells, dt 0.5 ms), one sample from rest
with every input at :data:`NETWORK_INPUT_RATE_HZ`: the spike raster and the population rates of
the E and I cells, and the membrane potential of a few of them.

Every input is checked before anything runs or is written (:class:`ConfigError` naming the value
and the accepted range); a simulation is capped at :data:`MAX_STEPS` steps so that its recordings
stay small (the membrane trace of one row, the spikes through bounded monitors).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurotwin import __version__
from neurotwin.brain.monitors import PopulationRateMonitor, SpikeMonitor, StateMonitor
from neurotwin.brain.network import W1_DT_MS, W1_DURATION_MS, EINetwork
from neurotwin.brain.neurons import (
    LIF,
    HodgkinHuxley,
    HodgkinHuxleyParams,
    Izhikevich,
    IzhikevichParams,
    LIFParams,
    NeuronGroup,
)
from neurotwin.brain.neurons.izhikevich import DEFAULT_DT_MS as IZHIKEVICH_DT_MS
from neurotwin.brain.neurons.izhikevich import PRESETS as IZHIKEVICH_PRESETS
from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError, NumericalError, shown
from neurotwin.experiment.runner import MAX_SEED
from neurotwin.report.simulation import write_simulation

MODELS = ("lif", "izhikevich", "hh", "network")
#: Steps one simulation takes at most (duration_ms / dt_ms), so recordings stay bounded.
MAX_STEPS = 100_000
#: Levels of the f–I sweep by default, and at most.
FI_LEVELS, MAX_FI_LEVELS = 41, 401
#: The step current comes on after this fraction of the duration (the trace shows rest first).
ONSET_FRACTION = 0.1


# --- the models -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NeuronModel:
    """How ``simulate`` runs one single-neuron model (defaults, unit, presets, constructor)."""

    title: str
    current_unit: str
    default_current: float
    max_current: float  # the largest step current accepted
    fi_top: float  # the sweep's top, raised to the requested current when that is larger
    default_duration_ms: float
    default_dt_ms: float
    presets: dict[str, Callable[[], Any]]  # name -> parameters ({}: the model has none)
    default_preset: str | None  # the preset used when none is given (None: no presets)
    default_params: Callable[[], Any]
    build: Callable[[Any, float], NeuronGroup]  # (params, dt_ms) -> a group of one neuron
    equations: str
    units: dict[str, str] = field(default_factory=dict)  # parameters whose name holds no unit


_NEURON_MODELS = {
    "lif": _NeuronModel(
        title="leaky integrate-and-fire (current-based)",
        current_unit="nA",
        default_current=2.0,
        max_current=1000.0,
        fi_top=5.0,
        default_duration_ms=500.0,
        default_dt_ms=0.1,
        presets={},
        default_preset=None,
        default_params=LIFParams,
        build=lambda params, dt_ms: LIF(1, params, dt_ms=dt_ms),
        equations="τ_m dv/dt = −(v − v_rest) + R_m·I; spike when v > v_thresh, then v ← v_reset "
        "held for the refractory period",
    ),
    "izhikevich": _NeuronModel(
        title="Izhikevich (2003)",
        current_unit="mV/ms",
        default_current=10.0,
        max_current=1000.0,
        fi_top=20.0,
        default_duration_ms=500.0,
        default_dt_ms=IZHIKEVICH_DT_MS,
        presets={name: getattr(IzhikevichParams, name) for name in IZHIKEVICH_PRESETS},
        default_preset="regular_spiking",
        default_params=IzhikevichParams,
        build=lambda params, dt_ms: Izhikevich(1, params, dt_ms=dt_ms),
        equations="dv/dt = 0.04v² + 5v + 140 − u + I; du/dt = a(bv − u); "
        "if v ≥ 30 mV: v ← c, u ← u + d",
        units={"a": "1/ms", "b": "1/ms", "d": "mV/ms"},
    ),
    "hh": _NeuronModel(
        title="Hodgkin–Huxley (1952), squid giant axon",
        current_unit="µA/cm²",
        default_current=10.0,
        max_current=1000.0,
        fi_top=40.0,
        default_duration_ms=100.0,
        default_dt_ms=0.01,
        presets={"squid_axon": HodgkinHuxleyParams.squid_axon},
        default_preset="squid_axon",
        default_params=HodgkinHuxleyParams,
        build=lambda params, dt_ms: HodgkinHuxley(1, params, dt_ms=dt_ms),
        equations="C_m dV/dt = I − g_Na m³h (V − E_Na) − g_K n⁴ (V − E_K) − g_L (V − E_L); "
        "dx/dt = α_x(V)(1 − x) − β_x(V) x for x in m, h, n; a spike when V crosses 0 mV upwards",
    ),
}


# --- checks -----------------------------------------------------------------------------------


def _number(name: str, value: Any, *, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a number ({unit}), got {shown(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number ({unit}), got {value}")
    return value


def check_seed(seed: Any) -> int:
    """``seed`` as an int from 0 to :data:`MAX_SEED` (an int, or a text of ASCII digits)."""
    if isinstance(seed, str):
        text = seed.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_SEED)):
            raise ConfigError(f"bad seed {shown(seed)}; give a whole number from 0 to {MAX_SEED}")
        seed = int(text)
    if (
        isinstance(seed, bool)
        or not isinstance(seed, (int, np.integer))
        or not 0 <= seed <= MAX_SEED
    ):
        raise ConfigError(f"seed must be a whole number from 0 to {MAX_SEED}, got {shown(seed)}")
    return int(seed)


def check_out(out: str | os.PathLike) -> Path:
    """The output folder ``out``, checked without creating anything: not an existing file, and
    its nearest existing ancestor a folder that can be written."""
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"out {path} is an existing file; give a folder path")
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"out {path} cannot be created: {ancestor} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(f"out {path} cannot be written: {ancestor} is not writable")
    return path


def default_out(model: str, preset: str | None = None) -> Path:
    """``runs/simulate-<model>[-<preset>]``, the CLI's output folder when ``--out`` is not given."""
    return Path("runs") / ("-".join(["simulate", model] + ([preset] if preset else [])))


def _n_steps(duration_ms: float, dt_ms: float) -> int:
    """The whole steps of ``dt_ms`` in ``duration_ms`` (nearest), 1 to :data:`MAX_STEPS`."""
    ratio = duration_ms / dt_ms  # may overflow to inf for a huge duration and a tiny step
    if not ratio < MAX_STEPS + 0.5:
        raise ConfigError(
            f"duration_ms = {duration_ms:g} at dt_ms = {dt_ms:g} is {ratio:,.0f} steps; a "
            f"simulation takes at most {MAX_STEPS:,} steps (duration_ms <= "
            f"{MAX_STEPS * dt_ms:g} at this dt)"
        )
    n = round(ratio)
    if n < 1:
        raise ConfigError(
            f"duration_ms = {duration_ms:g} is shorter than one step of dt_ms = {dt_ms:g}"
        )
    return n


def _unit_of(name: str) -> str | None:
    """The unit that a parameter's name ends with (``tau_m_ms`` → ms), or None."""
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return None


_UNIT_SUFFIXES = (
    ("_ms", "ms"),
    ("_mV", "mV"),
    ("_Mohm", "MΩ"),
    ("_nA", "nA"),
    ("_hz", "Hz"),
    ("_Hz", "Hz"),
    ("_uF_per_cm2", "µF/cm²"),
    ("_mS_per_cm2", "mS/cm²"),
    ("_uA_per_cm2", "µA/cm²"),
)


def _parameters(params: Any, units: dict[str, str]) -> dict[str, dict[str, Any]]:
    """A parameter dataclass as ``{name: {"value": v, "unit": u}}``: the unit from ``units``, else
    from the name's ending, else None (a dimensionless number or a text)."""
    if not is_dataclass(params):
        return {}
    out = {}
    for f in fields(params):
        value = getattr(params, f.name)
        if isinstance(value, (bool, int, float, str)) or value is None:
            out[f.name] = {"value": value, "unit": units.get(f.name) or _unit_of(f.name)}
    return out


# --- the result -------------------------------------------------------------------------------


@dataclass
class SimulationResult:
    """What one simulation recorded.

    Attributes:
        summary: a JSON-able dict: model, preset, parameters with units, dt_ms, duration_ms,
            n_steps, the stimulus, spike counts and rates, the f–I points and the onset current
            (single neurons) or the populations' counts and rates (network), and the figures'
            file names.
        arrays: numpy arrays named with their units. Single neuron: ``time_ms``, ``v_mV`` and
            ``current`` (points,): row 0's membrane potential and input at the start of each
            recorded step (a :class:`~neurotwin.brain.monitors.StateMonitor`, which thins a long
            run to at most ``MAX_SAMPLES`` points); ``spike_times_ms`` (row 0);
            ``fi_current``, ``fi_rate_hz``, ``fi_isi_rate_hz`` (levels,); ``raster_time_ms``
            and ``raster_row`` (the sweep's spikes; row i is level i). Network:
            ``exc_spike_times_ms``/``exc_spike_neuron`` and the same for ``inh``, ``rate_time_ms``
            with ``exc_rate_hz``/``inh_rate_hz`` and, where recorded, ``v_time_ms`` with
            ``exc_v_mV``/``inh_v_mV`` (cells, points).
    """

    summary: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.summary["model"]

    @property
    def preset(self) -> str | None:
        return self.summary.get("preset")

    def save(self, out: str | os.PathLike) -> Path:
        """Write ``out/summary.json``, ``out/figures/*.png`` and ``out/simulation.html``, each
        atomically; returns ``out``."""
        path = check_out(out)
        write_simulation(self, path)
        return path


# --- single neurons ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _NeuronPlan:
    model: str
    spec: _NeuronModel
    preset: str | None
    params: Any
    current: float
    duration_ms: float
    dt_ms: float
    n_steps: int
    onset_step: int
    fi_levels: np.ndarray
    seed: int


def _plan_neuron(model, *, preset, current, duration_ms, dt_ms, fi_levels, seed) -> _NeuronPlan:
    spec = _NEURON_MODELS[model]
    presets = spec.presets
    preset = _check_preset(model, preset, list(presets), spec.default_preset)
    params = presets[preset]() if preset is not None else spec.default_params()
    unit = spec.current_unit
    current = spec.default_current if current is None else _number("current", current, unit=unit)
    if current < 0 or current > spec.max_current:
        raise ConfigError(
            f"current = {current:g} {unit} is out of range for {model}; give 0 to "
            f"{spec.max_current:g} {unit}"
        )
    dt_ms = spec.default_dt_ms if dt_ms is None else _number("dt_ms", dt_ms, unit="ms")
    params.validate(dt_ms)  # says which limit a too-large dt breaks
    n_steps = _n_steps(_duration(duration_ms, spec.default_duration_ms), dt_ms)
    if (
        isinstance(fi_levels, bool)
        or not isinstance(fi_levels, int)
        or not 2 <= fi_levels <= MAX_FI_LEVELS
    ):
        raise ConfigError(
            f"fi_levels must be a whole number from 2 to {MAX_FI_LEVELS}, got {shown(fi_levels)}"
        )
    top = max(spec.fi_top, current)
    return _NeuronPlan(
        model=model,
        spec=spec,
        preset=preset,
        params=params,
        current=current,
        duration_ms=n_steps * dt_ms,
        dt_ms=dt_ms,
        n_steps=n_steps,
        onset_step=int(round(ONSET_FRACTION * n_steps)),
        fi_levels=np.linspace(0.0, top, fi_levels),
        seed=seed,
    )


def _check_preset(model: str, preset: Any, presets: list[str], default: str | None) -> str | None:
    """The preset to use: ``preset`` checked against the model's, or its default."""
    if preset is None:
        return default
    if not presets:
        with_presets = [m for m, spec in _NEURON_MODELS.items() if spec.presets]
        raise ConfigError(
            f"model {model!r} has no presets; leave out the preset (models with presets: "
            f"{', '.join([*with_presets, 'network'])})"
        )
    if preset not in presets:
        raise ConfigError(
            f"unknown preset {shown(preset)} for {model}; choose one of: {', '.join(presets)}"
        )
    return preset


def _duration(duration_ms: Any, default: float) -> float:
    if duration_ms is None:
        return default
    duration_ms = _number("duration_ms", duration_ms, unit="ms")
    if duration_ms <= 0:
        raise ConfigError(f"duration_ms must be > 0, got {duration_ms:g}")
    return duration_ms


def _run_neuron(plan: _NeuronPlan) -> SimulationResult:
    levels = torch.tensor(np.concatenate([[plan.current], plan.fi_levels]), dtype=torch.float64)
    batch = len(levels)
    group = plan.spec.build(plan.params, plan.dt_ms)
    group.reset(batch, dtype=torch.float64)
    trace = StateMonitor(("v_mV",), 1, dt_ms=plan.dt_ms, samples=[0])
    spikes = SpikeMonitor(1, dt_ms=plan.dt_ms)
    on = levels.reshape(batch, 1)
    off = torch.zeros_like(on)
    with torch.no_grad():
        for k in range(plan.n_steps):
            trace.record(group.state)  # the state at the start of step k, t = k·dt
            spikes.record(group(on if k >= plan.onset_step else off))
    v_mV = trace.values["v_mV"][:, 0, 0].numpy()
    if not np.isfinite(v_mV).all() or not torch.isfinite(group.state.v_mV).all():
        raise NumericalError(
            f"the {plan.model} membrane diverged (NaN or infinite v); try a smaller dt_ms"
        )
    return _neuron_result(plan, trace, v_mV, spikes)


def _isi_rates(times: np.ndarray, rows: np.ndarray, batch: int) -> np.ndarray:
    """Per row: 1000 · (count − 1) / (t_last − t_first) in Hz; NaN below two spikes."""
    isi = np.full(batch, np.nan)
    for r in np.flatnonzero(np.bincount(rows, minlength=batch) >= 2):
        t = times[rows == r]
        isi[r] = 1000.0 * (len(t) - 1) / (t.max() - t.min())
    return isi


def _none_if_nan(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def _ms(x: float) -> float:
    """A time k·dt in ms without the float noise of the product (0.1 · 639 = 63.900000000000006)."""
    return round(float(x), 9)


def _neuron_result(plan: _NeuronPlan, trace, v_mV, spikes) -> SimulationResult:
    spec, unit = plan.spec, plan.spec.current_unit
    batch = 1 + len(plan.fi_levels)
    onset_ms = _ms(plan.onset_step * plan.dt_ms)
    window_ms = _ms(plan.duration_ms - onset_ms)
    steps, rows = spikes.steps.numpy(), spikes.samples.numpy()
    times = steps * plan.dt_ms
    # spike counts are complete; events are the first ones (all of them unless truncated), so
    # the spikes before the current comes on are all among them
    before = np.bincount(rows[steps < plan.onset_step], minlength=batch)
    counts = spikes.counts[:, 0].numpy() - before
    rates = 1000.0 * counts / window_ms
    in_window = steps >= plan.onset_step
    isi = _isi_rates(times[in_window], rows[in_window], batch)
    firing = np.flatnonzero(counts[1:] > 0)
    own = times[rows == 0]
    own_on = own[own >= onset_ms]
    t_trace = trace.t_ms.numpy()
    summary = {
        "kind": "neuron",
        "neurotwin_version": __version__,
        "model": plan.model,
        "model_name": spec.title,
        "preset": plan.preset,
        "equations": spec.equations,
        "seed": plan.seed,
        "dt_ms": plan.dt_ms,
        "duration_ms": plan.duration_ms,
        "n_steps": plan.n_steps,
        "max_steps": MAX_STEPS,
        "parameters": _parameters(plan.params, spec.units),
        "stimulus": {
            "kind": "step current",
            "current": plan.current,
            "unit": unit,
            "onset_ms": onset_ms,
            "window_ms": window_ms,
        },
        "spikes": {
            "count": int(counts[0]),
            "count_before_onset": int(before[0]),
            "rate_hz": float(rates[0]),
            "isi_rate_hz": _none_if_nan(isi[0]),
            "first_spike_ms": _ms(own_on[0]) if len(own_on) else None,
            "latency_ms": _ms(own_on[0] - onset_ms) if len(own_on) else None,
        },
        "v_mV": {"start": float(v_mV[0]), "min": float(v_mV.min()), "max": float(v_mV.max())},
        "f_i": {
            "unit": unit,
            "levels": len(plan.fi_levels),
            "current": plan.fi_levels.tolist(),
            "rate_hz": rates[1:].tolist(),
            "isi_rate_hz": [_none_if_nan(x) for x in isi[1:]],
            "onset_current": float(plan.fi_levels[firing[0]]) if len(firing) else None,
            "resolution": float(plan.fi_levels[1] - plan.fi_levels[0]),
            "window_ms": window_ms,
        },
        "recording": {
            "trace_points": len(t_trace),
            "trace_every_steps": trace.every,
            "spike_events_kept": spikes.n_events,
            "spike_events_dropped": spikes.n_dropped,
        },
        "figures": {
            "membrane": "figures/membrane.png",
            "raster": "figures/raster.png",
            "fi_curve": "figures/fi_curve.png",
        },
    }
    sweep = rows > 0
    arrays = {
        "time_ms": t_trace,
        "v_mV": v_mV,
        "current": np.where(t_trace >= onset_ms - 1e-9, plan.current, 0.0),
        "spike_times_ms": own,
        "fi_current": plan.fi_levels.copy(),
        "fi_rate_hz": rates[1:],
        "fi_isi_rate_hz": isi[1:],
        "raster_time_ms": times[sweep],
        "raster_row": rows[sweep] - 1,
    }
    return SimulationResult(summary, arrays)


# --- the network ------------------------------------------------------------------------------

#: The network's presets; ``w1`` (the default) is :class:`~neurotwin.brain.network.EINetwork`'s
#: defaults, the W1 workload: 784 Poisson inputs → 400 E / 400 I cells, dt 0.5 ms, 350 ms.
NETWORK_PRESETS = ("w1",)
#: The network's input rate (Hz), the same for every input: W1's E cells then fire about as many
#: spikes per sample as under its digit images (about 200).
NETWORK_INPUT_RATE_HZ = 20.0
#: The population rate is binned over this many ms (at least one step).
RATE_BIN_MS = 5.0
#: Cells whose membrane potential is recorded: the first E cells and the first I cell.
N_TRACED_EXC, N_TRACED_INH = 3, 1


@dataclass(frozen=True)
class _NetworkPlan:
    preset: str
    network: EINetwork  # built (its weights drawn) while the inputs are checked
    duration_ms: float
    dt_ms: float
    n_steps: int
    seed: int


def _plan_network(*, preset, current, duration_ms, dt_ms, seed) -> _NetworkPlan:
    preset = _check_preset("network", preset, list(NETWORK_PRESETS), NETWORK_PRESETS[0])
    if current is not None:
        raise ConfigError(
            "the network takes no current: it is driven by its Poisson inputs "
            f"({NETWORK_INPUT_RATE_HZ:g} Hz each); leave out the current"
        )
    dt_ms = W1_DT_MS if dt_ms is None else _number("dt_ms", dt_ms, unit="ms")
    # the cells' parameters check dt_ms (which limit it breaks) as the network is built
    network = EINetwork(dt_ms=dt_ms, generator=torch_generator(seed, "simulate", "weights"))
    n_steps = _n_steps(_duration(duration_ms, W1_DURATION_MS), dt_ms)
    return _NetworkPlan(preset, network, n_steps * dt_ms, dt_ms, n_steps, seed)


def _run_network(plan: _NetworkPlan) -> SimulationResult:
    net, dt = plan.network, plan.dt_ms
    bin_steps = max(1, round(RATE_BIN_MS / dt))
    monitors = {
        "exc_spikes": _Both(
            SpikeMonitor(net.n_exc, dt_ms=dt),
            PopulationRateMonitor(net.n_exc, dt_ms=dt, bin_steps=bin_steps),
        ),
        "inh_spikes": _Both(
            SpikeMonitor(net.n_inh, dt_ms=dt),
            PopulationRateMonitor(net.n_inh, dt_ms=dt, bin_steps=bin_steps),
        ),
        "exc_state": StateMonitor(
            ("v_mV",), net.n_exc, dt_ms=dt, neurons=list(range(min(N_TRACED_EXC, net.n_exc)))
        ),
        "inh_state": StateMonitor(
            ("v_mV",), net.n_inh, dt_ms=dt, neurons=list(range(min(N_TRACED_INH, net.n_inh)))
        ),
    }
    rates = torch.full((1, net.n_in), NETWORK_INPUT_RATE_HZ, dtype=net.input_to_exc.weight.dtype)
    counts = net.run(
        rates,
        plan.duration_ms,
        generator=torch_generator(plan.seed, "simulate", "input"),
        monitors=monitors,
    )
    return _network_result(plan, monitors, counts)


class _Both:
    """Feeds one stream of spikes to two monitors."""

    def __init__(self, *monitors) -> None:
        self.monitors = monitors

    def record(self, x) -> None:
        for monitor in self.monitors:
            monitor.record(x)


def _network_result(plan: _NetworkPlan, monitors, counts) -> SimulationResult:
    net = plan.network
    seconds = plan.duration_ms / 1000.0
    populations, arrays, recording = {}, {}, {}
    for name, n, total in (("exc", net.n_exc, counts.exc), ("inh", net.n_inh, counts.inh)):
        spikes, rate = monitors[f"{name}_spikes"].monitors
        trace = monitors[f"{name}_state"]
        v = trace.values["v_mV"][:, 0, :].numpy().T  # (cells, points)
        if not np.isfinite(v).all():
            raise NumericalError("the network's membrane potentials diverged; try a smaller dt_ms")
        n_spikes = int(total.sum())
        populations[name] = {
            "n": n,
            "spikes": n_spikes,
            "rate_hz": n_spikes / (n * seconds),
            "active_cells": int((total > 0).sum()),
        }
        arrays[f"{name}_spike_times_ms"] = spikes.t_ms.numpy()
        arrays[f"{name}_spike_neuron"] = spikes.neurons.numpy()
        t_rate, arrays[f"{name}_rate_hz"] = rate.numpy()
        arrays[f"{name}_v_mV"] = v
        recording[f"{name}_spike_events_dropped"] = spikes.n_dropped
        recording["trace_every_steps"] = trace.every
    arrays["rate_time_ms"] = t_rate
    arrays["v_time_ms"] = monitors["exc_state"].t_ms.numpy()
    parameters = {
        "n_in": {"value": net.n_in, "unit": None},
        "n_exc": {"value": net.n_exc, "unit": None},
        "n_inh": {"value": net.n_inh, "unit": None},
        "input_rate_hz": {"value": NETWORK_INPUT_RATE_HZ, "unit": "Hz"},
    }
    for syn_name in ("input_to_exc", "exc_to_inh", "inh_to_exc"):
        syn = getattr(net, syn_name)
        w = syn.weight.detach()[syn.mask]
        parameters[f"{syn_name}_weight"] = {
            "value": f"{float(w.min()):.3g} to {float(w.max()):.3g}"
            if float(w.min()) != float(w.max())
            else float(w[0]),
            "unit": "× leak conductance",
        }
        parameters[f"{syn_name}_synapses"] = {"value": int(syn.mask.sum()), "unit": None}
    for prefix, params in (("exc", net.exc_params), ("inh", net.inh_params)):
        for key, value in _parameters(params, {}).items():
            parameters[f"{prefix}.{key}"] = value
    summary = {
        "kind": "network",
        "neurotwin_version": __version__,
        "model": "network",
        "model_name": "E/I conductance-LIF network (Diehl & Cook 2015 topology)",
        "preset": plan.preset,
        "equations": "τ_m dv/dt = (v_rest − v) + g_e (E_exc − v) + g_i (E_inh − v); "
        "τ_e dg_e/dt = −g_e; τ_i dg_i/dt = −g_i; Poisson inputs → E (all to all), "
        "E → I (one to one), I → E (all but self)",
        "seed": plan.seed,
        "dt_ms": plan.dt_ms,
        "duration_ms": plan.duration_ms,
        "n_steps": plan.n_steps,
        "max_steps": MAX_STEPS,
        "parameters": parameters,
        "stimulus": {"kind": "Poisson input", "rate_hz": NETWORK_INPUT_RATE_HZ, "n": net.n_in},
        "populations": populations,
        "rate_bin_ms": _ms(max(1, round(RATE_BIN_MS / plan.dt_ms)) * plan.dt_ms),
        "recording": recording,
        "figures": {
            "raster": "figures/raster.png",
            "population_rate": "figures/population_rate.png",
            "membrane": "figures/membrane.png",
        },
    }
    return SimulationResult(summary, arrays)


# --- the entry point --------------------------------------------------------------------------


def simulate(
    model: str,
    *,
    preset: str | None = None,
    current: float | None = None,
    duration_ms: float | None = None,
    dt_ms: float | None = None,
    out: str | os.PathLike | None = None,
    seed: int = 0,
    fi_levels: int = FI_LEVELS,
) -> SimulationResult:
    """Simulate ``model`` (one of :data:`MODELS`) and return what it recorded; with ``out``, also
    write it there (:meth:`SimulationResult.save`).

    Args:
        model: ``"lif"``, ``"izhikevich"``, ``"hh"`` or ``"network"``.
        preset: a named parameter set of the model (``izhikevich``: its firing classes);
            ``None``: the model's default. A model without presets refuses one.
        current: the step current of a single neuron, in its unit (nA for ``lif``,
            Izhikevich's dimensionless I, µA/cm² for ``hh``), from 0 to the model's limit;
            ``None``: the model's default. The network takes none.
        duration_ms: simulated time in ms (``None``: the model's default); at most
            :data:`MAX_STEPS` steps of ``dt_ms``.
        dt_ms: the integration step in ms (``None``: the model's default); the model's
            parameters refuse a step too large for their stability and say which limit.
        out: a folder to write the summary, figures and page to, or ``None`` to write nothing.
        seed: the seed of every random draw (the network's weights and Poisson input); 0 to
            :data:`MAX_SEED`.
        fi_levels: levels of the f–I sweep (2 to :data:`MAX_FI_LEVELS`).

    Raises:
        ConfigError: a bad name or value, before anything runs or is written.
        NumericalError: the simulation produced NaN or infinite values.
    """
    if model not in MODELS:
        raise ConfigError(f"unknown model {shown(model)}; choose one of: {', '.join(MODELS)}")
    seed = check_seed(seed)
    if model == "network":
        plan = _plan_network(
            preset=preset, current=current, duration_ms=duration_ms, dt_ms=dt_ms, seed=seed
        )
        run = _run_network
    else:
        plan = _plan_neuron(
            model,
            preset=preset,
            current=current,
            duration_ms=duration_ms,
            dt_ms=dt_ms,
            fi_levels=fi_levels,
            seed=seed,
        )
        run = _run_neuron
    if out is not None:
        check_out(out)
    result = run(plan)
    if out is not None:
        result.save(out)
    return result
