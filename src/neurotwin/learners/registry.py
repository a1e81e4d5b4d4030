"""The learner registry: adding a model is one new file and one ``@register``.

Learners are found without edits elsewhere. On first use (:func:`available` or :func:`get`) the
registry imports

1. every module of the ``neurotwin.learners`` package (alphabetically; ``base`` and ``registry``
   excepted), so a new file whose class carries ``@register`` is found as it is;
2. every entry point of the group ``neurotwin.learners`` of the installed distributions, so a
   third-party package adds its learners with, in its ``pyproject.toml``::

       [project.entry-points."neurotwin.learners"]
       my_learner = "my_package.learners"          # a module whose import runs its @register
       # or  my_learner = "my_package:MyLearner"   # a Learner subclass (registered if not yet)

A third-party entry point that fails to load is skipped with a warning naming it, so one broken
plug-in never stops neurotwin; a broken module of neurotwin itself raises.
"""

from __future__ import annotations

import inspect
from importlib.metadata import EntryPoint

from neurotwin.errors import ConfigError
from neurotwin.plugins import Discovery

#: The entry-point group third-party packages declare their learners under.
ENTRY_POINT_GROUP = "neurotwin.learners"
PACKAGE = "neurotwin.learners"

_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make ``cls`` available by ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def _register_target(entry_point: EntryPoint, target: object) -> None:
    """An entry point that names a learner class registers it (if its module did not)."""
    if not (inspect.isclass(target) and isinstance(getattr(target, "name", None), str)):
        raise TypeError(f"it gives a {type(target).__name__}, not a module or Learner subclass")
    if _REGISTRY.get(target.name) is not target:
        register(target)


_discovery = Discovery(
    PACKAGE,
    ENTRY_POINT_GROUP,
    on_target=_register_target,
    what="learner",
    skip={"base", "registry", "supervised"},
)


#: The learner every other is compared against when it runs: first of ``--models all``.
REFERENCE = "mlp"


def available() -> list[str]:
    """Registered learner names: neurotwin's own first (artificial before brain-like, backprop
    before the other artificial rules, :data:`REFERENCE` first among those, then by module name,
    so the first of ``--models all``, the reference, is the backprop MLP), then the others
    (plug-ins) in registration order."""
    _discovery()
    names = list(_REGISTRY)
    own = [n for n in names if _REGISTRY[n].__module__.startswith(f"{PACKAGE}.")]

    def order(name: str) -> tuple:
        cls = _REGISTRY[name]
        return (
            cls.paradigm != "artificial",
            cls.rule != "backprop",
            cls.name != REFERENCE,
            cls.__module__,
        )

    own.sort(key=order)
    return own + [n for n in names if n not in own]


def get(name: str) -> type:
    """The learner class registered as ``name``."""
    _discovery()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown learner {name!r}; choose from: {', '.join(available())} (or 'all')"
        ) from None


def _forget_discovery() -> None:
    """Make the next :func:`available`/:func:`get` discover again (for tests: new entry points)."""
    _discovery.forget()
