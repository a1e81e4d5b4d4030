"""Monitors with bounded memory: spikes, state variables and population rates of a simulation.

Each monitor is fed by the simulation loop (``monitor.record(...)`` once per step, or a block of
steps at once) and keeps at most a fixed amount of data unless asked to keep everything, so a
million-step run does not grow memory:

- :class:`SpikeMonitor` keeps the first ``max_events`` spike events (step, sample, neuron) and counts
  the rest in ``n_dropped`` (``truncated`` is then True; no warning is raised). Per-neuron spike
  counts are always complete. ``max_events=None`` keeps every event.
- :class:`StateMonitor` keeps every ``every``-th step of chosen variables; when ``max_samples`` time
  points are stored it **decimates**: it drops every other stored time point and doubles ``every``,
  so the record always spans the whole run at a uniform spacing. ``record_all=True`` keeps all.
- :class:`PopulationRateMonitor` keeps the population rate per bin of ``bin_steps`` steps; when
  ``max_bins`` bins are stored it merges neighbouring bins (doubling ``bin_steps``).
  ``max_bins=None`` keeps every bin.

Time axes are in ms: step k is at t = k · dt_ms, counted from the monitor's first record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from neurotwin.brain.neurons.base import check_positive
from neurotwin.errors import ConfigError, DataError, shown

#: Default caps: spike events kept, state time points kept, rate bins kept.
MAX_EVENTS = 1_000_000
MAX_SAMPLES = 10_000
MAX_BINS = 100_000


def _check_cap(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 2):
        raise ConfigError(f"{name} must be an integer >= 2 or None (keep all), got {shown(value)}")


def _index(name: str, chosen, size: int | None) -> torch.Tensor | None:
    """Chosen indices as a long tensor (None: all), checked against ``size`` when known."""
    if chosen is None:
        return None
    idx = torch.as_tensor(chosen, dtype=torch.long).reshape(-1)
    if idx.numel() == 0:
        raise ConfigError(f"{name} is empty; give None for all or at least one index")
    if int(idx.min()) < 0 or (size is not None and int(idx.max()) >= size):
        raise ConfigError(
            f"{name} {shown(chosen)} has indices outside 0..{'n-1' if size is None else size - 1}"
        )
    return idx


def _spikes_3d(spikes: torch.Tensor, n: int) -> torch.Tensor:
    """(batch, n) or (T, batch, n) spikes as (T, batch, n)."""
    if not isinstance(spikes, torch.Tensor) or spikes.ndim not in (2, 3) or spikes.shape[-1] != n:
        shape = tuple(spikes.shape) if isinstance(spikes, torch.Tensor) else type(spikes).__name__
        raise DataError(f"spikes have shape {shape}; expected (batch, n) or (T, batch, n), n = {n}")
    spikes = spikes.detach()  # a record is data, never part of a graph
    return spikes if spikes.ndim == 3 else spikes.unsqueeze(0)


class SpikeMonitor:
    """Records spike events (step, sample, neuron) of chosen neurons and samples.

    Args:
        n: neurons in the monitored group.
        dt_ms: the simulation step in ms (for the time axis).
        neurons: indices of the neurons to record (None: all).
        samples: indices of the batch samples to record (None: all).
        max_events: events kept (the first ones); later events are counted in ``n_dropped``.
            ``None`` keeps every event.

    After recording: ``steps``, ``samples``, ``neurons`` (int64 tensors, one entry per event, in
    time order), ``t_ms`` (float64), ``counts`` (samples, neurons) spike counts (always complete),
    ``n_dropped`` and ``truncated``.
    """

    def __init__(
        self,
        n: int,
        *,
        dt_ms: float,
        neurons=None,
        samples=None,
        max_events: int | None = MAX_EVENTS,
    ) -> None:
        check_positive("dt_ms", dt_ms)
        _check_cap("max_events", max_events)
        self.n, self.dt_ms, self.max_events = int(n), float(dt_ms), max_events
        self.neuron_index = _index("neurons", neurons, self.n)
        self.sample_index = _index("samples", samples, None)
        self.step = 0
        self.n_dropped = 0
        self._events = torch.empty(0, 3, dtype=torch.long)
        self._n = 0
        self.counts: torch.Tensor | None = None

    @property
    def truncated(self) -> bool:
        """Whether some events were dropped because ``max_events`` was reached."""
        return self.n_dropped > 0

    def record(self, spikes: torch.Tensor) -> None:
        """Record one step (batch, n) or a block of steps (T, batch, n) of 0/1 spikes."""
        x = _spikes_3d(spikes, self.n)
        if self.sample_index is not None:
            if int(self.sample_index.max()) >= x.shape[1]:
                raise DataError(f"samples {self.sample_index.tolist()} outside batch {x.shape[1]}")
            x = x.index_select(1, self.sample_index.to(x.device))
        if self.neuron_index is not None:
            x = x.index_select(2, self.neuron_index.to(x.device))
        counts = (x != 0).sum(0).cpu()
        self.counts = counts if self.counts is None else self.counts + counts
        step, self.step = self.step, self.step + x.shape[0]
        if self._n == self.max_events:  # full: only count what is dropped
            self.n_dropped += int(counts.sum())
            return
        events = x.nonzero().cpu()
        events[:, 0] += step
        self._append(events)

    def _append(self, events: torch.Tensor) -> None:
        room = len(events) if self.max_events is None else self.max_events - self._n
        if len(events) > room:
            self.n_dropped += len(events) - room
            events = events[:room]
        if len(events) == 0:
            return
        need = self._n + len(events)
        if need > len(self._events):  # grow geometrically, never past the cap
            size = max(need, 2 * len(self._events), 1024)
            if self.max_events is not None:
                size = min(size, self.max_events)
            grown = torch.empty(size, 3, dtype=torch.long)
            grown[: self._n] = self._events[: self._n]
            self._events = grown
        self._events[self._n : need] = events
        self._n = need

    def _column(self, k: int) -> torch.Tensor:
        return self._events[: self._n, k]

    @property
    def steps(self) -> torch.Tensor:
        return self._column(0)

    @property
    def samples(self) -> torch.Tensor:
        """Positions in the batch (original indices when ``samples`` was given)."""
        col = self._column(1)
        return col if self.sample_index is None else self.sample_index[col]

    @property
    def neurons(self) -> torch.Tensor:
        """Neuron indices in the group (original indices when ``neurons`` was given)."""
        col = self._column(2)
        return col if self.neuron_index is None else self.neuron_index[col]

    @property
    def t_ms(self) -> torch.Tensor:
        return self.steps.to(torch.float64) * self.dt_ms

    @property
    def n_events(self) -> int:
        """Events stored (``n_dropped`` more were seen when ``truncated``)."""
        return self._n


def _fields(state) -> Mapping[str, torch.Tensor]:
    if isinstance(state, Mapping):
        return state
    if hasattr(state, "_asdict"):  # a NamedTuple state (LIFState, …)
        return state._asdict()
    raise DataError(
        f"state must be a NamedTuple or a mapping of tensors, got {type(state).__name__}"
    )


class StateMonitor:
    """Records chosen state variables of chosen neurons and samples every ``every``-th step.

    Args:
        variables: names of the state fields to record (e.g. ``("v_mV", "g_exc")``).
        n: neurons in the monitored group.
        dt_ms: the simulation step in ms.
        neurons, samples: indices to record (None: all).
        every: record every ``every``-th step, starting at the first.
        max_samples: time points kept before decimating (module docstring); ``None`` with
            ``record_all=True``.
        record_all: keep every ``every``-th step, however many.

    After recording: ``values[name]`` (time points, samples, neurons), ``t_ms`` (time points,), and
    ``every`` (the current spacing in steps: larger than asked after a decimation, ``decimated``).
    """

    def __init__(
        self,
        variables: Sequence[str],
        n: int,
        *,
        dt_ms: float,
        neurons=None,
        samples=None,
        every: int = 1,
        max_samples: int | None = MAX_SAMPLES,
        record_all: bool = False,
    ) -> None:
        check_positive("dt_ms", dt_ms)
        if isinstance(variables, str) or not variables:
            raise ConfigError(
                f"variables must be a non-empty list of names, got {shown(variables)}"
            )
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ConfigError(f"every must be an integer >= 1, got {shown(every)}")
        if record_all:
            max_samples = None
        elif max_samples is None:
            raise ConfigError("max_samples=None keeps everything; say so with record_all=True")
        else:
            _check_cap("max_samples", max_samples)
            max_samples += max_samples % 2  # even, so decimation keeps multiples of 2·every
        self.variables, self.n, self.dt_ms = tuple(variables), int(n), float(dt_ms)
        self.neuron_index = _index("neurons", neurons, self.n)
        self.sample_index = _index("samples", samples, None)
        self.every, self.every_asked, self.max_samples = every, every, max_samples
        self.step = 0
        self._stored = 0
        self._buffers: dict[str, torch.Tensor] = {}
        self._steps = torch.empty(0, dtype=torch.long)

    @property
    def decimated(self) -> bool:
        return self.every != self.every_asked

    def record(self, state) -> None:
        """Record one step of ``state`` (a NamedTuple or mapping of (batch, n) tensors)."""
        step, self.step = self.step, self.step + 1
        if step % self.every:
            return
        fields = _fields(state)
        if self._stored == self.max_samples:
            self._decimate()
            if step % self.every:
                return
        unknown = [name for name in self.variables if name not in fields]
        if unknown:
            raise ConfigError(
                f"unknown state variable {unknown[0]!r}; choose from: {', '.join(fields)}"
            )
        for name in self.variables:
            self._store(name, self._select(name, fields[name]))
        self._steps = _put(self._steps, self._stored, torch.tensor(step), self.max_samples)
        self._stored += 1

    def _select(self, name: str, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.n:
            raise DataError(f"state variable {name!r} is not (batch, n) with n = {self.n}")
        if self.sample_index is not None:
            x = x.index_select(0, self.sample_index.to(x.device))
        if self.neuron_index is not None:
            x = x.index_select(1, self.neuron_index.to(x.device))
        return x.detach()

    def _store(self, name: str, x: torch.Tensor) -> None:
        buf = self._buffers.get(name)
        if buf is None:
            buf = torch.empty(0, *x.shape, dtype=x.dtype, device=x.device)
        self._buffers[name] = _put(buf, self._stored, x, self.max_samples)

    def _decimate(self) -> None:
        keep = self._stored // 2
        for buf in self._buffers.values():
            buf[:keep] = buf[: self._stored : 2].clone()
        self._steps[:keep] = self._steps[: self._stored : 2].clone()
        self._stored, self.every = keep, 2 * self.every

    @property
    def values(self) -> dict[str, torch.Tensor]:
        return {name: buf[: self._stored] for name, buf in self._buffers.items()}

    @property
    def t_ms(self) -> torch.Tensor:
        return self._steps[: self._stored].to(torch.float64) * self.dt_ms


def _put(buf: torch.Tensor, i: int, x: torch.Tensor, cap: int | None) -> torch.Tensor:
    """``buf[i] = x``, growing ``buf`` geometrically along dim 0 (never past ``cap``)."""
    if i >= len(buf):
        size = max(2 * len(buf), 64)
        size = size if cap is None else min(size, cap)
        grown = torch.empty(size, *buf.shape[1:], dtype=buf.dtype, device=buf.device)
        grown[:i] = buf[:i]
        buf = grown
    buf[i] = x
    return buf


class PopulationRateMonitor:
    """The population rate (Hz) of a group: spikes per neuron (and sample) per second, per bin.

    A bin of ``bin_steps`` steps starting at step k has rate
    ``1000 · Σ_steps Σ spikes / (n · batch · bin_steps · dt_ms)`` Hz, at t = k · dt_ms. ``bin_steps=1``
    is the rate of every step. ``max_bins`` bins are kept before neighbouring bins are merged (the
    rate is then that of the wider bin); ``max_bins=None`` keeps every bin. The last bin may be
    partly filled: its rate is over the steps it has.

    After recording: ``rate_hz`` (bins,), ``t_ms`` (bins,) and ``bin_steps`` (the current width).
    """

    def __init__(
        self, n: int, *, dt_ms: float, bin_steps: int = 1, max_bins: int | None = MAX_BINS
    ) -> None:
        check_positive("dt_ms", dt_ms)
        _check_cap("max_bins", max_bins)
        if isinstance(bin_steps, bool) or not isinstance(bin_steps, int) or bin_steps < 1:
            raise ConfigError(f"bin_steps must be an integer >= 1, got {shown(bin_steps)}")
        self.n, self.dt_ms, self.bin_steps = int(n), float(dt_ms), bin_steps
        self.max_bins = None if max_bins is None else max_bins + max_bins % 2
        self.step = 0
        self._sums = torch.zeros(0, dtype=torch.float64)  # Σ of spikes / (n · batch) per bin

    def record(self, spikes: torch.Tensor) -> None:
        """Record one step (batch, n) or a block of steps (T, batch, n) of 0/1 spikes."""
        x = _spikes_3d(spikes, self.n)
        per_step = x.sum(dim=(1, 2), dtype=torch.float64) / (x.shape[1] * self.n)  # (T,)
        if self._sums.device != per_step.device:
            self._sums = self._sums.to(per_step.device)
        start = 0
        while start < len(per_step):
            first_bin = self.step // self.bin_steps
            if self.max_bins is not None and first_bin >= self.max_bins:
                self._merge()
                continue
            # the steps that fit in the bins we may still open at this width
            limit = self.max_bins * self.bin_steps if self.max_bins is not None else None
            stop = len(per_step) if limit is None else min(len(per_step), start + limit - self.step)
            bins = torch.arange(self.step, self.step + stop - start, device=per_step.device)
            bins = bins // self.bin_steps
            need = (self.step + stop - start - 1) // self.bin_steps + 1  # no device sync
            if need > len(self._sums):
                size = max(need, 2 * len(self._sums), 64)
                size = size if self.max_bins is None else min(size, self.max_bins)
                grown = torch.zeros(size, dtype=torch.float64, device=per_step.device)
                grown[: len(self._sums)] = self._sums
                self._sums = grown
            self._sums.index_add_(0, bins, per_step[start:stop])
            self.step += stop - start
            start = stop

    def _merge(self) -> None:
        half = len(self._sums) // 2
        merged = self._sums[0::2] + self._sums[1::2]
        self._sums.zero_()
        self._sums[:half] = merged
        self.bin_steps *= 2

    @property
    def n_bins(self) -> int:
        return -(-self.step // self.bin_steps)

    @property
    def rate_hz(self) -> torch.Tensor:
        bins = self.n_bins
        width = torch.full((bins,), float(self.bin_steps), dtype=torch.float64)
        if bins:
            width[-1] = self.step - (bins - 1) * self.bin_steps
        return self._sums[:bins].cpu() / (width * self.dt_ms) * 1000.0

    @property
    def t_ms(self) -> torch.Tensor:
        return torch.arange(self.n_bins, dtype=torch.float64) * self.bin_steps * self.dt_ms

    def numpy(self) -> tuple[np.ndarray, np.ndarray]:
        """(t_ms, rate_hz) as numpy arrays."""
        return self.t_ms.numpy(), self.rate_hz.numpy()
