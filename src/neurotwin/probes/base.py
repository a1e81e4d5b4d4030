"""The probe contract and registry: what a probe is given, what it returns, and which ones run.

A probe is any object with a ``name``, a one-line ``description`` and ``__call__(ctx) -> dict``:
it measures the fitted learner in ``ctx`` through the :class:`~neurotwin.learners.base.Learner`
contract alone and returns keys to merge into the results row's ``metrics``. One probe is one file
that calls :func:`register` when imported, so a new probe (built in, or a plug-in's own file) needs
no edit elsewhere. A task kind names the probes that apply to it (``kinds.get(kind).probes``) and a
learner adds its own (``extra_probes``); :func:`probes_for` puts them in order and :func:`run_probes`
runs them on one :class:`ProbeContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from neurotwin import kinds
from neurotwin.errors import ConfigError

#: Always run first: it sets ``ctx.predictions`` (draw 0's test predictions, for paired tests).
FIRST = "test_metric"
#: Always run last: the learner's own ``extra_metrics()``.
LAST = "learner_extra"


@dataclass
class ProbeContext:
    """What every probe of one results row is given.

    Attributes:
        learner: the fitted learner (probes must not change it; they copy it to edit masks).
        task: the task it was fitted on (``X_test``, ``y_test``, ``X_train``, ``kind``…).
        seed: the run seed, from which every evaluation generator is derived.
        draws: evaluation draws of a stochastic learner (``None``: the default, 3).
        predictions: draw 0's test predictions, set by the ``test_metric`` probe.
        options: analysis settings of the run that probes read (``positive``: the class
            diagnosis metrics call positive; ``threshold``: the probability above which a
            sample is called positive); see :data:`DEFAULT_OPTIONS`.
    """

    learner: Any
    task: Any
    seed: int
    draws: int | None = None
    predictions: np.ndarray | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def option(self, key: str) -> Any:
        """The run's setting ``key``, else its default from :data:`DEFAULT_OPTIONS`."""
        value = self.options.get(key)
        return DEFAULT_OPTIONS.get(key) if value is None else value


#: Analysis settings a run passes to its probes (``compare(positive=…, threshold=…)``).
DEFAULT_OPTIONS: dict[str, Any] = {"positive": None, "threshold": 0.5}


class Probe(Protocol):
    """A measurement: ``probe(ctx)`` returns the keys it adds to a row's ``metrics``."""

    name: str
    description: str

    def __call__(self, ctx: ProbeContext) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FunctionProbe:
    """A probe made from a plain function ``fn(ctx) -> dict`` by :func:`register`."""

    name: str
    description: str
    fn: Callable[[ProbeContext], dict[str, Any]]

    def __call__(self, ctx: ProbeContext) -> dict[str, Any]:
        return self.fn(ctx)


_PROBES: dict[str, Probe] = {}


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n", 1)[0].strip()


def register(probe=None, /, *, name: str | None = None, description: str | None = None):
    """Make a probe known by its name (a later registration of the same name replaces it).

    Takes a probe object (``register(MyProbe())``), or decorates a function ``fn(ctx) -> dict``:
    ``@register`` (named after the function), ``@register("name")`` or
    ``@register(name=…, description=…)``; a function's description defaults to its docstring's
    first line. Returns the registered probe.
    """
    if probe is None or isinstance(probe, str):
        given = probe if isinstance(probe, str) else name
        return lambda fn: register(fn, name=given, description=description)
    if isinstance(getattr(probe, "name", None), str) and callable(probe):
        if name is not None or description is not None:
            raise ConfigError("register(): name and description come from the probe object")
        obj = probe
    elif callable(probe):
        obj = FunctionProbe(
            name=name or probe.__name__,
            description=description or _first_line(probe.__doc__),
            fn=probe,
        )
    else:
        raise ConfigError(f"register() takes a probe or a function, got {type(probe).__name__}")
    if not obj.name:
        raise ConfigError("a probe needs a non-empty name")
    _PROBES[obj.name] = obj
    return obj


def get(name: str) -> Probe:
    """The probe registered as ``name``; :class:`ConfigError` naming the known probes otherwise."""
    try:
        return _PROBES[name]
    except KeyError:
        raise ConfigError(f"unknown probe {name!r}; choose one of: {', '.join(_PROBES)}") from None


def available() -> list[str]:
    """Registered probe names, in registration order."""
    return list(_PROBES)


def probes_for(learner, task) -> list[Probe]:
    """The probes of one row, in the order they run: ``test_metric`` first, then the task kind's
    probes, then the learner's ``extra_probes``, each once, and ``learner_extra`` last."""
    names = [*kinds.get(task.kind).probes, *getattr(learner, "extra_probes", ())]
    middle = dict.fromkeys(n for n in names if n not in (FIRST, LAST))
    return [get(n) for n in (FIRST, *middle, LAST)]


def run_probes(
    learner,
    task,
    *,
    seed: int,
    draws: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], np.ndarray]:
    """Run :func:`probes_for` on one :class:`ProbeContext`; return ``(metrics, predictions)``,
    the merged keys of every probe and draw 0's test predictions. ``options``: the run's
    analysis settings (:attr:`ProbeContext.options`).

    Two probes writing the same key is a :class:`ConfigError` (no probe overwrites another).
    """
    ctx = ProbeContext(learner, task, seed=seed, draws=draws, options=dict(options or {}))
    metrics: dict[str, Any] = {}
    for probe in probes_for(learner, task):
        out = probe(ctx)
        if not isinstance(out, Mapping):
            raise ConfigError(f"probe {probe.name!r} returned {type(out).__name__}, not a dict")
        clash = sorted(set(out) & set(metrics))
        if clash:
            raise ConfigError(f"probe {probe.name!r} writes {', '.join(clash)}, already written")
        metrics.update(out)
    return metrics, ctx.predictions
