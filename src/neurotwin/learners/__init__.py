"""Learners: thin adapters from models to the :class:`Learner` contract, registered by name."""

from neurotwin.learners.base import History, Learner
from neurotwin.learners.registry import available, get, register

__all__ = ["History", "Learner", "available", "get", "register"]
