"""Figures of a results document, each returned as PNG bytes.

Figures are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas directly, so nothing
here touches pyplot's global state (no ``plt.figure``, no backend switch, no figures left open).

The document is ``results.json`` as a dict (see DESIGN.md, "Results"). A row's display name is
its ``model``, or ``"model (variant)"`` when it has a variant. Functions that draw from the document
return ``None`` when it holds nothing to draw (no histories, no lesion sweeps, no energies).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from neurotwin.plots import new_figure, png_bytes
from neurotwin.report.document import display_name, kind_of, model_names, rows_by_model

_PARADIGM_MARKERS = {"artificial": "o", "brain": "^"}


def model_colors(doc: Mapping[str, Any]) -> dict[str, Any]:
    """One colour per model, the same in every figure (tab10, then tab20 beyond ten models)."""
    names = model_names(doc)
    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


def _finite(values: Sequence[Any]) -> np.ndarray:
    """A float array with ``None`` (a JSON null) turned into NaN."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _metric_label(doc: Mapping[str, Any], prefix: str) -> str:
    return f"{prefix} {kind_of(doc).metric_label}"


def _seed_curves(ax, series: Sequence[tuple[Mapping[str, Any], str]], color, label: str) -> int:
    """Draw one model's per-epoch curves: for each seed's ``(block, key)`` whose ``block[key]``
    holds values (epochs from ``block["epoch"]``, else 1, 2, …), a thin line; then a thick line,
    labelled ``"<label> (n=<seeds>)"``, for the mean over the seeds that reached each epoch (early
    stopping may end seeds apart). Returns the number of seeds drawn."""
    curves = []
    for block, key in series:
        if not block.get(key):
            continue
        y = _finite(block[key])
        x = np.asarray(block.get("epoch") or range(1, len(y) + 1), dtype=float)[: len(y)]
        ax.plot(x, y, color=color, lw=0.8, alpha=0.35)
        curves.append((x, y))
    if not curves:
        return 0
    x = max(curves, key=lambda c: len(c[0]))[0]
    stacked = np.full((len(curves), len(x)), np.nan)
    for i, (_, y) in enumerate(curves):
        stacked[i, : len(y)] = y
    with np.errstate(all="ignore"):
        mean = np.nanmean(stacked, axis=0)
    ax.plot(x, mean, color=color, lw=2.2, label=f"{label} (n={len(curves)})")
    return len(curves)


# --- figures of a results document ------------------------------------------------------------


def learning_curves_png(doc: Mapping[str, Any]) -> bytes | None:
    """Validation metric per epoch: one thin line per seed, a thick line for the mean over seeds.

    The mean is taken over the seeds that reached each epoch (early stopping may end seeds apart).
    Each model's epochs are those of its supervised stage (its history's ``stage``: the whole
    network for ``mlp``, the readout for ``hebbian``), named in the legend.
    """
    key = f"val_{kind_of(doc).metric}"
    colors = model_colors(doc)
    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot()
    drawn = False
    for name, rows in rows_by_model(doc).items():
        stage = (rows[0].get("history") or {}).get("stage", "train")
        series = [(row.get("history") or {}, key) for row in rows]
        drawn |= _seed_curves(ax, series, colors[name], f"{name}: {stage} epochs") > 0
    if not drawn:
        return None
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch of each model's supervised stage")
    ax.set_ylabel(_metric_label(doc, "validation"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    return png_bytes(fig)


def alignment_curves_png(doc: Mapping[str, Any]) -> bytes | None:
    """The alignment probe's angle per epoch (Lillicrap et al. 2016, Fig. 2): the angle between
    each model's last-hidden-layer update under its own feedback pathway and the true backprop
    gradient, one thin line per seed and a thick line for the mean over the seeds that reached
    each epoch; 90° is no alignment, 0° is backprop. None when no row recorded an angle."""
    colors = model_colors(doc)
    fig = new_figure(7.0, 4.2)
    ax = fig.add_subplot()
    drawn = False
    for name, rows in rows_by_model(doc).items():
        series = [((row.get("metrics") or {}).get("alignment") or {}, "angle_deg") for row in rows]
        drawn |= _seed_curves(ax, series, colors[name], name) > 0
    if not drawn:
        return None
    ax.axhline(90.0, color="0.5", ls="--", lw=1)
    ax.set_ylim(0, 100)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("angle to the backprop update (°)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    return png_bytes(fig)


def metric_vs_energy_png(doc: Mapping[str, Any]) -> bytes | None:
    """Test metric (mean, 95 % CI bars) against energy per inference in nJ on a log axis.

    One marker per model from the summary: circles for artificial, triangles for brain-like models.
    Models with no positive energy cannot sit on a log axis and are left out (named in the title).
    """
    key = f"test_{kind_of(doc).metric}"
    colors = model_colors(doc)
    fig = new_figure(7.0, 4.4)
    ax = fig.add_subplot()
    left_out = []
    points = []
    for entry in doc.get("summary", []):
        name = display_name(entry)
        stats = entry.get(key) or {}
        energy = (entry.get("energy_nj_per_inference") or {}).get("mean")
        mean = stats.get("mean")
        if mean is None or energy is None or not energy > 0:
            left_out.append(name)
            continue
        ci = stats.get("ci95")
        yerr = None if ci is None else [[max(mean - ci[0], 0.0)], [max(ci[1] - mean, 0.0)]]
        ax.errorbar(
            [energy],
            [mean],
            yerr=yerr,
            fmt=_PARADIGM_MARKERS.get(entry.get("paradigm"), "s"),
            color=colors[name],
            ms=9,
            capsize=4,
        )
        points.append((name, energy, mean))
    if not points:
        return None
    ax.set_xscale("log")
    ax.margins(x=0.25, y=0.15)
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    lo, hi = ax.get_xlim()
    # Within one decade there may be no major tick at all: label the minor ticks instead.
    ax.xaxis.set_minor_formatter(plain if hi / lo < 10 else NullFormatter())
    for name, energy, mean in points:
        # Names right of the middle go on the marker's left, so they stay inside the axes.
        right_half = math.log(energy / lo) > 0.5 * math.log(hi / lo)
        ax.annotate(
            name,
            (energy, mean),
            xytext=(-8 if right_half else 8, 5),
            textcoords="offset points",
            ha="right" if right_half else "left",
            fontsize=8,
        )
    ax.set_xlabel("energy per inference (nJ, log scale)")
    ax.set_ylabel(_metric_label(doc, "test"))
    ax.grid(alpha=0.3)
    if left_out:
        ax.set_title("not shown (no energy): " + ", ".join(left_out), fontsize=8)
    return png_bytes(fig)


def lesion_curves_png(doc: Mapping[str, Any]) -> bytes | None:
    """Test metric against the fraction of synapses removed: mean over seeds, ± 1 std band.

    One panel per lesion mode the rows hold (``lesion``: zero-ablation; ``lesion_mean``:
    mean-ablation, see :mod:`neurotwin.probes.lesion`). A dashed line marks the task kind's floor
    (chance for classification, R² = 0 for regression).
    """
    kind = kind_of(doc)
    modes = [
        (key, title)
        for key, title in (
            ("lesion", "zero-ablation (removed input counts 0)"),
            ("lesion_mean", "mean-ablation (removed input counts its mean)"),
        )
        if any(key in (r.get("metrics") or {}) for r in doc.get("results", []))
    ]
    if not modes:
        return None
    colors = model_colors(doc)
    fig = new_figure(5.2 * len(modes), 4.2)
    axes = fig.subplots(1, len(modes), sharey=True, squeeze=False)[0]
    drawn = False
    floor = kind.floor(doc.get("task", {}))
    for ax, (mode_key, title) in zip(axes, modes, strict=True):
        for name, rows in rows_by_model(doc).items():
            drawn |= _lesion_line(ax, rows, mode_key, f"test_{kind.metric}", name, colors[name])
        if floor is not None:
            ax.axhline(floor[0], color="0.4", ls="--", lw=1, label=floor[1])
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("fraction of synapses removed")
        ax.set_xlim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    if not drawn:
        return None
    axes[0].set_ylabel(_metric_label(doc, "test"))
    axes[-1].legend(fontsize="small", loc="best")
    return png_bytes(fig)


def _lesion_line(ax, rows, mode_key: str, metric: str, name: str, color) -> bool:
    """Draw one model's mean ± std lesion curve of one mode; False when it has none."""
    sweeps = [((r.get("metrics") or {}).get(mode_key) or {}) for r in rows]
    sweeps = [s for s in sweeps if s.get("fraction") and s.get(metric)]
    if not sweeps:
        return False
    fraction = list(sweeps[0]["fraction"])
    # Seeds are averaged only on a shared grid of fractions; others are not mixed in.
    values = np.array([_finite(s[metric]) for s in sweeps if list(s["fraction"]) == fraction])
    x = np.asarray(fraction, dtype=float)
    mean = np.nanmean(values, axis=0)
    std = np.nanstd(values, axis=0) if len(values) > 1 else np.zeros_like(mean)
    ax.plot(x, mean, "o-", color=color, lw=1.8, ms=4, label=f"{name} (n={len(values)})")
    ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.18, lw=0)
    return True
