"""``OUT/report.html``: one self-contained page (figures inlined as data URIs, no network fetches).

The page holds, in order: the task and the run's manifest; the summary table (mean ± 95 % CI over
seeds, energy, parameters, training time, paired p-values against the first model and a "within
noise" badge); learner-specific numbers; validation curves, metric vs energy, lesion curves; each
learner's own figures (seed 0, read from ``OUT``); and the energy constants and op definitions.
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
from neurotwin.report import figures
from neurotwin.report.terminal import WITHIN_NOISE_MEANING, summary_headers, summary_records

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


def _figure(png: bytes, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="{_data_uri(png)}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _kv_table(pairs: list[tuple[str, Any]]) -> str:
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in pairs if v is not None
    )
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def _header(doc: Mapping[str, Any]) -> str:
    task = doc.get("task", {})
    manifest = doc.get("manifest", {})
    label = figures.METRIC_LABELS.get(figures.metric_key(doc), figures.metric_key(doc))
    task_pairs = [
        ("kind", task.get("kind")),
        ("train / test samples", f"{task.get('n_train', '?')} / {task.get('n_test', '?')}"),
        ("metric", label),
        ("features", task.get("n_features")),
        ("classes", task.get("n_classes")),
        (
            "input shape",
            " × ".join(map(str, task["input_shape"])) if task.get("input_shape") else None,
        ),
    ]
    command = manifest.get("command")
    manifest_pairs = [(k, v) for k, v in manifest.items() if k != "command"]
    return (
        f"<header><h1>neurotwin report: {escape(str(task.get('name', 'task')))}</h1>"
        f'<p class="sub">neurotwin {escape(str(doc.get("neurotwin_version", "?")))}, '
        f"results schema {escape(str(doc.get('schema_version', '?')))}</p></header>"
        f"<h2>Task</h2>{_kv_table(task_pairs)}"
        f"<h2>Run</h2>"
        + (f"<p><code>{escape(str(command))}</code></p>" if command else "")
        + _kv_table(manifest_pairs)
    )


def _summary(doc: Mapping[str, Any]) -> str:
    headers = summary_headers(doc)
    records = summary_records(doc)
    if not records:
        return "<h2>Summary</h2>" + _note("The document has no summary.")
    left = {"model", "paradigm", "rule", "verdict"}
    head = "".join(f"<th>{escape(h)}</th>" for h in headers.values())
    body = []
    for rec in records:
        cells = []
        for key in headers:
            if key == "verdict":
                cls = {True: "noise", False: "differs", None: "reference"}[rec.within_noise]
                cells.append(f'<td><span class="badge {cls}">{escape(rec.verdict)}</span></td>')
            elif key == "p_values" and rec.p_by_seed:
                title = ", ".join(f"seed {s}: p = {p}" for s, p in rec.p_by_seed)
                cells.append(f'<td class="num" title="{escape(title)}">{escape(rec.p_values)}</td>')
            else:
                cls = "" if key in left else ' class="num"'
                cells.append(f"<td{cls}>{escape(str(getattr(rec, key)))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    first = records[0].model
    caption = (
        f"Mean over seeds ± half-width of the 95 % confidence interval over seeds (none with a "
        f"single seed). Energy and training time are means over seeds. "
        f"p-values compare each model with the first one, {first}, on the same test split, one per "
        f"seed in seed order (hover for the seeds). Badge 'within noise': {WITHIN_NOISE_MEANING}, "
        f"so the difference from {first} cannot be told apart from sampling noise. 'differs': "
        f"p < 0.05 on at least one seed."
    )
    return (
        "<h2>Summary</h2>"
        f'<div class="scroll"><table class="summary"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
        f'<p class="caption">{escape(caption)}</p>'
    )


def _extras(doc: Mapping[str, Any]) -> str:
    """Learner-specific numbers (``metrics.extra``), mean ± std over seeds."""
    rows = []
    for name, group in figures.rows_by_model(doc).items():
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
    label = figures.METRIC_LABELS.get(figures.metric_key(doc), figures.metric_key(doc))
    chance = (
        "the dashed line is chance (1 / number of classes)"
        if figures.metric_key(doc) == "accuracy"
        else "the dashed line is R² = 0, the score of always predicting the mean"
    )
    parts = [
        (
            "Validation curves",
            figures.learning_curves_png,
            f"Validation {label} per epoch: thin lines are single seeds, the thick line the mean.",
            "No model recorded a validation history.",
        ),
        (
            f"Test {label} vs energy",
            figures.metric_vs_energy_png,
            f"Test {label} (mean, 95 % CI bars) against the energy of one inference (log scale). "
            "Circles: artificial; triangles: brain-like. Up and to the left is better.",
            "No model reported an energy per inference.",
        ),
        (
            "Lesion curves",
            figures.lesion_curves_png,
            f"Test {label} as a growing random fraction of synapses is removed "
            f"(mean over seeds, band ± 1 std); {chance}.",
            "No model was lesioned.",
        ),
    ]
    html = []
    for title, draw, caption, missing in parts:
        png = draw(doc)
        html.append(f"<h2>{escape(title)}</h2>")
        html.append(_figure(png, title, caption) if png else _note(missing))
    return "".join(html)


def _learner_figures(doc: Mapping[str, Any], out_dir: Path) -> str:
    """Each model's own figures from its seed-0 row (or its lowest seed), read from ``out_dir``."""
    root = out_dir.resolve()
    html = []
    for name, group in figures.rows_by_model(doc).items():
        row = next((r for r in group if r.get("seed") == 0), group[0])
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
                html.append(_note(f"{name}: figure '{title}' ({rel}) was skipped: {why}."))
                continue
            html.append(f"<h3>{escape(name)}: {escape(title)}</h3>")
            html.append(_figure(png, f"{name} {title}", caption))
    if not html:
        return ""
    return "<h2>Learners' own figures</h2>" + "".join(html)


def _footer() -> str:
    return (
        "<footer><p><strong>Energy.</strong> Energy per inference = effective MAC × "
        f"{PJ_PER_MAC} pJ + effective AC × {PJ_PER_AC} pJ ({escape(ENERGY_SOURCE)}). Neuron "
        "state updates and memory traffic are counted but not costed.</p>"
        "<p><strong>Operations</strong> follow NeuroBench's definitions (Yik et al.): a synaptic "
        "operation on a real-valued input is a multiply-accumulate (MAC), on a binary spike an "
        "accumulate (AC). <em>Dense</em> ops count every unmasked synapse for every input; "
        "<em>effective</em> ops only those whose presynaptic input is non-zero, so silent inputs "
        "and removed synapses cost nothing. Counts are averaged over the test set.</p>"
        "<p>Generated by neurotwin; this page is self-contained (no network access).</p></footer>"
    )


def render_report(doc: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> str:
    """The report page as an HTML string (learner figures are read from ``out_dir``)."""
    out_dir = Path(out_dir)
    title = f"neurotwin report: {doc.get('task', {}).get('name', 'task')}"
    body = (
        _header(doc)
        + _summary(doc)
        + _extras(doc)
        + _comparison_figures(doc)
        + _learner_figures(doc, out_dir)
        + _footer()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def write_report(doc: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``out_dir/report.html`` atomically (temp file, fsync, rename) and return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "report.html"
    text = render_report(doc, out_dir)
    # Not mkstemp: its 0600 mode would make the page unreadable to others; open() honours umask.
    tmp = out_dir / f".report.html.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
