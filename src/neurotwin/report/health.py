"""``RUN_DIR/health.html``: the brain-health page of a run (figures inlined, no network fetches).

Drawn from the document :func:`neurotwin.experiment.health.lesion_run` returns: the findings in
words; a table of every model's intact metric, metric at 50 % random synapse loss and area under
each damage curve; one panel per damage kind with every model's mean curve over seeds (band ± 1
std over seeds, legend with each model's AUC); the ageing curves with and without plasticity (and
plasticity without loss, the control); the recovery table; and the definitions. Every piece of text
from the document is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

import numpy as np
from matplotlib import colormaps

from neurotwin import kinds
from neurotwin.plots import new_figure, png_bytes
from neurotwin.report.html import figure, kv_table, note, page

_KIND_TITLES = {
    "random": "random synapse loss",
    "targeted": "targeted loss (largest |w| first, per layer)",
    "neurons": "neuron death (hidden units)",
    "noise": "synaptic noise",
}


def _colors(doc: Mapping[str, Any]) -> dict[str, Any]:
    names = [s["name"] for s in doc.get("summary", [])]
    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {name: cmap(i % cmap.N) for i, name in enumerate(names)}


def _groups(doc: Mapping[str, Any]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {s["name"]: [] for s in doc.get("summary", [])}
    for row in doc.get("rows", []):
        groups.setdefault(row["name"], []).append(row)
    return groups


def _metric_label(doc: Mapping[str, Any]) -> str:
    return kinds.get(doc.get("task", {}).get("kind", "classification")).metric_label


def _band(ax, x, curves, color, label, **style) -> None:
    y = np.asarray(curves, dtype=float)
    mean = y.mean(0)
    ax.plot(x, mean, color=color, label=label, **style)
    if len(y) > 1:
        std = y.std(0)
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.18, lw=0)


def damage_curves_png(doc: Mapping[str, Any]) -> bytes | None:
    """One panel per damage kind: each model's mean curve over seeds, a ± 1 std band over seeds,
    its mean AUC in the legend, and the task kind's floor (chance) as a dashed line."""
    groups = _groups(doc)
    taken = {k for group in groups.values() for r in group for k in r["damage"]}
    kind_list = [k for k in doc.get("kinds", []) if k in taken]  # a kind no learner could take
    if not kind_list:
        return None
    metric = doc["metric"]
    colors = _colors(doc)
    floor = kinds.get(doc["task"].get("kind", "classification")).floor(doc["task"])
    cols = min(2, len(kind_list))
    rows = -(-len(kind_list) // cols)
    fig = new_figure(5.0 * cols, 3.8 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax, kind in zip(axes, kind_list, strict=False):
        for name, group in groups.items():
            curves = [r["damage"][kind] for r in group if kind in r["damage"]]
            if not curves:
                continue
            auc = float(np.mean([c["auc"] for c in curves]))
            _band(
                ax,
                curves[0]["levels"],
                [c[metric] for c in curves],
                colors.get(name),
                f"{name} (AUC {auc:.3f})",
                lw=1.8,
                marker="o",
                ms=3,
            )
        if floor is not None:
            ax.axhline(floor[0], color="0.4", ls="--", lw=1)
        ax.set_title(_KIND_TITLES.get(kind, kind), fontsize=10)
        ax.set_xlabel("σ (× layer weight std)" if kind == "noise" else "fraction removed")
        ax.set_ylabel(f"test {_metric_label(doc)}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", loc="best")
    for ax in axes[len(kind_list) :]:
        ax.set_visible(False)
    return png_bytes(fig)


def ageing_png(doc: Mapping[str, Any]) -> bytes | None:
    """Ageing: per model, the metric against the fraction lost with plasticity (solid), without
    (dashed) and plasticity without loss (dotted, the control); mean over seeds, AUC in the
    legend."""
    metric = doc["metric"]
    groups = {n: [r["ageing"] for r in g if r.get("ageing")] for n, g in _groups(doc).items()}
    groups = {n: g for n, g in groups.items() if g}
    if not groups:
        return None
    colors = _colors(doc)
    fig = new_figure(7.2, 4.4)
    ax = fig.add_subplot()
    for name, curves in groups.items():
        x = curves[0]["fraction"]
        styles = (
            (metric, "auc", "with plasticity", "-"),
            (f"{metric}_no_plasticity", "auc_no_plasticity", "without", "--"),
            (f"{metric}_plasticity_no_loss", "auc_plasticity_no_loss", "plasticity, no loss", ":"),
        )
        for key, auc_key, what, ls in styles:
            if curves[0].get(key) is None:
                continue
            auc = float(np.mean([c[auc_key] for c in curves]))
            _band(
                ax,
                x,
                [c[key] for c in curves],
                colors.get(name),
                f"{name}: {what} (AUC {auc:.3f})",
                ls=ls,
                lw=1.6,
            )
    ax.set_xlabel("fraction of synapses lost (gradually)")
    ax.set_ylabel(f"test {_metric_label(doc)}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", loc="best")
    return png_bytes(fig)


def _fmt(stat: Mapping[str, Any] | None, digits: int = 3) -> str:
    if not stat:
        return "—"
    text = f"{stat['mean']:.{digits}f}"
    return text + (f" ± {stat['std']:.{digits}f}" if stat.get("n", 1) > 1 else "")


_NUM_TD = '<td class="num">'


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """A table: the first two columns text, the others numbers (right-aligned)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(("<td>" if i < 2 else _NUM_TD) + f"{escape(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _damage_table(doc: Mapping[str, Any]) -> str:
    kind_list = list(doc.get("kinds", []))
    headers = ["Model", "paradigm", "seeds", "intact", "at 50 % random loss"]
    headers += [f"AUC {k}" for k in kind_list]
    rows = []
    for s in doc.get("summary", []):
        rows.append(
            [
                s["name"],
                s["paradigm"],
                str(len(s["seeds"])),
                _fmt(s["intact"]),
                _fmt(s["random_50"]),
            ]
            + [_fmt(s["auc"].get(k)) for k in kind_list]
        )
    return _table(headers, rows)


def _recovery_table(doc: Mapping[str, Any]) -> str:
    rows = []
    budget = None
    for s in doc.get("summary", []):
        rec = s.get("recovery")
        if not rec:
            continue
        budget = rec["budget"]
        rows.append(
            [
                s["name"],
                s["paradigm"],
                _fmt(rec["intact"]),
                _fmt(rec["lesioned"]),
                _fmt(rec["recovered"]),
                _fmt(rec["regained"], 2) if rec["regained"] else "— (nothing lost)",
            ]
        )
    if not rows:
        return ""
    caption = (
        f"Every model is lesioned at 50 % random synapse loss (the same masks as the damage "
        f"curve) and retrained through its own partial_fit: {budget['partial_fit_calls']} calls on "
        f"the same {budget['samples']} training samples for every model (the number of gradient "
        "steps follows each learner's batch size). Removed synapses stay removed. Regained = "
        "(recovered − lesioned) / (intact − lesioned), not reported when the lesion cost ≤ 0.005."
    )
    return (
        "<h2>Recovery (rehabilitation)</h2>"
        + _table(
            ["Model", "paradigm", "intact", "lesioned", "recovered", "regained"],
            rows,
        )
        + f'<p class="caption">{escape(caption)}</p>'
    )


def render_health(doc: Mapping[str, Any]) -> str:
    """The health page of ``doc`` (:func:`neurotwin.experiment.health.lesion_run`) as HTML."""
    task = doc.get("task", {})
    title = f"neurotwin brain health: {task.get('name', 'task')}"
    parts = [
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="sub">run folder <code>{escape(str(doc.get("run_dir", "")))}</code>, '
        f"neurotwin {escape(str(doc.get('neurotwin_version', '?')))}</p></header>",
        "<h2>Findings</h2>",
        '<ul class="verdicts">'
        + "".join(f"<li>{escape(line)}</li>" for line in doc.get("findings", []))
        + "</ul>",
    ]
    parts += [note(w) for w in doc.get("warnings", [])]
    parts += ["<h2>Damage</h2>", _damage_table(doc)]
    png = damage_curves_png(doc)
    if png:
        parts.append(
            figure(
                png,
                "damage curves",
                f"Test {_metric_label(doc)} of a damaged copy of each trained model against the "
                "damage level (nested levels; mean over seeds, band ± 1 std over seeds; dashed: "
                "chance). AUC: area under the curve by the trapezoid rule divided by the level "
                "range, so a model that never loses accuracy has AUC = its intact accuracy.",
            )
        )
    png = ageing_png(doc)
    if png:
        settings = (doc.get("settings") or {}).get("ageing") or {}
        parts += [
            "<h2>Ageing</h2>",
            figure(
                png,
                "ageing curves",
                f"Synapses are lost at random in {settings.get('steps', '?')} equal steps up to "
                f"{settings.get('final_fraction', '?')}. Solid: after each step the model keeps "
                f"learning by its own rule (one partial_fit call on "
                f"{settings.get('samples_per_step', '?')} fresh training samples); dashed: no "
                "learning; dotted: the same learning with no loss, the control for simply "
                "training more.",
            ),
        ]
    parts.append(_recovery_table(doc))
    settings = doc.get("settings") or {}
    parts += [
        "<h2>Definitions</h2>",
        kv_table(list((doc.get("definitions") or {}).items())),
        kv_table(
            [
                ("ablation", settings.get("ablation")),
                ("levels", settings.get("levels")),
                ("wall time (s)", (doc.get("manifest") or {}).get("wall_seconds")),
                ("command", (doc.get("manifest") or {}).get("command")),
            ]
        ),
    ]
    return page(title, "".join(parts))
