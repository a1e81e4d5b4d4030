"""The learner registry: adding a model is one new file and one ``@register``."""

from __future__ import annotations

from neurotwin.errors import ConfigError

_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make ``cls`` available by ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def available() -> list[str]:
    """Registered learner names, in registration order."""
    _load_builtin()
    return list(_REGISTRY)


def get(name: str) -> type:
    """The learner class registered as ``name``."""
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown learner {name!r}; choose from: {', '.join(_REGISTRY)} (or 'all')"
        ) from None


def _load_builtin() -> None:
    # imported lazily so that `neurotwin.learners.registry` has no import cycle with the models
    from neurotwin.learners import hebbian, mlp  # noqa: F401
