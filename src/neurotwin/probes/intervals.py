"""Probe ``intervals``: calibrated prediction intervals for a regression (disease progression).

Split-conformal (Lei et al. 2018): the absolute residuals |y − ŷ| of the validation slice (10 % of
the training part, drawn from the seed, never trained on) give q, their ⌈(n+1)(1−α)⌉-th smallest;
each test prediction gets [ŷ − q, ŷ + q]. Under exchangeability the interval covers a new y with
probability ≥ 1 − α on average. One caveat, stated in the report: the validation slice also chose
the learner's stopping epoch, a mild selection that can make q slightly small. Reported with their
empirical coverage of the test part and their mean width, beside the width of [q_{α/2},
q_{1−α/2}] of the training targets (an interval that ignores the inputs), and the test MAE.
Key: ``intervals``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurotwin.core.seeding import torch_generator
from neurotwin.evaluation.intervals import interval_metrics, split_conformal
from neurotwin.probes.base import ProbeContext, register

#: Miscoverage of the intervals: 0.1 gives 90 % intervals.
ALPHA = 0.1


@register(name="intervals")
def intervals_probe(ctx: ProbeContext) -> dict[str, Any]:
    """Split-conformal 90 % prediction intervals: coverage and width on the test part."""
    task = ctx.task
    _, _, X_val, y_val = task.validation_split(ctx.seed)
    generator = torch_generator(ctx.seed, "evaluation", 0)
    pred_val = ctx.learner.predict(X_val, generator=generator)
    pred_test = np.asarray(ctx.predictions, dtype=float)
    lower, upper = split_conformal(y_val, pred_val, pred_test, alpha=ALPHA)
    out = interval_metrics(
        task.y_test, lower, upper, y_train=task.y_train, alpha=ALPHA, n_calibration=len(y_val)
    )
    return {"intervals": out}
