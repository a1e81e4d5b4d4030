"""Experiments: the comparison runner (seeds, progress, resume), the results store and statistics."""

from neurotwin.experiment.runner import compare, load_results

__all__ = ["compare", "load_results"]
