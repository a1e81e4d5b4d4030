"""``OUT/report.html``: one self-contained page (figures inlined as data URIs, no network fetches).

The page holds, in order: the verdicts in words (who won, by how much, and is it real); the task
and the run's manifest; the summary table (mean ± corrected 95 % CI over seeds, energy,
parameters, training time, per-seed paired p-values and the verdicts against the first model and
against each learner's control); every pair's tests; learner-specific numbers; validation curves,
metric vs energy (with what each energy figure depends on), lesion curves in both ablation modes;
each learner's own figures (seed 0, read from ``OUT``); and the energy constants and op
definitions.
Every piece of text from the document is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from neurotwin.core.ops import ENERGY_SOURCE, PJ_PER_AC, PJ_PER_MAC
from neurotwin.io import atomic_write_text
from neurotwin.report import figures
from neurotwin.report.document import kind_of, rows_by_model
from neurotwin.report.terminal import SUMMARY_NOTE, summary_headers, summary_records
from neurotwin.report.verdicts import display_name, format_p, headline

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: #1d2330; background: #fff; margin: 0; line-height: 1.5; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.2rem 0 0.3rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 2px solid #e3e7ef;
     padding-bottom: 0.2rem; }
h3 { font-size: 1.02rem; margin: 1.2rem 0 0.4rem; }
.sub { color: #5b6475; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; margin: 0.5rem 0; }
th, td { padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #eef1f7; border-bottom: 2px solid #cfd6e4; font-weight: 600; }
tbody tr:nth-child(even) { background: #f7f8fb; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
table.summary { font-size: 0.84rem; }
table.summary th, table.summary td { padding: 0.35rem 0.4rem; }
table.kv { width: auto; }
table.kv th { background: none; border: none; color: #5b6475; font-weight: 500; padding-left: 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85em;
       background: #f1f3f7; padding: 0.05rem 0.3rem; border-radius: 3px; word-break: break-all; }
.badge { display: inline-block; padding: 0.1rem 0.5rem; border-radius: 999px; font-size: 0.78rem;
         font-weight: 600; white-space: nowrap; }
.verdicts li { margin: 0.25rem 0; }
.badge.noise { background: #dcf5e3; color: #15603a; border: 1px solid #9fd8b4; }
.badge.differs { background: #fff1d6; color: #7a4b00; border: 1px solid #ecc67a; }
.badge.reference { background: #eef1f7; color: #4a5468; border: 1px solid #cfd6e4; }
.caption, figcaption { color: #5b6475; font-size: 0.85rem; margin-top: 0.3rem; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #e3e7ef; border-radius: 4px; }
.note { color: #8a4b00; background: #fff7e8; border-left: 3px solid #ecc67a;
        padding: 0.3rem 0.6rem; font-size: 0.85rem; }
footer { margin-top: 3rem; border-top: 1px solid #e3e7ef; padding-top: 0.8rem; color: #5b6475;
         font-size: 0.85rem; }
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def page(title: str, body: str) -> str:
    """A whole self-contained HTML page: ``title`` (escaped here) and ``body`` (HTML), the report's
    style sheet inlined."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def figure(png: bytes, alt: str, caption: str) -> str:
    """A ``<figure>`` with ``png`` inlined as a data URI, its alt text and caption escaped."""
    return (
        f'<figure><img src="{_data_uri(png)}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def note(text: str) -> str:
    """A highlighted note paragraph (``text`` escaped)."""
    return f'<p class="note">{escape(text)}</p>'


def kv_table(pairs: list[tuple[str, Any]]) -> str:
    """A two-column table of (name, value) pairs; pairs whose value is None are left out."""
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in pairs if v is not None
    )
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def _title(doc: Mapping[str, Any]) -> str:
    task = doc.get("task", {})
    return (
        f"<header><h1>neurotwin report: {escape(str(task.get('name', 'task')))}</h1>"
        f'<p class="sub">neurotwin {escape(str(doc.get("neurotwin_version", "?")))}, '
        f"results schema {escape(str(doc.get('schema_version', '?')))}</p></header>"
    )


def _task_and_run(doc: Mapping[str, Any]) -> str:
    task = doc.get("task", {})
    manifest = doc.get("manifest", {})
    label = kind_of(doc).metric_label
    task_pairs = [
        ("kind", task.get("kind")),
        ("train / test samples", f"{task.get('n_train', '?')} / {task.get('n_test', '?')}"),
        ("metric", label),
        ("features", task.get("n_features")),
        ("classes", task.get("n_classes")),
        (
            "fitted on",
            task.get("n_fit")
            and f"{task['n_fit']} samples (training part less a 10 % "
            "validation slice used for early stopping)",
        ),
        (
            "split",
            "fixed test set: the spread over seeds is initialisation only"
            if task.get("fixed_split")
            else "a new train/test split drawn from each seed",
        ),
        (
            "input shape",
            " × ".join(map(str, task["input_shape"])) if task.get("input_shape") else None,
        ),
    ]
    command = manifest.get("command")
    manifest_pairs = [(k, v) for k, v in manifest.items() if k != "command"]
    return (
        f"<h2>Task</h2>{kv_table(task_pairs)}"
        f"<h2>Run</h2>"
        + (f"<p><code>{escape(str(command))}</code></p>" if command else "")
        + kv_table(manifest_pairs)
    )


def _verdicts(doc: Mapping[str, Any]) -> str:
    lines = headline(doc)
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<h2>Verdict</h2><ul class="verdicts">{items}</ul>'


def _summary(doc: Mapping[str, Any]) -> str:
    headers = summary_headers(doc)
    records = summary_records(doc)
    if not records:
        return "<h2>Summary</h2>" + note("The document has no summary.")
    left = {"model", "paradigm", "rule", "vs_first", "vs_control"}
    head = "".join(f"<th>{escape(h)}</th>" for h in headers.values())
    body = []
    for rec in records:
        cells = []
        for key in headers:
            if key == "vs_first":
                cls = {True: "differs", False: "noise", None: "reference"}[rec.detected]
                cells.append(f'<td><span class="badge {cls}">{escape(rec.vs_first)}</span></td>')
            elif key == "p_values" and rec.p_by_seed:
                title = ", ".join(f"seed {s}: p = {p}" for s, p in rec.p_by_seed)
                cells.append(f'<td class="num" title="{escape(title)}">{escape(rec.p_values)}</td>')
            else:
                cls = "" if key in left else ' class="num"'
                cells.append(f"<td{cls}>{escape(str(getattr(rec, key)))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption = (
        f"Mean over seeds. {SUMMARY_NOTE} Energy and parameters are means over seeds; a control's "
        "random first layer counts as fixed, not learned. Training time is the median and range "
        "over seeds. Each pair's tests are listed below."
    )
    return (
        "<h2>Summary</h2>"
        f'<div class="scroll"><table class="summary"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
        f'<p class="caption">{escape(caption)}</p>'
    )


def _tests(doc: Mapping[str, Any]) -> str:
    """Every tested pair: the verdict over seeds and the per-seed paired tests."""
    kind = kind_of(doc)
    rows = []
    for v in doc.get("verdicts", []):
        pair = (v["a"], v["b"])
        per_seed = [
            c
            for c in doc.get("comparisons", [])
            if (c["a"], c["b"]) == pair and c.get("relation") == v["relation"]
        ]
        seeds = "; ".join(
            f"seed {c['seed']}: p = {format_p(c['p'])} (Holm {format_p(c.get('p_holm'))})"
            for c in per_seed
        )
        relation = "against its control" if v["relation"] == "vs_control" else "against the first"
        rows.append(
            f"<tr><td>{escape(display_name(v['b']))}</td><td>{escape(display_name(v['a']))}"
            f' ({relation})</td><td class="num">{escape(format_p(v.get("p")))}</td>'
            f'<td class="num">{escape(format_p(v.get("p_holm")))}</td>'
            f"<td>{escape(seeds or '—')}</td></tr>"
        )
    if not rows:
        return ""
    test = kind.paired_test
    return (
        "<h2>Tests</h2>"
        '<div class="scroll"><table><thead><tr><th>Model</th><th>Tested against</th>'
        "<th>corrected t-test p</th><th>Holm-adjusted</th>"
        f"<th>{escape(test.label)} per seed</th></tr></thead><tbody>{''.join(rows)}</tbody>"
        "</table></div>"
        f'<p class="caption">{escape(_TESTS_CAPTION)} Per seed: the {escape(test.describes)}, '
        "Holm-adjusted over all pairs × seeds.</p>"
    )


_TESTS_CAPTION = (
    "Across seeds: the corrected resampled t-test (Nadeau & Bengio 2003) on the per-seed "
    "differences of the test metric, its variance widened by n_test / n_fit because every seed's "
    "split is drawn from the same data (no widening with a fixed test set, where the spread is "
    "initialisation only); p Holm-adjusted over the pairs; a difference is 'detected' when that p "
    "is below 0.05. The minimum detectable difference is the true difference this test would "
    "detect with 80 % power."
)


def _extras(doc: Mapping[str, Any]) -> str:
    """Learner-specific numbers (``metrics.extra``), mean ± std over seeds."""
    rows = []
    for name, group in rows_by_model(doc).items():
        values: dict[str, list[float]] = {}
        for row in group:
            for key, value in ((row.get("metrics") or {}).get("extra") or {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    values.setdefault(key, []).append(float(value))
        for key, vals in values.items():
            text = f"{np.mean(vals):.4g}"
            if len(vals) > 1:
                text += f" ± {np.std(vals):#.2g}"
            rows.append(
                f"<tr><td>{escape(name)}</td><td>{escape(key.replace('_', ' '))}</td>"
                f'<td class="num">{escape(text)}</td><td class="num">{len(vals)}</td></tr>'
            )
    if not rows:
        return ""
    return (
        "<h2>Learner-specific measurements</h2>"
        "<table><thead><tr><th>Model</th><th>Quantity</th><th>Value (mean ± std over seeds)</th>"
        f"<th>Seeds</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _comparison_figures(doc: Mapping[str, Any]) -> str:
    kind = kind_of(doc)
    label = kind.metric_label
    floor = kind.floor(doc.get("task", {}))
    floor_text = f"; the dashed line is {floor[1]}" if floor else ""
    parts = {
        "learning_curves": (
            "Validation curves",
            figures.learning_curves_png,
            f"Validation {label} per epoch of each model's supervised stage (named in the legend: "
            "the whole network for mlp, the readout after the unsupervised first layer for "
            "hebbian), so curves are not epoch-for-epoch comparable across models. Thin lines "
            "are single seeds, the thick line the mean.",
            "No model recorded a validation history.",
        ),
        "metric_vs_energy": (
            f"Test {label} vs energy",
            figures.metric_vs_energy_png,
            f"Test {label} (mean, 95 % CI bars) against the energy of one inference (log scale). "
            "Circles: artificial; triangles: brain-like. Up and to the left is better. "
            + _ENERGY_DEPENDS,
            "No model reported an energy per inference.",
        ),
        "lesion_curves": (
            "Lesion curves",
            figures.lesion_curves_png,
            f"Test {label} as a growing random fraction of all synapses is removed from a copy of "
            f"each trained model (nested fractions, mean over seeds, band ± 1 std){floor_text}. "
            + _LESION_MODES,
            "No model was lesioned.",
        ),
    }
    html = []
    for name in kind.figures:
        if name not in parts:
            continue
        title, draw, caption, missing = parts[name]
        png = draw(doc)
        html.append(f"<h2>{escape(title)}</h2>")
        html.append(figure(png, title, caption) if png else note(missing))
    png = figures.alignment_curves_png(doc)  # only where a learner records the angle
    if png is not None:
        title = "Feedback alignment"
        html.append(f"<h2>{title}</h2>")
        html.append(
            figure(
                png,
                title,
                "Angle between each model's last-hidden-layer update under its own feedback "
                "pathway (before the optimiser) and the true backprop gradient, per epoch, on a "
                "fixed validation batch (Lillicrap et al. 2016). 90° (dashed) is no alignment; "
                "0° is backprop. Feedback alignment starts near 90° and aligns as the forward "
                "weights come to agree with the fixed feedback; sign symmetry starts aligned, "
                "since it shares the forward weights' signs. Thin lines: seeds; thick: the mean.",
            )
        )
    return "".join(html)


_ENERGY_DEPENDS = (
    "Energy counts only effective operations (synapses whose input is non-zero), so it depends on "
    "the input encoding as much as on the paradigm: standardised inputs are almost never zero, "
    "unit-range pixels often are. It also grows with width (hidden units). Compare a brain-like "
    "learner with the artificial model on the same encoding: mlp (unit_encoding) is the MLP fed "
    "the brain learners' unit-range inputs."
)
_LESION_MODES = (
    "Left, zero-ablation: a removed synapse's input counts 0 (with standardised inputs this is "
    "close to mean-ablation, since their mean is 0; with unit-range inputs it is a true zero). "
    "Right, mean-ablation: a removed synapse contributes its mean input over the training part, "
    "folded into the bias. The test part is used for no choice, but it is evaluated at each level."
)


def _learner_figures(doc: Mapping[str, Any], out_dir: Path) -> str:
    """Each model's own figures from its seed-0 row (or its lowest seed), read from ``out_dir``."""
    root = out_dir.resolve()
    html = []
    for name, group in rows_by_model(doc).items():
        row = next((r for r in group if r.get("seed") == 0), group[0])
        for warning in row.get("warnings") or []:
            html.append(note(f"{name} (seed {row.get('seed', 0)}): {warning}"))
        for key, rel in (row.get("figures") or {}).items():
            title = key.replace("_", " ")
            path = (root / rel).resolve()
            caption = f"{name}: {title} (seed {row.get('seed', 0)}, file {rel})."
            try:
                if root not in path.parents:
                    raise FileNotFoundError("outside the run folder")
                png = path.read_bytes()
                if not png.startswith(_PNG_MAGIC):
                    raise ValueError("not a PNG file")
            except (OSError, ValueError) as err:
                why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
                html.append(note(f"{name}: figure '{title}' ({rel}) was skipped: {why}."))
                continue
            html.append(f"<h3>{escape(name)}: {escape(title)}</h3>")
            html.append(figure(png, f"{name} {title}", caption))
    if not html:
        return ""
    return "<h2>Learners' own figures</h2>" + "".join(html)


def _footer() -> str:
    return (
        "<footer><p><strong>Energy.</strong> Energy per inference = effective MAC × "
        f"{PJ_PER_MAC} pJ + effective AC × {PJ_PER_AC} pJ ({escape(ENERGY_SOURCE)}). Neuron "
        "state updates are counted but not costed; memory traffic is neither counted nor "
        "costed.</p>"
        "<p><strong>Operations</strong> follow NeuroBench's definitions (Yik et al.): a synaptic "
        "operation on a real-valued input is a multiply-accumulate (MAC), on a binary spike an "
        "accumulate (AC). <em>Dense</em> ops count every synapse, removed or not, for every input; "
        "<em>effective</em> ops only those whose presynaptic input is non-zero, so silent inputs "
        "and removed synapses cost nothing. Counts are averaged over the test set.</p>"
        "<p>Generated by neurotwin; this page is self-contained (no network access).</p></footer>"
    )


def render_report(doc: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> str:
    """The report page as an HTML string (learner figures are read from ``out_dir``)."""
    from neurotwin.report.medical import medical_sections  # it builds on this module's helpers

    out_dir = Path(out_dir)
    title = f"neurotwin report: {doc.get('task', {}).get('name', 'task')}"
    body = (
        _title(doc)
        + _verdicts(doc)
        + _summary(doc)
        + _tests(doc)
        + medical_sections(doc)
        + _task_and_run(doc)
        + _extras(doc)
        + _comparison_figures(doc)
        + _learner_figures(doc, out_dir)
        + _footer()
    )
    return page(title, body)


def write_report(doc: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``out_dir/report.html`` atomically and return its path."""
    out_dir = Path(out_dir)
    return atomic_write_text(out_dir / "report.html", render_report(doc, out_dir))
