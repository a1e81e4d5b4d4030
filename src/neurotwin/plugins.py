"""Plug-in discovery, shared by the registries of learners and tasks.

A registry is filled without edits elsewhere, on first use: every module of its own package is
imported (alphabetically; a module registers what it defines when imported), then every entry point
of its group among the installed distributions is loaded and handed to the registry, which
registers what it points to (a module registers itself on import). A third-party entry point that
fails to load is skipped with a warning naming it, so one broken plug-in never stops neurotwin; a
broken module of neurotwin itself raises.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import warnings
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points


class Discovery:
    """Imports the modules of ``package`` (except ``skip``) and loads the entry points of
    ``group``, once; ``on_target(entry_point, target)`` registers a loaded non-module target or
    raises ``TypeError`` saying why it cannot. ``what`` names the kind of plug-in in warnings."""

    def __init__(
        self,
        package: str,
        group: str,
        *,
        on_target: Callable[[EntryPoint, object], None],
        what: str,
        skip: Iterable[str] = (),
    ) -> None:
        self.package, self.group, self.what = package, group, what
        self.on_target, self.skip = on_target, frozenset(skip)
        self.done = False

    def import_own_modules(self) -> None:
        """Import every module of the package, alphabetically (their registrations run)."""
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            if module.name not in self.skip:
                importlib.import_module(f"{self.package}.{module.name}")

    def __call__(self) -> None:
        """Discover, unless done already."""
        if self.done:
            return
        self.done = True  # set first: a module being imported may itself look the registry up
        try:
            self.import_own_modules()
        except BaseException:
            self.done = False
            raise
        for entry_point in entry_points(group=self.group):
            self._load(entry_point)

    def forget(self) -> None:
        """Make the next look-up discover again (for tests: new entry points)."""
        self.done = False

    def _load(self, entry_point: EntryPoint) -> None:
        try:
            target = entry_point.load()
            if not inspect.ismodule(target):
                self.on_target(entry_point, target)
        except Exception as exc:  # a broken plug-in must not break neurotwin
            warnings.warn(
                f"skipped the {self.what} entry point {entry_point.name!r} ({entry_point.value}) "
                f"of group {self.group!r}: {type(exc).__name__}: {exc}",
                stacklevel=4,
            )
