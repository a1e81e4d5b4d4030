"""Reading a results document (``results.json`` as a dict) for the report: names and groups.

A row's display name is its ``model``, or ``"model (variant)"`` when it has a variant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neurotwin import kinds


def kind_of(doc: Mapping[str, Any]) -> kinds.TaskKind:
    """The document's task kind (:mod:`neurotwin.kinds`): its metric, label and figures."""
    return kinds.get(doc.get("task", {}).get("kind", "classification"))


def display_name(row: Mapping[str, Any]) -> str:
    """``model``, or ``"model (variant)"`` when the row (or summary entry) has a variant."""
    variant = row.get("variant")
    return row["model"] if variant is None else f"{row['model']} ({variant})"


def model_names(doc: Mapping[str, Any]) -> list[str]:
    """Display names in report order: the summary's order, then any model only in the results."""
    names = [display_name(s) for s in doc.get("summary", [])]
    for row in doc.get("results", []):
        name = display_name(row)
        if name not in names:
            names.append(name)
    return names


def rows_by_model(doc: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Result rows grouped by display name (report order), each group sorted by seed."""
    groups: dict[str, list[dict[str, Any]]] = {name: [] for name in model_names(doc)}
    for row in doc.get("results", []):
        groups[display_name(row)].append(row)
    return {k: sorted(v, key=lambda r: r.get("seed", 0)) for k, v in groups.items() if v}
