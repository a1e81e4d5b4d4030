"""neurotwin: artificial and brain-like neural networks side by side.

>>> import neurotwin as nt
>>> task = nt.tasks.load("digits", seed=0)
>>> doc = nt.compare("digits", ["mlp", "hebbian"], seeds=[0, 1, 2], out="runs/digits")
"""

__version__ = "0.1.0"

from neurotwin import core, encoding, learners, probes, tasks  # noqa: E402
from neurotwin.errors import ConfigError, DataError, NeurotwinError, NumericalError  # noqa: E402
from neurotwin.experiment import compare, load_results  # noqa: E402

__all__ = [
    "ConfigError",
    "DataError",
    "NeurotwinError",
    "NumericalError",
    "__version__",
    "compare",
    "core",
    "encoding",
    "learners",
    "load_results",
    "probes",
    "tasks",
]
