"""neurotwin: artificial and brain-like neural networks side by side.

>>> import neurotwin as nt
>>> task = nt.tasks.load("digits", seed=0)
>>> doc = nt.compare("digits", ["mlp", "hebbian"], seeds=[0, 1, 2], out="runs/digits")

The subpackages and :func:`compare` load on first use, so ``import neurotwin`` itself does not
import torch: the console script can then catch a Ctrl-C during the seconds torch takes to load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from neurotwin.errors import ConfigError, DataError, NeurotwinError, NumericalError

__version__ = "0.1.0"

_SUBPACKAGES = ("brain", "core", "encoding", "learners", "probes", "tasks")
_FROM_EXPERIMENT = ("compare", "load_results")

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ loads them
    from neurotwin import brain, core, encoding, learners, probes, tasks
    from neurotwin.experiment import compare, load_results

__all__ = [
    "ConfigError",
    "DataError",
    "NeurotwinError",
    "NumericalError",
    "__version__",
    "brain",
    "compare",
    "core",
    "encoding",
    "learners",
    "load_results",
    "probes",
    "tasks",
]


def __getattr__(name: str):
    """Load a subpackage or an experiment function the first time it is asked for."""
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"neurotwin.{name}")
    elif name in _FROM_EXPERIMENT:
        module = getattr(importlib.import_module("neurotwin.experiment"), name)
    else:
        raise AttributeError(f"module 'neurotwin' has no attribute {name!r}")
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
