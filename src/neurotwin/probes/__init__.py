"""Probes: measurements that work on any learner through the :class:`Learner` contract alone.

One probe per file, each with one definition (stated in full in its module's docstring), registered
by name. :func:`run_probes` runs the probes that :func:`probes_for` gives a row (``test_metric``
first, then the task kind's probes, the learner's ``extra_probes``, and ``learner_extra`` last) and
merges their keys into the row's ``metrics``:

- ``test_metric`` (:mod:`.test_metric`): the task kind's test scores (accuracy; or R² and MSE),
  mean and std over K evaluation draws of a stochastic learner, each draw with its own generator
  derived from the run seed → ``test_<score>``, ``test_<score>_std``.
- ``params`` (:mod:`.params`): the number of parameters (weights and biases), all, learned and
  fixed → ``params``, ``params_learned``, ``params_fixed``.
- ``ops`` (:mod:`.ops`): NeuroBench operations per inference on the test inputs (dense: every
  synapse, masked or not; effective: unmasked synapses with a non-zero input) and the energy they
  imply (see :mod:`neurotwin.core.ops`) → ``ops_per_inference``, ``energy_nj_per_inference``.
- ``lesion`` (:mod:`.lesion`): the test metric after removing a random, nested fraction of all
  synapses of a copy, re-evaluated with the same evaluation noise at every level, the removed
  inputs replaced by zero or by their training mean → ``lesion``, ``lesion_mean``.
- ``diagnosis`` (:mod:`.diagnosis`, classification): ROC-AUC, sensitivity and specificity of the
  positive class, balanced accuracy, confusion matrix, log-loss, Brier score, calibration (ECE with
  its CI and floor, reliability diagram) → ``diagnosis``.
- ``intervals`` (:mod:`.intervals`, regression): split-conformal 90 % prediction intervals
  calibrated on the validation slice, their test coverage and width → ``intervals``.
- ``explanations`` (:mod:`.explanations`): permutation importance (any learner) and integrated
  gradients (differentiable learners) per feature → ``explanations``.
- ``learner_extra`` (:mod:`.learner_extra`): the learner's own ``extra_metrics()`` → ``extra``.

A new probe is one file: a function ``fn(ctx: ProbeContext) -> dict`` decorated with
``@register("name")``, imported once; a task kind lists it in ``probes`` or a learner in
``extra_probes``.
"""

from __future__ import annotations

from neurotwin.core.ops import count_ops
from neurotwin.probes import (  # noqa: F401 (register)
    alignment,
    diagnosis,
    explanations,
    intervals,
    learner_extra,
    lesion,
    ops,
    params,
    test_metric,
)
from neurotwin.probes.base import ProbeContext, available, get, probes_for, register, run_probes
from neurotwin.probes.lesion import LESION_FRACTIONS, LESION_MODES, lesion_curve, lesion_masks
from neurotwin.probes.ops import ops_per_inference
from neurotwin.probes.params import n_params
from neurotwin.probes.test_metric import DEFAULT_DRAWS, evaluate

__all__ = [
    "DEFAULT_DRAWS",
    "LESION_FRACTIONS",
    "LESION_MODES",
    "ProbeContext",
    "available",
    "count_ops",
    "evaluate",
    "get",
    "lesion_curve",
    "lesion_masks",
    "n_params",
    "ops_per_inference",
    "probes_for",
    "register",
    "run_probes",
]
