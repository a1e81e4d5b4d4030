"""The figures and the page of one simulation (:func:`neurotwin.experiment.simulate.simulate`).

``write_simulation(result, out)`` writes, each file atomically:

- ``out/summary.json``: the result's summary;
- ``out/figures/*.png``: for a single neuron ``membrane.png`` (the membrane potential and the step
  current of row 0), ``raster.png`` (the spikes of every level of the f–I sweep) and
  ``fi_curve.png`` (firing rate against current); for the network ``raster.png`` (E and I
  spikes), ``population_rate.png`` (E and I rates over time) and ``membrane.png`` (a few cells'
  membrane potentials, when they were recorded);
- ``out/simulation.html``: a small self-contained page with those figures inlined, in the
  compare report's style (:mod:`neurotwin.report.html`).

The result is read through its ``summary`` (a JSON-able dict) and ``arrays`` (numpy arrays named
with their units) only; nothing here knows a neuron model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from matplotlib.transforms import blended_transform_factory

from neurotwin.io import atomic_write_bytes, atomic_write_json, atomic_write_text
from neurotwin.plots import new_figure, png_bytes
from neurotwin.report.html import figure, kv_table, note, page

_EXC, _INH, _TRACE, _SPIKE = "#1f5fa8", "#c23b22", "#1d2330", "#c23b22"


class _Result(Protocol):
    summary: Mapping[str, Any]
    arrays: Mapping[str, np.ndarray]


# --- figures of a single neuron ---------------------------------------------------------------


def _model_label(summary: Mapping[str, Any]) -> str:
    preset = summary.get("preset")
    return summary["model"] + (f" ({preset})" if preset else "")


def membrane_png(result: _Result) -> bytes:
    """Row 0's membrane potential (mV) over time (ms), its spikes marked above the trace, and
    below it the step current (in the model's unit)."""
    s, a = result.summary, result.arrays
    unit = s["stimulus"]["unit"]
    fig = new_figure(8.0, 4.6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    t = a["time_ms"]
    top.plot(t, a["v_mV"], color=_TRACE, lw=0.9)
    spikes = a["spike_times_ms"]
    if len(spikes):
        # a tick per spike just above the axes' top edge: the LIF resets without a visible peak
        marks = blended_transform_factory(top.transData, top.transAxes)
        top.plot(spikes, np.full(len(spikes), 0.97), "|", color=_SPIKE, ms=8, transform=marks)
    thresh = (s.get("parameters") or {}).get("v_thresh_mV")
    if thresh is not None:
        top.axhline(thresh["value"], color="0.5", ls="--", lw=0.8, label="threshold")
        top.legend(fontsize="small", loc="lower right")
    top.set_ylabel("membrane potential v (mV)")
    top.set_title(
        f"{_model_label(s)}: membrane potential, {s['stimulus']['current']:g} {unit} step "
        f"({s['spikes']['count']} spikes)",
        fontsize=10,
    )
    top.grid(alpha=0.3)
    bottom.step(t, a["current"], where="post", color=_EXC, lw=1.2)
    bottom.set_ylabel(f"I ({unit})")
    bottom.set_xlabel("time (ms)")
    bottom.grid(alpha=0.3)
    return png_bytes(fig)


def sweep_raster_png(result: _Result) -> bytes:
    """The spikes of every level of the f–I sweep: one row per current level."""
    s, a = result.summary, result.arrays
    fi = s["f_i"]
    levels = np.asarray(fi["current"], dtype=float)
    fig = new_figure(8.0, 4.4)
    ax = fig.add_subplot()
    rows = a["raster_row"].astype(int)
    ax.scatter(a["raster_time_ms"], levels[rows], marker="|", s=18, lw=0.8, color=_TRACE)
    ax.axvline(s["stimulus"]["onset_ms"], color="0.5", ls="--", lw=0.8, label="current on")
    ax.set_xlim(0, s["duration_ms"])
    step = fi["resolution"]
    ax.set_ylim(levels[0] - step, levels[-1] + step)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"step current ({fi['unit']})")
    ax.set_title(
        f"{_model_label(s)}: spikes at each of the {fi['levels']} current levels of the f–I sweep",
        fontsize=10,
    )
    ax.legend(fontsize="small", loc="lower right")
    ax.grid(alpha=0.3)
    return png_bytes(fig)


def fi_curve_png(result: _Result) -> bytes:
    """Firing rate (Hz) against the step current: the mean rate over the window and the ISI rate,
    with the requested current and the onset current marked."""
    s, a = result.summary, result.arrays
    fi = s["f_i"]
    fig = new_figure(7.0, 4.4)
    ax = fig.add_subplot()
    rate, isi = a["fi_rate_hz"], a["fi_isi_rate_hz"]
    ax.plot(a["fi_current"], rate, "o-", ms=3.5, color=_EXC, label="mean rate")
    # a burst's ISI rate is its within-burst rate, far above the mean: keep the mean in scale
    top = 1.3 * float(np.max(rate, initial=0.0)) + 5.0
    clipped = bool(np.nanmax(isi, initial=0.0) > top)
    label = "1 / mean ISI" + (" (clipped: within-burst rates)" if clipped else "")
    ax.plot(a["fi_current"], isi, "--", color=_INH, lw=1.2, label=label)
    if clipped:
        ax.set_ylim(-0.03 * top, top)
    current = s["stimulus"]["current"]
    ax.axvline(current, color="0.4", ls=":", lw=1)
    ax.plot([current], [s["spikes"]["rate_hz"]], "D", color="k", ms=6, label="this run")
    if fi["onset_current"] is not None:
        ax.axvline(
            fi["onset_current"],
            color="0.6",
            ls="--",
            lw=0.8,
            label=f"onset {fi['onset_current']:.4g} {fi['unit']}",
        )
    ax.set_xlabel(f"step current ({fi['unit']})")
    ax.set_ylabel("firing rate (Hz)")
    ax.set_title(f"{_model_label(s)}: f–I curve over a {fi['window_ms']:g} ms step", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return png_bytes(fig)


# --- figures of the network -------------------------------------------------------------------


def network_raster_png(result: _Result) -> bytes:
    """Every spike of the E (blue, bottom) and I (red, top) cells: time against cell index."""
    s, a = result.summary, result.arrays
    n_exc = s["populations"]["exc"]["n"]
    fig = new_figure(8.0, 4.6)
    ax = fig.add_subplot()
    dot = {"s": 5, "lw": 0, "rasterized": True}
    ax.scatter(a["exc_spike_times_ms"], a["exc_spike_neuron"], color=_EXC, label="E", **dot)
    ax.scatter(a["inh_spike_times_ms"], n_exc + a["inh_spike_neuron"], color=_INH, label="I", **dot)
    ax.axhline(n_exc - 0.5, color="0.6", lw=0.6)
    ax.set_xlim(0, s["duration_ms"])
    ax.set_ylim(-0.5, n_exc + s["populations"]["inh"]["n"] - 0.5)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"neuron (E: 0–{n_exc - 1}, I above)")
    ax.set_title(f"{_model_label(s)}: spike raster", fontsize=10)
    ax.legend(fontsize="small", loc="upper right", markerscale=4)
    return png_bytes(fig)


def population_rate_png(result: _Result) -> bytes:
    """The population rates of E and I over time (Hz per neuron, binned as the summary says)."""
    s, a = result.summary, result.arrays
    fig = new_figure(8.0, 3.8)
    ax = fig.add_subplot()
    t = a["rate_time_ms"]
    ax.step(t, a["exc_rate_hz"], where="post", color=_EXC, lw=1.6, label="E")
    ax.step(t, a["inh_rate_hz"], where="post", color=_INH, lw=1.1, ls="--", label="I (dashed)")
    ax.set_xlim(0, s["duration_ms"])
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("population rate (Hz per neuron)")
    ax.set_title(f"{_model_label(s)}: population rate in {s['rate_bin_ms']:g} ms bins", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper right")
    return png_bytes(fig)


def network_membrane_png(result: _Result) -> bytes | None:
    """A few recorded cells' membrane potentials (mV) over time; None when none were recorded."""
    s, a = result.summary, result.arrays
    if "v_time_ms" not in a:
        return None
    fig = new_figure(8.0, 4.0)
    ax = fig.add_subplot()
    for key, color, label in (("exc_v_mV", _EXC, "E"), ("inh_v_mV", _INH, "I")):
        traces = a.get(key)
        if traces is None:
            continue
        for i, trace in enumerate(np.atleast_2d(traces)):
            ax.plot(
                a["v_time_ms"],
                trace,
                color=color,
                lw=0.8,
                alpha=0.9 - 0.25 * i,
                label=f"{label} cell {i}",
            )
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("membrane potential v (mV)")
    ax.set_title(f"{_model_label(s)}: membrane potential of recorded cells", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower right", ncol=2)
    return png_bytes(fig)


_NEURON_FIGURES = {
    "membrane": membrane_png,
    "raster": sweep_raster_png,
    "fi_curve": fi_curve_png,
}
_NETWORK_FIGURES = {
    "raster": network_raster_png,
    "population_rate": population_rate_png,
    "membrane": network_membrane_png,
}


def simulation_figures(result: _Result) -> dict[str, bytes]:
    """Every figure of the result as PNG bytes, by name (the keys of ``summary["figures"]``)."""
    draw = _NETWORK_FIGURES if result.summary["kind"] == "network" else _NEURON_FIGURES
    pngs = {name: fn(result) for name, fn in draw.items()}
    return {name: png for name, png in pngs.items() if png is not None}


# --- the page ---------------------------------------------------------------------------------


def _fmt(value: Any, unit: str | None = None) -> str | None:
    if value is None:
        return None
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{text} {unit}" if unit else text


def _run_table(s: Mapping[str, Any]) -> str:
    pairs = [
        ("model", f"{s['model']}: {s['model_name']}"),
        ("preset", s.get("preset")),
        ("time step", _fmt(s["dt_ms"], "ms")),
        ("duration", f"{_fmt(s['duration_ms'], 'ms')} ({s['n_steps']:,} steps)"),
        ("seed", s.get("seed")),
    ]
    return kv_table(pairs)


def _neuron_tables(s: Mapping[str, Any]) -> str:
    stim, spikes, fi = s["stimulus"], s["spikes"], s["f_i"]
    unit = stim["unit"]
    stim_pairs = [
        ("step current", f"{stim['current']:g} {unit} from {stim['onset_ms']:g} ms to the end"),
        ("spikes while it is on", spikes["count"]),
        ("spikes before it comes on", spikes["count_before_onset"] or None),
        ("mean rate", _fmt(spikes["rate_hz"], "Hz")),
        ("1 / mean inter-spike interval", _fmt(spikes["isi_rate_hz"], "Hz")),
        ("latency of the first spike", _fmt(spikes["latency_ms"], "ms")),
        ("membrane range", f"{s['v_mV']['min']:.4g} to {s['v_mV']['max']:.4g} mV"),
    ]
    onset = (
        f"{fi['onset_current']:.4g} {unit} (within one sweep step, {fi['resolution']:.3g} {unit})"
        if fi["onset_current"] is not None
        else f"none up to {fi['current'][-1]:g} {unit}"
    )
    fi_pairs = [
        ("levels", f"{fi['levels']}, from 0 to {fi['current'][-1]:g} {unit}"),
        ("onset current", onset),
        ("top rate", _fmt(max(fi["rate_hz"]), "Hz")),
    ]
    return (
        "<h2>Step current</h2>"
        + kv_table(stim_pairs)
        + "<h2>f–I sweep</h2>"
        + kv_table(fi_pairs)
        + '<p class="caption">The sweep is one batched simulation: each level is one batch row, '
        "run with the same step as above. A level's rate is its spike count while the current "
        "is on divided by that window; the onset current is the lowest level with a spike.</p>"
    )


def _network_tables(s: Mapping[str, Any]) -> str:
    names = {"exc": "excitatory (E)", "inh": "inhibitory (I)"}
    rows = "".join(
        f"<tr><td>{escape(names.get(name, name))}</td><td class='num'>{p['n']}</td>"
        f"<td class='num'>{p['spikes']:,}</td><td class='num'>{p['active_cells']}</td>"
        f"<td class='num'>{p['rate_hz']:.4g}</td></tr>"
        for name, p in s["populations"].items()
    )
    stim = s["stimulus"]
    return (
        "<h2>Populations</h2>"
        f"<p>Driven by {stim['n']} Poisson inputs at {stim['rate_hz']:g} Hz each.</p>"
        '<table style="width: auto"><thead><tr><th>population</th><th>cells</th>'
        "<th>spikes</th><th>cells that fired</th><th>mean rate (Hz per cell)</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _parameters_table(s: Mapping[str, Any]) -> str:
    params = s.get("parameters") or {}
    if not params:
        return ""
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td class='num'>{escape(_fmt(p['value']))}</td>"
        f"<td>{escape(p['unit'] or '')}</td></tr>"
        for name, p in params.items()
    )
    return (
        '<h2>Parameters</h2><table style="width: auto"><thead><tr><th>name</th><th>value</th>'
        "<th>unit</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


_CAPTIONS = {
    "membrane": "Top: the membrane potential of the neuron given the requested current; a tick "
    "at the top marks each spike. Bottom: the step current.",
    "raster": "Each row is one level of the f–I sweep (its current on the y axis); each tick a "
    "spike. The dashed line is where the current comes on.",
    "fi_curve": "Firing rate against step current: the mean rate over the window (dots) and "
    "1 / mean inter-spike interval (dashed, defined from the second spike on; for a bursting "
    "cell it is the rate within bursts). The diamond is this run; the dashed vertical line the "
    "onset current.",
}
_NETWORK_CAPTIONS = {
    "raster": "Each dot is one spike: excitatory cells below the line, inhibitory above.",
    "population_rate": "Spikes per bin divided by the cells and the bin width: the mean rate of "
    "one cell of each population, each bin drawn from its start.",
    "membrane": "The membrane potential of a few recorded cells.",
}


def _recording_notes(s: Mapping[str, Any]) -> str:
    """Notes on what bounded memory left out of the figures (nothing, in a short run)."""
    rec = s.get("recording") or {}
    notes = []
    dropped = sum(v for k, v in rec.items() if k.endswith("spike_events_dropped"))
    if dropped:
        notes.append(
            f"The rasters show the first spike events only: {dropped:,} later ones were counted "
            "(in every number above) but not stored."
        )
    if rec.get("trace_every_steps", 1) > 1:
        notes.append(
            f"The membrane traces hold every {rec['trace_every_steps']}th step of this long run "
            "(the monitor thins its record to bound memory); brief peaks may look lower."
        )
    return "".join(note(text) for text in notes)


def render_simulation(result: _Result, pngs: Mapping[str, bytes]) -> str:
    """The page of one simulation as an HTML string, ``pngs`` inlined (name -> PNG bytes)."""
    s = result.summary
    network = s["kind"] == "network"
    title = f"neurotwin simulation: {_model_label(s)}"
    captions = _NETWORK_CAPTIONS if network else _CAPTIONS
    figures = "".join(
        figure(png, name.replace("_", " "), captions.get(name, "")) for name, png in pngs.items()
    )
    body = (
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="sub">neurotwin {escape(str(s.get("neurotwin_version", "?")))}: '
        f"{escape(s.get('model_name', ''))}</p></header>"
        + _run_table(s)
        + (f"<p><code>{escape(s['equations'])}</code></p>" if s.get("equations") else "")
        + (_network_tables(s) if network else _neuron_tables(s))
        + "<h2>Figures</h2>"
        + _recording_notes(s)
        + figures
        + _parameters_table(s)
        + "<footer><p>Generated by <code>neurotwin simulate</code>; the numbers are in "
        "summary.json beside this page, which is self-contained (no network access).</p></footer>"
    )
    return page(title, body)


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """The summary in a few lines of plain text (what ``neurotwin simulate`` prints)."""
    s = summary
    lines = [
        f"{_model_label(s)}: {s['model_name']}; dt {s['dt_ms']:g} ms, {s['duration_ms']:g} ms "
        f"({s['n_steps']:,} steps)"
    ]
    if s["kind"] == "network":
        stim = s["stimulus"]
        lines.append(f"input: {stim['n']} Poisson inputs at {stim['rate_hz']:g} Hz each")
        for name, p in s["populations"].items():
            lines.append(
                f"{name}: {p['n']} cells, {p['spikes']:,} spikes, {p['active_cells']} cells "
                f"fired, {p['rate_hz']:.3g} Hz per cell"
            )
        return lines
    stim, spikes, fi = s["stimulus"], s["spikes"], s["f_i"]
    unit = stim["unit"]
    line = (
        f"step current {stim['current']:g} {unit} from {stim['onset_ms']:g} ms: "
        f"{spikes['count']} spikes, {spikes['rate_hz']:.3g} Hz"
    )
    if spikes["isi_rate_hz"] is not None:
        line += f" (1/mean ISI {spikes['isi_rate_hz']:.3g} Hz)"
    if spikes["latency_ms"] is not None:
        line += f", first spike {spikes['latency_ms']:.3g} ms after onset"
    lines.append(line)
    onset = (
        f"onset {fi['onset_current']:.4g} {unit} (sweep step {fi['resolution']:.3g})"
        if fi["onset_current"] is not None
        else "no spike at any level"
    )
    lines.append(
        f"f-I sweep: {fi['levels']} levels from 0 to {fi['current'][-1]:g} {unit} in one "
        f"batch; {onset}; top rate {max(fi['rate_hz']):.3g} Hz"
    )
    return lines


def print_simulation(summary: Mapping[str, Any], out: str | os.PathLike[str], console) -> None:
    """Print :func:`summary_lines` and where the files are on a rich ``console``."""
    for line in summary_lines(summary):
        console.print(line, highlight=False, soft_wrap=True)
    for label, name in (("summary", "summary.json"), ("page", "simulation.html")):
        console.print(f"{label + ':':9}{os.path.join(out, name)}", highlight=False, soft_wrap=True)


def write_simulation(result: _Result, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``out/summary.json``, ``out/figures/<name>.png`` and ``out/simulation.html``, each
    atomically; returns their paths by name (``summary``, ``page`` and the figures' names)."""
    out = Path(out)
    pngs = simulation_figures(result)  # drawn before anything is written
    paths = {"summary": atomic_write_json(out / "summary.json", dict(result.summary))}
    for name, png in pngs.items():
        paths[name] = atomic_write_bytes(out / "figures" / f"{name}.png", png)
    paths["page"] = atomic_write_text(out / "simulation.html", render_simulation(result, pngs))
    return paths
