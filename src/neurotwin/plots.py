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


def receptive_fields_png(weights: Any, input_shape: Sequence[int], n_show: int = 100) -> bytes:
    """A grid of the first ``n_show`` units' weight vectors drawn as images.

    ``weights`` has shape ``(n_units, H*W)`` (numpy array or torch tensor, any device);
    ``input_shape`` is ``(H, W)``. Each unit is drawn in the diverging ``bwr`` colormap on its own
    symmetric scale ``[-max|w|, +max|w|]``, so white is zero and the sign of every weight shows.
    """
    if hasattr(weights, "detach"):
        weights = weights.detach().cpu().numpy()
    w = np.asarray(weights, dtype=float)
    if len(input_shape) != 2:
        raise ValueError(f"input_shape must be (H, W), got {tuple(input_shape)}")
    h, wd = (int(d) for d in input_shape)
    if w.ndim != 2 or w.shape[1] != h * wd:
        raise ValueError(f"weights must have shape (n_units, {h * wd}), got {w.shape}")
    if n_show < 1:
        raise ValueError(f"n_show must be at least 1, got {n_show}")
    w = w[:n_show]
    n = len(w)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    # One mosaic image rather than n subplots: fast, and the NaN gutters (drawn grey) keep
    # neighbouring units apart. Dividing each unit by its own max |w| is its symmetric scale.
    gap = max(1, min(h, wd) // 8)
    mosaic = np.full((rows * (h + gap) + gap, cols * (wd + gap) + gap), np.nan)
    for i, unit in enumerate(w):
        vmax = float(np.nanmax(np.abs(unit), initial=0.0))
        vmax = vmax if math.isfinite(vmax) and vmax > 0 else 1.0
        r, c = divmod(i, cols)
        top, left = gap + r * (h + gap), gap + c * (wd + gap)
        mosaic[top : top + h, left : left + wd] = unit.reshape(h, wd) / vmax
    cmap = colormaps["bwr"].with_extremes(bad="0.55")
    scale = min(7.0 / mosaic.shape[1], 7.0 / mosaic.shape[0], 0.08)
    fig = new_figure(mosaic.shape[1] * scale, mosaic.shape[0] * scale)
    fig.get_layout_engine().set(w_pad=0, h_pad=0)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.imshow(mosaic, cmap=cmap, vmin=-1.0, vmax=1.0, interpolation="nearest")
    return png_bytes(fig)
