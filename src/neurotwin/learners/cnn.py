"""``cnn``: a convolutional network (im2col on :class:`~neurotwin.core.synapses.Synapses`) trained
by backpropagation with Adam and early stopping; and :class:`ShapedLearner`, the base of every
learner whose model needs the task's ``input_shape`` (``cnn``, ``rnn``, ``lstm``, ``gru``).

``_build(n_features, n_outputs, kind, seed)`` gets no shape, so the shape is a config key,
``input_shape``: ``"auto"`` (the default) takes the task's at :meth:`~ShapedLearner.fit` (or a
``partial_fit`` input's ``(n, H, W)`` shape); the resolved shape is written into the config, which
is saved with the model, so :meth:`~neurotwin.learners.base.Learner.load` rebuilds the same model.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import torch

from neurotwin.artificial.conv import ConvNet
from neurotwin.core.history import History, Progress
from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError
from neurotwin.learners.base import n_classes_of, resolve_epochs
from neurotwin.learners.registry import register
from neurotwin.learners.supervised import SupervisedLearner


class ShapedLearner(SupervisedLearner):
    """A supervised learner whose model is built for the input's shape (config ``input_shape``).

    Subclasses set :attr:`shape_ranks` (the numbers of axes the model takes), :attr:`needs` (what
    a wrong task lacks, for the one-line error) and :attr:`partial_fit_kind`.
    """

    #: The numbers of axes an input_shape may have.
    shape_ranks: ClassVar[tuple[int, ...]] = (2,)
    #: What the learner needs, in the error a wrong task gets ("an image task (input_shape (H, W))").
    needs: ClassVar[str] = ""
    #: Tasks to suggest in that error.
    examples: ClassVar[str] = ""
    #: The task kind a ``partial_fit`` with ``classes`` on an unfitted learner trains for.
    partial_fit_kind: ClassVar[str] = "classification"

    def __init__(self, *, variant=None, quick=False, device="cpu", **config) -> None:
        super().__init__(variant=variant, quick=quick, device=device, **config)
        given = self.config.get("input_shape")
        #: The input_shape the user gave (None: the task's, resolved at fit).
        self._given_shape = None if given in (None, "auto") else self._checked_shape(given)
        self.config["input_shape"] = "auto" if self._given_shape is None else self._given_shape

    def _checked_shape(self, shape, where: str = "input_shape") -> tuple[int, ...]:
        try:
            shape = tuple(int(s) for s in shape)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{self.name}: {where} must be a list of whole numbers, got {shape!r}"
            ) from None
        if len(shape) not in self.shape_ranks or min(shape) < 1:
            raise ConfigError(f"{self.name} needs {self.needs}; {where} is {shape}")
        return shape

    def _resolve_shape(self, data_shape: tuple[int, ...] | None, n_features: int) -> None:
        """Set ``config["input_shape"]``: the given one, else ``data_shape``; it must hold
        ``n_features`` values."""
        shape = self._given_shape if self._given_shape is not None else data_shape
        if shape is None:
            raise ConfigError(
                f"{self.name} needs {self.needs}: pass images (n, H, W) or set input_shape"
            )
        shape = self._checked_shape(shape)
        if math.prod(shape) != n_features:
            raise ConfigError(
                f"{self.name}: input_shape {shape} holds {math.prod(shape)} values, but the input "
                f"has {n_features} features"
            )
        self.config["input_shape"] = shape

    @classmethod
    def task_problem(cls, task) -> str | None:
        """Why this learner cannot be fitted on ``task``, in one line (None: it can)."""
        shape = tuple(task.input_shape)
        if task.kind in cls.supported_kinds and len(shape) in cls.shape_ranks:
            return None
        return (
            f"{cls.name} needs {cls.needs}, e.g. {cls.examples}; {task.name} is a {task.kind} "
            f"task with input_shape {shape}"
        )

    def fit(
        self, task, *, seed: int, epochs: int | None = None, progress: Progress | None = None
    ) -> History:
        """Train on ``task``'s training part for its ``input_shape`` (see
        :meth:`SupervisedLearner.fit <neurotwin.learners.supervised.SupervisedLearner.fit>`)."""
        resolve_epochs(epochs, self.setting("epochs"))  # a bad --epochs is named first
        self._check_kind(task)
        self._resolve_shape(tuple(task.input_shape), np.shape(task.X_train)[1])
        return super().fit(task, seed=seed, epochs=epochs, progress=progress)

    def partial_fit(self, X, y, *, classes=None, task_id=None) -> History:
        """One epoch on ``(X, y)``; an unfitted learner takes its input_shape from images
        ``(n, H, W)`` (or the config) and its kind from :attr:`partial_fit_kind`."""
        if self.model is None:
            data_shape = tuple(np.shape(X)[1:]) if np.ndim(X) > 2 else None
            X_flat, image = self._partial_fit_inputs(X, y)
            if classes is None or self.partial_fit_kind not in self.supported_kinds:
                raise ConfigError(
                    f"{self.name}.partial_fit on an unfitted learner needs classes= (it handles "
                    f"{' and '.join(self.supported_kinds)} tasks)"
                )
            self._resolve_shape(data_shape, X_flat.shape[1])
            self._setup(
                X_flat, y, n_classes_of(classes), self.partial_fit_kind, seed=0, image=image
            )
        return super().partial_fit(X, y, classes=classes, task_id=task_id)

    def _input_shape(self) -> tuple[int, ...]:
        shape = self.config.get("input_shape")
        if shape in (None, "auto"):
            raise ConfigError(f"{self.name}: input_shape is not set; fit the learner on a task")
        return tuple(int(s) for s in shape)

    def _train_forward(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        return self.model.core(x, train, self._dropout_generator)


@register
class CNNLearner(ShapedLearner):
    """Backprop-trained convolutional network on the task's images (``input_shape`` (H, W) or
    (C, H, W)): [3×3 conv → ReLU → 2×2 max-pool]×2 → dense → readout, each connection a
    :class:`~neurotwin.core.synapses.Synapses`; early stopping on a 10 % validation slice.

    The input encoding is ``unit``: one global range for all pixels ([0, 1], ``x / 16`` on
    digits), because a kernel is shared over positions and so needs every pixel on one scale;
    per-pixel standardisation would stretch a rarely-inked border pixel many times over (it cost
    about 1.5 points of test accuracy on digits). ``mlp``'s ``unit_encoding`` variant is the
    dense network on the same inputs.
    """

    name = "cnn"
    description = "convolutional network (conv + max-pool) on image tasks, backprop + Adam"
    paradigm = "artificial"
    rule = "backprop"
    encoding = "unit"
    supported_kinds = ("classification",)
    shape_ranks = (2, 3)
    needs = "an image task (input_shape (H, W))"
    examples = "digits or digits28"
    defaults = {
        "channels": (32, 64),
        "kernel": 3,
        "pool": 2,
        "hidden": (128,),
        "dropout": 0.3,
        "input_shape": "auto",
        "lr": 1e-3,
        "weight_decay": 1e-4,
        "batch_size": 32,
        "epochs": 100,
        "patience": 15,
    }
    quick = {"channels": (4,), "hidden": (16,), "epochs": 8, "patience": 3}
    auto_defaults = {"input_shape": "the task's (H, W) at fit: (8, 8) on digits, (28, 28) on MNIST"}

    def _fit_statistics(self, X_fit: np.ndarray, y_fit: np.ndarray, *, image: bool) -> None:
        """The inputs are always images here (flattened ones too): one range for every pixel."""
        super()._fit_statistics(X_fit, y_fit, image=True)

    def _build(self, n_features: int, n_outputs: int, kind: str, seed: int) -> ConvNet:
        cfg = self.config
        return ConvNet(
            self._input_shape(),
            tuple(int(c) for c in cfg["channels"]),
            tuple(int(h) for h in cfg["hidden"]),
            n_outputs,
            kernel=int(cfg["kernel"]),
            pool=int(cfg["pool"]),
            dropout=float(cfg["dropout"]),
            encoding=self.encoding,
            generator=torch_generator(seed, self.name, "init"),
        ).to(self.device)
