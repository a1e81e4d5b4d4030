"""What training reports back: the per-epoch :class:`History` and the :data:`Progress` callback.

Both worlds' learners and the training loops use them; they depend on nothing above ``core``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from neurotwin.errors import NumericalError

#: ``progress(done, total, info)``: called after each epoch of each training stage; ``info`` holds
#: at least ``{"stage": name}``.
Progress = Callable[[int, int, dict], None]


@dataclass
class History:
    """Per-epoch training record: train loss and the **validation** metric (``val_accuracy`` or
    ``val_r2``…) of one training stage, the one the row's metric comes from.

    ``stage`` names that stage (``"train"`` for a network trained end to end, ``"readout"`` for
    the supervised readout of a two-stage learner), so curves of different learners are not read
    as the same kind of epoch.
    """

    metric: str = "accuracy"
    stage: str = "train"
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    #: extra per-epoch series of a learner (e.g. ``alignment_angle_deg``), one value per epoch
    series: dict[str, list[float | None]] = field(default_factory=dict)

    def append(self, train_loss: float, val_metric: float) -> None:
        """Record one epoch; :class:`NumericalError` when the loss or metric is not finite."""
        if not (np.isfinite(train_loss) and np.isfinite(val_metric)):
            raise NumericalError(
                f"training diverged at epoch {len(self.epoch) + 1} (loss {train_loss}); "
                "lower the learning rate"
            )
        self.epoch.append(len(self.epoch) + 1)
        self.train_loss.append(float(train_loss))
        self.val_metric.append(float(val_metric))

    def record(self, name: str, value: float | None) -> None:
        """Add this epoch's ``value`` (None: undefined) to the extra series ``name``."""
        self.series.setdefault(name, []).append(None if value is None else float(value))

    def to_dict(self) -> dict[str, list | str]:
        """The ``history`` block of a results row."""
        return {
            "stage": self.stage,
            "epoch": list(self.epoch),
            "train_loss": list(self.train_loss),
            f"val_{self.metric}": list(self.val_metric),
            **{name: list(values) for name, values in self.series.items()},
        }
