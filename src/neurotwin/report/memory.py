"""The figures and the page of a memory capacity run (:func:`neurotwin.experiment.memory.capacity`).

``write_memory(result, out)`` writes, each file atomically: ``out/summary.json``;
``out/figures/recall_vs_load.png`` (recall against α = P/N, with the theory's critical load),
``out/figures/energy.png`` (E/N along the recall of a few noisy cues) and, with the completion,
``out/figures/completion.png`` (digit prototypes, cues and recalls); and ``out/memory.html``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from neurotwin.io import atomic_write_bytes, atomic_write_json, atomic_write_text
from neurotwin.plots import new_figure, png_bytes
from neurotwin.report.html import figure, kv_table, page


class _Result(Protocol):
    summary: dict[str, Any]
    arrays: Mapping[str, np.ndarray]


def recall_vs_load_png(result: _Result) -> bytes:
    """Fractions recalled (exact, overlap ≥ 0.95; clean and noisy cues) against α = P/N."""
    s, a = result.summary, result.arrays
    fig = new_figure(7.0, 4.4)
    ax = fig.add_subplot()
    x = a["alpha"]
    ax.plot(x, a["recall_overlap"], "o-", color="#1f5fa8", label="clean cue, overlap ≥ 0.95")
    ax.plot(x, a["recall_exact"], "s--", color="#1f5fa8", ms=4, label="clean cue, exact")
    noisy = f"{s['noise']:.0%} flipped"
    ax.plot(x, a["noisy_overlap"], "o-", color="#c23b22", label=f"{noisy}, overlap ≥ 0.95")
    ax.plot(x, a["noisy_exact"], "s--", color="#c23b22", ms=4, label=f"{noisy}, exact")
    crit = s["critical_alpha"]
    if crit["theory"] is not None:
        ax.axvline(crit["theory"], color="0.3", ls=":", label=f"theory α_c = {crit['theory']:.3g}")
    if crit["value"] is not None:
        ax.axvline(crit["value"], color="0.6", ls="--", label=f"measured α_c = {crit['value']:.3g}")
    ax.set_xlabel("load α = P / N")
    ax.set_ylabel("fraction of cues recalled")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(f"{s['rule']}: recall against load, N = {s['n']}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="lower left")
    return png_bytes(fig)


def energy_png(result: _Result) -> bytes:
    """E/N after each sweep (step) of the recall of a few noisy cues, at a few loads."""
    s, a = result.summary, result.arrays
    fig = new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    colors = ("#1f5fa8", "#2e8b57", "#c23b22")
    for k, (alpha, e) in enumerate(zip(a["energy_alpha"], a["energy"], strict=True)):
        steps = np.arange(e.shape[0])
        for j in range(e.shape[1]):
            if np.isfinite(e[:, j]).all():
                ax.plot(
                    steps,
                    e[:, j],
                    color=colors[k % 3],
                    lw=0.9,
                    alpha=0.7,
                    label=f"α = {alpha:g}" if j == 0 else None,
                )
    ax.set_xlabel("step" if s["rule"] == "modern" else "asynchronous sweep")
    ax.set_ylabel("energy per unit E / N")
    ax.set_title(f"{s['rule']}: energy during recall from noisy cues", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return png_bytes(fig)


_COLUMNS = (
    ("digit_prototypes", "stored"),
    ("digit_noisy_cue", "noisy cue"),
    ("digit_noisy_recall", "recalled"),
    ("digit_partial_cue", "half cue"),
    ("digit_partial_recall", "recalled"),
)


def completion_png(result: _Result) -> bytes | None:
    """Per stored digit: the prototype, a noisy cue and its recall, a half cue and its recall."""
    a = result.arrays
    if "digit_prototypes" not in a:
        return None
    rows = len(a["digit_prototypes"])
    fig = new_figure(6.0, 1.3 * rows + 0.4)
    axes = fig.subplots(rows, len(_COLUMNS), squeeze=False)
    for r in range(rows):
        for c, (key, title) in enumerate(_COLUMNS):
            ax = axes[r][c]
            ax.imshow(a[key][r], cmap="gray_r", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(title, fontsize=9)
    return png_bytes(fig)


_FIGURES = {
    "recall_vs_load": recall_vs_load_png,
    "energy": energy_png,
    "completion": completion_png,
}
_CAPTIONS = {
    "recall_vs_load": "Each stored pattern is a cue as it is (blue) and with bits flipped (red); "
    "a cue is recalled when the network ends on its pattern (exact) or within 5 % of its bits.",
    "energy": "The energy per unit along the recall of a few noisy cues at three loads; "
    "asynchronous updates never raise it.",
    "completion": "Binarised 8x8 digit prototypes stored in the network, then recalled from a "
    "noisy cue and from the top half alone (the bottom half unknown, drawn grey).",
}


def _completion_table(c: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{name}</td><td class='num'>{c[name]['cues']}</td>"
        f"<td class='num'>{c[name]['overlap_before']:.3f}</td>"
        f"<td class='num'>{c[name]['overlap_after']:.3f}</td>"
        f"<td class='num'>{c[name]['exact']:.3f}</td>"
        f"<td class='num'>{c[name]['nearest_prototype']:.3f}</td></tr>"
        for name in ("noisy", "partial", "real")
    )
    return (
        f"<h2>Pattern completion on digits {', '.join(map(str, c['digits']))}</h2>"
        '<table style="width: auto"><thead><tr><th>cue</th><th>cues</th><th>overlap before</th>'
        "<th>overlap after</th><th>exact</th><th>nearest prototype</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def render_memory(result: _Result, pngs: Mapping[str, bytes]) -> str:
    """The page of one capacity run as an HTML string, ``pngs`` inlined."""
    s = result.summary
    crit = s["critical_alpha"]
    title = f"neurotwin memory capacity: {s['rule']}, N = {s['n']}"
    pairs = [
        ("rule", s["rule"]),
        ("units N", s["n"]),
        ("trials per load", s["trials"]),
        ("seed", s["seed"]),
        ("noisy cues", f"{s['flipped_bits']} of {s['n']} bits flipped"),
        ("measured critical load (overlap ≥ 0.95)", crit["value"] and f"{crit['value']:.3f}"),
        ("measured critical load (exact)", crit["exact_value"] and f"{crit['exact_value']:.3f}"),
        ("theory", crit["theory_source"]),
    ]
    body = (
        f"<header><h1>{title}</h1></header>"
        + kv_table(pairs)
        + (_completion_table(s["completion"]) if "completion" in s else "")
        + "<h2>Figures</h2>"
        + "".join(figure(png, name, _CAPTIONS[name]) for name, png in pngs.items())
        + "<footer><p>Generated by <code>neurotwin memory capacity</code>; the numbers are in "
        "summary.json beside this page, which is self-contained.</p></footer>"
    )
    return page(title, body)


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """The summary in a few lines of text (what the CLI prints)."""
    s, crit = summary, summary["critical_alpha"]
    value = "not within the loads" if crit["value"] is None else f"{crit['value']:.3f}"
    lines = [
        f"{s['rule']}, N = {s['n']}, {len(s['loads']['alpha'])} loads x {s['trials']} trials",
        f"critical load (overlap >= 0.95): {value}; theory: {crit['theory_source']}",
    ]
    if "completion" in s:
        c = s["completion"]
        lines.append(
            "digits "
            + ", ".join(map(str, c["digits"]))
            + ": exact recall "
            + ", ".join(f"{k} {c[k]['exact']:.2f}" for k in ("noisy", "partial", "real"))
        )
    return lines


def write_memory(result: _Result, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``out/summary.json``, ``out/figures/<name>.png`` and ``out/memory.html``."""
    out = Path(out)
    pngs = {name: fn(result) for name, fn in _FIGURES.items()}
    pngs = {name: png for name, png in pngs.items() if png is not None}
    result.summary["figures"] = {name: f"figures/{name}.png" for name in pngs}
    paths = {"summary": atomic_write_json(out / "summary.json", dict(result.summary))}
    for name, png in pngs.items():
        paths[name] = atomic_write_bytes(out / "figures" / f"{name}.png", png)
    paths["page"] = atomic_write_text(out / "memory.html", render_memory(result, pngs))
    return paths
