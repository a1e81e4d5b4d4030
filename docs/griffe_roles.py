"""Griffe extension for the docs build: turn Sphinx roles in docstrings into cross-references.

neurotwin's docstrings use Sphinx roles (``:class:`Task```, ``:func:`~neurotwin.kinds.register```).
Markdown does not know them, so before mkdocstrings renders a docstring each role becomes an
*optional* cross-reference: a link when the name resolves to an object shown in the API reference,
plain code otherwise. Optional references never produce a warning, so ``mkdocs build --strict``
stays clean whatever a docstring names. Only the docs build loads this file; the package does not.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|data|mod|attr|exc|obj|const):`(?P<target>[^`]+)`")


def _resolve(obj: griffe.Object, name: str) -> str | None:
    """The path of ``name`` as seen from ``obj``'s scope, or None when it does not resolve."""
    first, _, rest = name.partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        try:
            path = scope.resolve(first)
        except (griffe.NameResolutionError, griffe.AliasResolutionError, KeyError):
            path = None
        if path:
            return f"{path}.{rest}" if rest else path
        scope = scope.parent
    return None


def _rewrite(obj: griffe.Object, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        target = match["target"].strip()
        short = target.startswith("~")
        target = target.lstrip("~.")
        display = target.rsplit(".", 1)[-1] if short else target
        if target.startswith("_") or "._" in target:
            return f"`{display}`"
        path = target if target.startswith("neurotwin.") else _resolve(obj, target)
        if path is None:
            return f"`{display}`"
        return (
            f'<autoref identifier="{html.escape(path)}" optional>'
            f"<code>{html.escape(display)}</code></autoref>"
        )

    return ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring of a loaded package (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        seen: set[int] = set()
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None and ":" in obj.docstring.value:
                obj.docstring.value = _rewrite(obj, obj.docstring.value)
            stack.extend(m for m in obj.members.values() if not m.is_alias)

    def on_package_loaded(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """The same hook under its griffe 1.x name (griffe 2 calls only :meth:`on_package`)."""
        self.on_package(pkg=pkg, **kwargs)
