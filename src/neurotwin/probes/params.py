"""Probe ``params``: the model's parameters (weights and biases), split into learned and fixed.

``params`` counts every parameter, learned or fixed (encoder statistics and other buffers are not
parameters); ``params_learned`` + ``params_fixed`` = ``params``, from
:meth:`~neurotwin.learners.base.Learner.parameter_counts` (fixed: never changed by training, e.g. a
control's random first layer).
"""

from __future__ import annotations

from neurotwin.probes.base import ProbeContext, register


def n_params(learner) -> int:
    """Number of parameters (weights and biases, learned or fixed) of the learner's model."""
    return int(learner.n_params())


@register(name="params")
def params_probe(ctx: ProbeContext) -> dict[str, int]:
    """Number of parameters: all, learned and fixed."""
    counts = ctx.learner.parameter_counts()
    return {
        "params": n_params(ctx.learner),
        "params_learned": int(counts["learned"]),
        "params_fixed": int(counts["fixed"]),
    }
