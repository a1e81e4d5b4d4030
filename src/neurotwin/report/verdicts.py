"""The verdicts of a results document in words: who won, by how much, and whether it is real.

Each sentence says what was tested, with its direction and size, never "equal": a difference the
test did not detect is reported as "not detected at n = … test samples × … seeds", with the
minimum difference the test would have detected (80 % power, α = 0.05). The terminal and the
HTML report print the same sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neurotwin import kinds
from neurotwin.report.document import display_name, kind_of

#: Significance level of the verdicts (the corrected t-test's Holm-adjusted p).
ALPHA = 0.05


def difference_scale(kind: kinds.TaskKind) -> tuple[float, str, int]:
    """``(factor, unit, decimals)`` of shown differences: percentage points for a proportion
    (accuracy), the metric's own units otherwise."""
    if kind.proportion:
        return 100.0, " points", 1
    return 1.0, f" {kind.metric_label}", 3


def format_difference(value: float | None, kind: kinds.TaskKind, signed: bool = False) -> str:
    """A metric difference in display units (``0.4 points``, ``0.031 R²``)."""
    if value is None:
        return "—"
    factor, unit, digits = difference_scale(kind)
    number = value * factor
    return (f"{number:+.{digits}f}" if signed else f"{abs(number):.{digits}f}") + unit


def format_p(p: float | None) -> str:
    """``p`` with three decimals, ``<0.001`` below that, ``—`` when missing."""
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def short_verdict(verdict: Mapping[str, Any] | None, doc: Mapping[str, Any]) -> str:
    """A table cell, the difference in the column's units (points of accuracy, or the metric's):
    ``-0.4 not detected`` / ``+1.2 detected`` / ``+0.3 untested (1 seed)``."""
    if verdict is None:
        return "—"
    kind = kind_of(doc)
    factor, _, digits = difference_scale(kind)
    text = f"{verdict['mean'] * factor:+.{digits}f}"
    if verdict.get("detected") is None:
        return f"{text} untested (1 seed)"
    return f"{text} {'detected' if verdict['detected'] else 'not detected'}"


def sentence(verdict: Mapping[str, Any], doc: Mapping[str, Any]) -> str:
    """The whole verdict of one pair as a sentence (see the module docstring)."""
    kind = kind_of(doc)
    a, b = display_name(verdict["a"]), display_name(verdict["b"])
    d = verdict["mean"]
    higher = d > 0 if kind.higher_is_better else d < 0
    if d == 0:
        head = f"{b} and {a} have the same mean test {kind.metric_label}"
    else:
        direction = "higher" if d > 0 else "lower"
        head = (
            f"{b} is {direction} than {a} by {format_difference(d, kind)} of test "
            f"{kind.metric_label}"
        )
    n_seeds, n_test = len(verdict.get("seeds", [])), verdict.get("n_test", "?")
    sample = f"n = {n_test} test samples × {n_seeds} seed{'s' if n_seeds != 1 else ''}"
    if verdict.get("detected") is None:
        return f"{head}; one seed, so no test across seeds ({sample})."
    ci = verdict.get("ci95")
    ci_text = (
        f" (95 % CI {format_difference(ci[0], kind, True)} to {format_difference(ci[1], kind, True)})"
        if ci
        else ""
    )
    n_pairs = len(doc.get("verdicts", [])) or 1
    p_text = f"p = {format_p(verdict['p'])}"
    if n_pairs > 1:
        # the CI is unadjusted; the p that decides is adjusted for the other pairs tested
        p_text += f", {format_p(verdict['p_holm'])} after Holm's correction over {n_pairs} pairs"
    if verdict["detected"]:
        better = b if higher else a
        tail = f"detected ({p_text}, {sample}): {better} is better"
    else:
        tail = (
            f"not detected at {sample} ({p_text}; minimum detectable difference "
            f"{format_difference(verdict.get('mdd'), kind)})"
        )
    if verdict.get("ratio", 0) == 0 and doc.get("task", {}).get("fixed_split"):
        tail += "; fixed test set, so the spread over seeds is initialisation only"
    return f"{head}{ci_text}; {tail}."


def verdict_for(doc: Mapping[str, Any], a_key, b_key) -> Mapping[str, Any] | None:
    """The verdict of the pair (a, b), keys being ``(model, variant)``; None when untested."""
    for verdict in doc.get("verdicts", []):
        pair = (
            (verdict["a"]["model"], verdict["a"]["variant"]),
            (verdict["b"]["model"], verdict["b"]["variant"]),
        )
        if pair == (a_key, b_key):
            return verdict
    return None


def headline(doc: Mapping[str, Any]) -> list[str]:
    """Who won, by how much, and is it real: the best mean, then each tested pair's sentence
    (each brain-like learner against its control first, then each model against the first)."""
    kind = kind_of(doc)
    key = f"test_{kind.metric}"
    entries = [e for e in doc.get("summary", []) if (e.get(key) or {}).get("mean") is not None]
    if not entries:
        return []
    pick = max if kind.higher_is_better else min
    best = pick(entries, key=lambda e: e[key]["mean"])
    stats = best[key]
    extreme = "Highest" if kind.higher_is_better else "Lowest"
    lines = [
        f"{extreme} mean test {kind.metric_label}: {display_name(best)}, "
        f"{stats['mean']:.3f} over {stats.get('n', '?')} seed(s)."
    ]
    verdicts = doc.get("verdicts", [])
    ordered = [v for v in verdicts if v.get("relation") == "vs_control"]
    ordered += [v for v in verdicts if v.get("relation") != "vs_control"]
    lines += [sentence(v, doc) for v in ordered]
    return lines
