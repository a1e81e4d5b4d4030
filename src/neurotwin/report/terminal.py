"""The summary table of a results document, for the terminal (rich) and shared with the HTML page.

:func:`summary_records` turns the document's ``summary``, ``comparisons`` and ``verdicts`` into
rows of display strings, one per model; :func:`summary_table` lays them out with rich and
``report.html`` uses the same rows, so the terminal and the page always show the same numbers.
Under the table, :func:`print_summary` prints the verdicts in words
(:func:`neurotwin.report.verdicts.headline`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from neurotwin.report.document import display_name, kind_of
from neurotwin.report.verdicts import format_p, headline, short_verdict, verdict_for

#: How the summary's statistics are computed, shown under both tables.
SUMMARY_NOTE = (
    "± is the half-width of the 95 % CI over seeds, widened by Nadeau & Bengio's correction for "
    "overlapping splits; 'vs first' and 'vs control': difference of the mean and whether the "
    "corrected t-test over seeds detects it (Holm-adjusted p < 0.05); p per seed: the paired "
    "test on one split, Holm-adjusted over all pairs × seeds."
)


@dataclass
class SummaryRecord:
    """One model's summary row as display strings."""

    model: str
    paradigm: str
    rule: str
    metric: str  #: mean ± half-width of the corrected 95 % CI over seeds
    n: str  #: number of seeds
    mse: str | None  #: regression only
    energy_nj: str
    params: str  #: learned (+ fixed)
    train_seconds: str  #: median (min–max)
    p_by_seed: list[tuple[int, str]] = field(default_factory=list)
    vs_first: str = "reference"
    vs_control: str = "—"
    detected: bool | None = None  #: the verdict against the first model (None: reference)

    @property
    def p_values(self) -> str:
        """The per-seed Holm-adjusted p-values against the first model, or a dash."""
        return " · ".join(p for _, p in self.p_by_seed) if self.p_by_seed else "—"


def format_stat(stats: Mapping[str, Any] | None, digits: int | None = 3) -> str:
    """``"mean ± h"`` with h the half-width of the 95 % CI; just the mean when there is no CI.

    ``digits`` decimals, or ``None`` for :func:`format_number`'s three significant figures.
    """
    if not stats or stats.get("mean") is None:
        return "—"
    fmt = format_number if digits is None else (lambda x: f"{x:.{digits}f}")
    text = fmt(stats["mean"])
    ci = stats.get("ci95")
    if ci is not None and None not in ci:
        text += f" ± {fmt((ci[1] - ci[0]) / 2)}"
    return text


def format_range(stats: Mapping[str, Any] | None) -> str:
    """``"median (min–max)"`` of a :func:`neurotwin.stats.median_range` dict."""
    if not stats or stats.get("median") is None:
        return "—"
    if stats.get("n", 1) == 1:
        return f"{stats['median']:.1f}"
    return f"{stats['median']:.1f} ({stats['min']:.1f}–{stats['max']:.1f})"


def format_number(x: float | None) -> str:
    """Three significant figures (``60.0``, ``39.3``, ``0.0123``); whole numbers from 100 up."""
    if x is None:
        return "—"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:#.3g}"


def _params(entry: Mapping[str, Any]) -> str:
    learned = (entry.get("params_learned") or {}).get("mean")
    fixed = (entry.get("params_fixed") or {}).get("mean")
    if learned is None:
        return "—"
    text = f"{round(learned):,}"
    return f"{text} + {round(fixed):,} fixed" if fixed else text


def _key(d: Mapping[str, Any]) -> tuple[str, str | None]:
    return d["model"], d.get("variant")


def summary_records(doc: Mapping[str, Any]) -> list[SummaryRecord]:
    """The summary of ``doc`` as display rows, in order; the first row is the reference."""
    kind = kind_of(doc)
    summary = doc.get("summary", [])
    first = _key(summary[0]) if summary else None
    records = []
    for entry in summary:
        key = _key(entry)
        p_by_seed = sorted(
            (c.get("seed", 0), format_p(c.get("p_holm", c.get("p"))))
            for c in doc.get("comparisons", [])
            if (_key(c["a"]), _key(c["b"])) == (first, key)
        )
        vs_first = verdict_for(doc, first, key) if key != first else None
        control = next(
            (
                v
                for v in doc.get("verdicts", [])
                if v["relation"] == "vs_control" and _key(v["b"]) == key
            ),
            None,
        )
        stats = entry.get(f"test_{kind.metric}") or {}
        records.append(
            SummaryRecord(
                model=display_name(entry),
                paradigm=str(entry.get("paradigm") or "—"),
                rule=str(entry.get("rule") or "—"),
                metric=format_stat(stats),
                n=str(stats.get("n", "?")),
                mse=format_stat(entry.get("test_mse"), None) if "test_mse" in entry else None,
                energy_nj=format_number((entry.get("energy_nj_per_inference") or {}).get("mean")),
                params=_params(entry),
                train_seconds=format_range(entry.get("train_seconds")),
                p_by_seed=p_by_seed,
                vs_first="reference" if key == first else short_verdict(vs_first, doc),
                vs_control="—" if control is None else short_verdict(control, doc),
                detected=None if vs_first is None else vs_first.get("detected"),
            )
        )
    return records


def summary_headers(doc: Mapping[str, Any], compact: bool = False) -> dict[str, str]:
    """Column key → header, in display order; ``mse`` only for regression.

    ``compact`` gives the short headers of the terminal table.
    """
    kind = kind_of(doc)
    test = kind.paired_test.label
    unit = " (points)" if kind.proportion else ""
    short_unit = " (pts)" if kind.proportion else ""
    headers = {
        "model": "Model",
        "paradigm": "Paradigm",
        "rule": "Rule",
        "metric": f"Test {kind.metric_label} (mean ± 95 % CI)",
        "n": "Seeds",
        "mse": "Test MSE",
        "vs_first": f"Difference vs first{unit}",
        "vs_control": f"Difference vs its control{unit}",
        "energy_nj": "Energy (nJ/inference)",
        "params": "Params (learned + fixed)",
        "train_seconds": "Train s, median (range)",
        "p_values": f"{test} p vs first, per seed (Holm)",
    }
    if compact:
        headers.update(
            metric=f"{kind.metric_label} ± CI95",
            n="n",
            mse="MSE",
            energy_nj="nJ/inf",
            params="params",
            train_seconds="train s",
            p_values=f"p ({test}, Holm)",
            vs_first=f"vs first{short_unit}",
            vs_control=f"vs control{short_unit}",
        )
    if kind.metric != "r2":
        del headers["mse"]
    return headers


_VERDICT_STYLE = {True: "yellow", False: "green", None: "dim"}

#: The terminal table's columns when the console is too narrow for all of them (the verdicts are
#: printed in words under the table at every width, and the HTML report has every column).
NARROW_COLUMNS = ("model", "metric", "n", "mse", "energy_nj", "vs_first")
MEDIUM_COLUMNS = (*NARROW_COLUMNS, "params", "train_seconds", "vs_control")


def summary_table(doc: Mapping[str, Any], width: int | None = None) -> Table:
    """A rich table of the summary: the same numbers as the HTML report, with as many columns as
    a console ``width`` characters wide holds (every column, else :data:`MEDIUM_COLUMNS`, else
    :data:`NARROW_COLUMNS`). Cells wrap only between words, never inside a name."""
    records = summary_records(doc)
    headers = summary_headers(doc, compact=True)
    tiers = [tuple(headers), MEDIUM_COLUMNS, NARROW_COLUMNS]
    for keep in tiers:
        table = _table(doc, records, {k: h for k, h in headers.items() if k in keep})
        if width is None or _rendered_width(table, width) <= width:
            break
    return table


def _rendered_width(table: Table, width: int) -> int:
    """The widest line of ``table`` printed on a console ``width`` wide, uncropped."""
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(table, crop=False)
    return max((len(line) for line in console.export_text().splitlines()), default=0)


def _table(doc: Mapping[str, Any], records: list[SummaryRecord], headers: dict[str, str]) -> Table:
    task = doc.get("task", {})
    table = Table(
        title=f"{task.get('name', 'task')} ({task.get('kind', '?')}): "
        f"{task.get('n_train', '?')} train / {task.get('n_test', '?')} test",
        header_style="bold",
        box=box.SIMPLE_HEAD,
    )
    numeric = {"metric", "n", "mse", "energy_nj", "params", "train_seconds", "p_values"}
    for key, header in headers.items():
        cells = [str(getattr(rec, key)) for rec in records] + [header]
        longest_word = max(len(word) for cell in cells for word in cell.split())
        table.add_column(
            header,
            justify="right" if key in numeric else "left",
            no_wrap=key in numeric - {"p_values", "train_seconds", "params"},
            overflow="fold",
            min_width=longest_word,
        )
    for rec in records:
        cells = []
        for key in headers:
            text = str(getattr(rec, key))
            cells.append(
                f"[{_VERDICT_STYLE[rec.detected]}]{text}[/]" if key == "vs_first" else text
            )
        table.add_row(*cells)
    return table


def print_summary(doc: Mapping[str, Any], console: Console | None = None) -> None:
    """Print :func:`summary_table`, then the verdicts in words, to ``console`` (default stdout)."""
    console = console or Console()
    console.print(summary_table(doc, width=console.width))
    for line in headline(doc):
        console.print(f"• {line}", highlight=False)
    console.print(f"[dim]{SUMMARY_NOTE}[/]", highlight=False)
