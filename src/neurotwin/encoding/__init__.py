"""Encoders: feature scaling fitted on the training part, and spike codes for spiking learners."""

from neurotwin.encoding.scaling import (
    ENCODER_KINDS,
    Encoder,
    fit_standard,
    fit_unit,
    standard,
    unit,
)
from neurotwin.encoding.spikes import latency, poisson_rate

__all__ = [
    "ENCODER_KINDS",
    "Encoder",
    "fit_standard",
    "fit_unit",
    "latency",
    "poisson_rate",
    "standard",
    "unit",
]
