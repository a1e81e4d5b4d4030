"""Probe ``learner_extra``: the learner's own numbers, ``learner.extra_metrics()``, under ``extra``.

Run last on every row; writes ``{"extra": {name: number}}`` when the learner reports any, nothing
otherwise (e.g. the Hebbian layer's convergence).
"""

from __future__ import annotations

from typing import Any

from neurotwin.probes.base import ProbeContext, register


@register(name="learner_extra")
def learner_extra_probe(ctx: ProbeContext) -> dict[str, Any]:
    """The learner's own metrics (``extra_metrics()``), under ``extra`` when there are any."""
    extra = ctx.learner.extra_metrics()
    return {"extra": dict(extra)} if extra else {}
