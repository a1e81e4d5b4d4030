"""The task registry: a named dataset is one loader and one :func:`register` call.

A loader is ``loader(seed, **options) -> Task``. Tasks are found without edits elsewhere:

1. every module of the ``neurotwin.tasks`` package is imported with the package (alphabetically),
   so a new file that calls :func:`register` at import is found as it is (the bundled datasets
   and MNIST register so);
2. on first use (:func:`available`, :func:`get`, :data:`DESCRIPTIONS`) every entry point of the
   group ``neurotwin.tasks`` of the installed distributions is loaded::

       [project.entry-points."neurotwin.tasks"]
       my_tasks = "my_package.tasks"          # a module whose import calls neurotwin.tasks.register
       # or  eeg = "my_package.eeg:load_eeg"  # a loader, registered as "eeg" (its docstring's
       #                                        first line is the description)

A third-party entry point that fails to load is skipped with a warning naming it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint

from neurotwin.errors import ConfigError
from neurotwin.plugins import Discovery

#: The entry-point group third-party packages declare their tasks under.
ENTRY_POINT_GROUP = "neurotwin.tasks"
PACKAGE = "neurotwin.tasks"
#: File suffixes :func:`neurotwin.tasks.load` reads as paths, so no task name may end with one.
FILE_SUFFIXES = (".csv", ".npz")


@dataclass(frozen=True)
class TaskEntry:
    """One registered task: its loader ``loader(seed, **options) -> Task`` and one line on it."""

    name: str
    loader: Callable[..., object]
    description: str

    def options(self) -> list[str] | None:
        """The keyword options the loader takes besides the seed (None: any, it has ``**``)."""
        params = list(inspect.signature(self.loader).parameters.values())[1:]
        if any(p.kind is p.VAR_KEYWORD for p in params):
            return None
        return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


_TASKS: dict[str, TaskEntry] = {}


def register(name: str, loader: Callable[..., object], description: str) -> Callable[..., object]:
    """Make ``loader(seed, **options) -> Task`` loadable as ``name``, described in one line.

    A later registration of the same name replaces the earlier one. Returns ``loader``.
    """
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ConfigError(f"a task name must be a non-empty word, got {name!r}")
    if name.lower().endswith(FILE_SUFFIXES):
        raise ConfigError(f"task name {name!r} ends like a file ({', '.join(FILE_SUFFIXES)})")
    if not callable(loader):
        raise ConfigError(f"task {name!r}: the loader must be callable, got {loader!r}")
    if not isinstance(description, str) or not description.strip() or "\n" in description:
        raise ConfigError(f"task {name!r}: the description must be one non-empty line")
    _TASKS[name] = TaskEntry(name, loader, description)
    return loader


def available() -> list[str]:
    """Registered task names: neurotwin's own (by module, in registration order), then plug-ins'."""
    _discovery()
    return list(_TASKS)


def get(name: str) -> TaskEntry | None:
    """The entry registered as ``name``, or None."""
    _discovery()
    return _TASKS.get(name)


class _Descriptions(Mapping[str, str]):
    """Task name -> one-line description, read live from the registry."""

    def __getitem__(self, name: str) -> str:
        _discovery()
        return _TASKS[name].description

    def __iter__(self) -> Iterator[str]:
        _discovery()
        return iter(list(_TASKS))

    def __len__(self) -> int:
        _discovery()
        return len(_TASKS)

    def __repr__(self) -> str:
        return f"DESCRIPTIONS({dict(self)!r})"


#: One line per registered task, in the order :func:`available` lists them.
DESCRIPTIONS: Mapping[str, str] = _Descriptions()


def _register_target(entry_point: EntryPoint, target: object) -> None:
    """An entry point that names a loader registers it under the entry point's name."""
    if not callable(target):
        raise TypeError(f"it gives a {type(target).__name__}, not a module or a loader")
    doc = inspect.getdoc(target)
    description = doc.splitlines()[0] if doc else f"task from {entry_point.value}"
    register(entry_point.name, target, description)


_discovery = Discovery(PACKAGE, ENTRY_POINT_GROUP, on_target=_register_target, what="task")
#: Import every module of ``neurotwin.tasks`` (``neurotwin.tasks`` does so when imported, so the
#: order of :func:`available` does not depend on which module was imported first).
import_own_modules = _discovery.import_own_modules


def _forget_discovery() -> None:
    """Make the next look-up discover again (for tests: new entry points)."""
    _discovery.forget()
