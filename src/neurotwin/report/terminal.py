"""The summary table of a results document, for the terminal (rich) and shared with the HTML page.

:func:`summary_records` turns the document's ``summary`` and ``comparisons`` into rows of
display strings, one per model; :func:`summary_table` lays them out with rich and ``report.html``
uses the same rows, so the terminal and the page always show the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from neurotwin.report.figures import METRIC_LABELS, display_name, metric_key, rows_by_model

#: What "within noise" means, shown under both tables.
WITHIN_NOISE_MEANING = (
    "the paired test against the first model (exact McNemar for classification, Wilcoxon on "
    "per-sample squared errors for regression) gives p ≥ 0.05 on every seed"
)
WITHIN_NOISE_NOTE = f"within noise: {WITHIN_NOISE_MEANING}"


@dataclass
class SummaryRecord:
    """One model's summary row as display strings (``within_noise`` is None for the first model)."""

    model: str
    paradigm: str
    rule: str
    metric: str  #: mean ± half-width of the 95 % CI over seeds
    n: str  #: number of seeds
    mse: str | None  #: regression only
    energy_nj: str
    params: str
    train_seconds: str
    p_by_seed: list[tuple[int, str]] = field(default_factory=list)
    within_noise: bool | None = None

    @property
    def p_values(self) -> str:
        """The per-seed p-values, in seed order, or a dash (the first model, or no comparison)."""
        return " · ".join(p for _, p in self.p_by_seed) if self.p_by_seed else "—"

    @property
    def verdict(self) -> str:
        return {None: "reference", True: "within noise", False: "differs"}[self.within_noise]


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


def format_number(x: float | None) -> str:
    """Three significant figures (``60.0``, ``39.3``, ``0.0123``); whole numbers from 100 up."""
    if x is None:
        return "—"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:#.3g}"


def format_p(p: float | None) -> str:
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _key(d: Mapping[str, Any]) -> tuple[str, str | None]:
    return d["model"], d.get("variant")


def summary_records(doc: Mapping[str, Any]) -> list[SummaryRecord]:
    """The summary of ``doc`` as display rows, in order; the first row is the reference."""
    metric = metric_key(doc)
    groups = rows_by_model(doc)
    summary = doc.get("summary", [])
    first = _key(summary[0]) if summary else None
    records = []
    for entry in summary:
        name = display_name(entry)
        rows = groups.get(name, [])
        params = [r.get("metrics", {}).get("params") for r in rows]
        params = [p for p in params if p is not None]
        p_by_seed = sorted(
            (c.get("seed", 0), format_p(c.get("p")))
            for c in doc.get("comparisons", [])
            if {_key(c["a"]), _key(c["b"])} == {first, _key(entry)} and _key(entry) != first
        )
        stats = entry.get(f"test_{metric}") or {}
        records.append(
            SummaryRecord(
                model=name,
                paradigm=str(entry.get("paradigm") or "—"),
                rule=str(entry.get("rule") or "—"),
                metric=format_stat(stats),
                n=str(stats.get("n", len(rows))),
                mse=format_stat(entry.get("test_mse"), None) if metric == "r2" else None,
                energy_nj=format_number((entry.get("energy_nj_per_inference") or {}).get("mean")),
                params=f"{round(sum(params) / len(params)):,}" if params else "—",
                train_seconds=format_stat(entry.get("train_seconds"), 1),
                p_by_seed=p_by_seed,
                within_noise=entry.get("within_noise_vs_first"),
            )
        )
    return records


def summary_headers(doc: Mapping[str, Any], compact: bool = False) -> dict[str, str]:
    """Column key → header, in display order; ``mse`` only for regression.

    ``compact`` gives the short headers of the terminal table.
    """
    metric = metric_key(doc)
    label = METRIC_LABELS.get(metric, metric)
    tests = {c.get("test") for c in doc.get("comparisons", [])}
    if tests <= {"mcnemar_exact"} and metric != "r2":
        test = "McNemar"
    elif tests <= {"wilcoxon"}:
        test = "Wilcoxon"
    else:
        test = "paired test"
    headers = {
        "model": "Model",
        "paradigm": "Paradigm",
        "rule": "Rule",
        "metric": f"Test {label} (mean ± 95 % CI)",
        "n": "Seeds",
        "mse": "Test MSE",
        "energy_nj": "Energy (nJ/inference)",
        "params": "Params",
        "train_seconds": "Train (s)",
        "p_values": f"{test} p vs first, per seed",
        "verdict": "vs first",
    }
    if compact:
        headers.update(
            metric=f"{label} ± CI95",
            n="n",
            mse="MSE",
            energy_nj="nJ/inf",
            train_seconds="train s",
            p_values=f"p vs first ({test})",
        )
    if metric != "r2":
        del headers["mse"]
    return headers


_VERDICT_STYLE = {True: "bold green", False: "yellow", None: "dim"}


#: Below this console width the terminal table leaves out paradigm, params and per-seed p-values.
NARROW_WIDTH = 120


def summary_table(doc: Mapping[str, Any], width: int | None = None) -> Table:
    """A rich table of the summary: the same columns and numbers as the HTML report (on a console
    narrower than :data:`NARROW_WIDTH`, without paradigm, params and per-seed p-values)."""
    task = doc.get("task", {})
    table = Table(
        title=f"{task.get('name', 'task')} ({task.get('kind', '?')}): "
        f"{task.get('n_train', '?')} train / {task.get('n_test', '?')} test",
        caption=WITHIN_NOISE_NOTE,
        caption_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    headers = summary_headers(doc, compact=True)
    if width is not None and width < NARROW_WIDTH:
        for key in ("paradigm", "params", "p_values"):
            headers.pop(key, None)
    numeric = {"metric", "n", "mse", "energy_nj", "params", "train_seconds", "p_values"}
    for key, header in headers.items():
        table.add_column(
            header,
            justify="right" if key in numeric else "left",
            no_wrap=key in numeric - {"p_values"},
            overflow="fold",
            min_width=10 if key == "model" else None,
        )
    for rec in summary_records(doc):
        cells = [str(getattr(rec, key)) for key in headers]
        cells[-1] = f"[{_VERDICT_STYLE[rec.within_noise]}]{rec.verdict}[/]"
        table.add_row(*cells)
    return table


def print_summary(doc: Mapping[str, Any], console: Console | None = None) -> None:
    """Print :func:`summary_table` to ``console`` (default: a new stdout console)."""
    console = console or Console()
    console.print(summary_table(doc, width=console.width))
