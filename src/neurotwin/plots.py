"""Small plotting helpers shared by the report and the learners' own figures (PNG bytes).

Figures are drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas directly, so nothing
here touches pyplot's global state (no ``plt.figure``, no backend switch, no figures left open).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 110
MAX_UNITS = 400  # units a receptive-field grid draws at most
MAX_WEIGHTS = 4_000_000  # weights it draws at most (a 32 MB mosaic)
MIN_PX, MAX_PX = 48, 2000  # bounds on each side of its PNG


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure of the given size in inches with a constrained layout, on its own Agg canvas."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure rendered as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def grid_shape(n: int) -> tuple[int, int]:
    """``(rows, cols)`` of the most nearly square grid holding ``n`` cells: ``cols = ⌈√n⌉``,
    ``rows = ⌈n / cols⌉`` (so ``rows * cols >= n``)."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def receptive_fields_png(
    weights: Any, input_shape: Sequence[int] | None = None, n_show: int = 100
) -> bytes:
    """A grid of the first ``n_show`` units' weight vectors drawn as images.

    ``weights`` has shape ``(n_units, n_features)`` (numpy array or torch tensor, any device).
    ``input_shape`` ``(H, W)`` (with ``H * W == n_features``) draws each unit as that image;
    ``None`` (inputs that are not an image) wraps each unit's weights row by row into the most
    nearly square grid (:func:`grid_shape`), the cells past the last weight left grey. Each unit is
    drawn in the diverging ``bwr`` colormap on its own symmetric scale ``[-max|w|, +max|w|]``, so
    white is zero and the sign of every weight shows; NaN and infinite weights are grey.

    At most :data:`MAX_UNITS` units and :data:`MAX_WEIGHTS` weights are drawn, whatever
    ``n_show`` asks, and the PNG's sides stay within ``[MIN_PX, MAX_PX]`` pixels for any width.
    """
    if hasattr(weights, "detach"):
        weights = weights.detach().cpu().numpy()
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[0] < 1 or w.shape[1] < 1:
        raise ValueError(f"weights must have shape (n_units, n_features), got {w.shape}")
    n_features = w.shape[1]
    if input_shape is None:
        h, wd = grid_shape(n_features)
    elif len(input_shape) != 2:
        raise ValueError(f"input_shape must be (H, W) or None, got {tuple(input_shape)}")
    else:
        h, wd = (int(d) for d in input_shape)
        if n_features != h * wd:
            raise ValueError(f"weights must have shape (n_units, {h * wd}), got {w.shape}")
    if n_show < 1:
        raise ValueError(f"n_show must be at least 1, got {n_show}")
    w = w[: min(n_show, MAX_UNITS, max(1, MAX_WEIGHTS // n_features))]
    n = len(w)
    rows, cols = grid_shape(n)
    # One mosaic image rather than n subplots: fast, and the NaN gutters (drawn grey) keep
    # neighbouring units apart. Dividing each unit by its own max |w| is its symmetric scale.
    gap = max(1, min(h, wd) // 8)
    mosaic = np.full((rows * (h + gap) + gap, cols * (wd + gap) + gap), np.nan)
    for i, unit in enumerate(w):
        unit = np.where(np.isfinite(unit), unit, np.nan)
        vmax = float(np.nanmax(np.abs(unit), initial=0.0))
        vmax = vmax if vmax > 0 else 1.0
        cell = np.full(h * wd, np.nan)
        cell[:n_features] = unit / vmax
        r, c = divmod(i, cols)
        top, left = gap + r * (h + gap), gap + c * (wd + gap)
        mosaic[top : top + h, left : left + wd] = cell.reshape(h, wd)
    cmap = colormaps["bwr"].with_extremes(bad="0.55")
    width_px, height_px = _mosaic_pixels(*mosaic.shape)
    fig = new_figure(width_px / DPI, height_px / DPI)
    fig.get_layout_engine().set(w_pad=0, h_pad=0)
    ax = fig.add_subplot()
    ax.set_axis_off()
    # "auto": the figure already has the mosaic's proportions, unless a side was clamped
    ax.imshow(mosaic, cmap=cmap, vmin=-1.0, vmax=1.0, interpolation="nearest", aspect="auto")
    return png_bytes(fig)


def _mosaic_pixels(n_rows: int, n_cols: int) -> tuple[float, float]:
    """``(width, height)`` in pixels of a mosaic of ``n_rows × n_cols`` cells: 770 px (7 in) on
    its long side, at most 8.8 px per cell for small mosaics and at least 1 px per cell for large
    ones; each side clamped to ``[MIN_PX, MAX_PX]`` (a far-from-square mosaic is stretched)."""
    long_side = max(n_rows, n_cols)
    per_cell = min(0.08 * DPI, max(7.0 * DPI / long_side, 1.0), MAX_PX / long_side)
    return tuple(float(np.clip(n * per_cell, MIN_PX, MAX_PX)) for n in (n_cols, n_rows))
