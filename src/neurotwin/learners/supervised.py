"""``SupervisedLearner``: the one training path of every learner trained by gradient descent.

``fit`` and ``partial_fit`` share it (scikit-learn's ``_fit(incremental=…)`` habit): both go
through :meth:`SupervisedLearner._setup` (model, encoder statistics, optimiser and random streams,
made once, in one place) and :func:`~neurotwin.artificial.training.train_supervised`. A new
backprop or surrogate-gradient learner is a model plus a few lines: :meth:`_build`, and, when the
trained stage is not the whole network, :meth:`_trained_parameters`, :meth:`_train_inputs` and
:meth:`_train_forward`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import nn

from neurotwin.artificial.training import train_supervised
from neurotwin.core.history import History, Progress
from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError
from neurotwin.learners.base import Learner, n_classes_of, resolve_epochs


class SupervisedLearner(Learner):
    """A learner whose trained stage is fitted by minibatch Adam with early stopping.

    The model must have an ``encoder`` (:class:`~neurotwin.encoding.Encoder`). Regression
    targets are standardised with the model's ``y_mean``/``y_scale`` buffers when it has them.
    The training settings are the config keys ``lr``, ``weight_decay``, ``batch_size``,
    ``epochs`` and ``patience``, each behind :attr:`train_prefix` (``"readout_lr"``…).
    """

    #: Prefix of the config keys of the trained stage (``""``, or ``"readout_"``).
    train_prefix: ClassVar[str] = ""
    #: Name of the trained stage in histories and progress bars.
    stage: ClassVar[str] = "train"
    #: Purpose label of the random stream that orders the minibatches.
    batch_stream: ClassVar[str] = "batches"

    def predict_proba(self, X, *, generator: torch.Generator | None = None) -> np.ndarray:
        """Class probabilities softmax(outputs) (n, n_classes), float64, rows summing to 1: the
        outputs are the logits that cross-entropy trained (a class task only)."""
        if self.kind.target != "class":
            raise ConfigError(
                f"predict_proba is for class targets; this {self.name} predicts values of a "
                f"{self.kind.name} task (use predict)"
            )
        logits = self.outputs(X, generator=generator).double()
        return torch.softmax(logits, dim=1).cpu().numpy()

    # -- hooks -----------------------------------------------------------------------------------
    def _trained_parameters(self) -> list[nn.Parameter]:
        """The parameters gradient descent changes (default: all of the model's)."""
        return list(self.model.parameters())

    def _train_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Raw inputs (batch, n_features) → the inputs of the trained stage (default: encoded)."""
        return self.model.encoder(x)

    def _train_forward(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        """Outputs in the training space for inputs of the trained stage."""
        return self.model.core(x)

    def _fit_statistics(self, X_fit: np.ndarray, y_fit: np.ndarray, *, image: bool) -> None:
        """Fit the encoder (and the target scaling, for regression) on the fitting part."""
        self.model.encoder.fit(X_fit, image=image)
        if self.kind.target == "value" and hasattr(self.model, "y_mean"):
            self.model.y_mean.fill_(float(np.mean(y_fit)))
            self.model.y_scale.fill_(float(np.std(y_fit)) or 1.0)

    # -- the training path -----------------------------------------------------------------------
    def setting(self, key: str):
        """The trained stage's setting ``key`` (``lr``, ``weight_decay``, …) from the config."""
        return self.config[self.train_prefix + key]

    def _setup(
        self, X_fit: np.ndarray, y_fit, n_outputs: int, kind: str, seed: int, *, image: bool
    ) -> nn.Module:
        """Build the model, fit its statistics, and make the optimiser and random streams."""
        self.task_kind, self.n_features, self.n_outputs = kind, X_fit.shape[1], n_outputs
        self.model = self._build(self.n_features, n_outputs, kind, seed)
        self._fit_statistics(X_fit, np.asarray(y_fit), image=image)
        self._init_training(seed)
        return self.model

    def _init_training(self, seed: int) -> None:
        """The optimiser and the random streams; their state carries over between calls."""
        self._optimiser = torch.optim.Adam(
            self._trained_parameters(),
            lr=float(self.setting("lr")),
            weight_decay=float(self.setting("weight_decay")),
        )
        self._batch_generator = torch_generator(seed, self.name, self.batch_stream)
        self._dropout_generator = torch_generator(seed, self.name, "dropout", device=self.device)

    def _after_load(self) -> None:
        self._init_training(0)

    def _targets(self, y) -> torch.Tensor:
        """Targets as tensors of the training space (class indices, or standardised values)."""
        if self.kind.target == "class":
            return torch.as_tensor(np.asarray(y), dtype=torch.long, device=self.device)
        y_t = torch.as_tensor(np.asarray(y, dtype=np.float32), device=self.device)
        if hasattr(self.model, "y_mean"):
            y_t = (y_t - self.model.y_mean) / self.model.y_scale
        return y_t

    def _train(
        self,
        x_fit: torch.Tensor,
        y_fit,
        x_val: torch.Tensor | None = None,
        y_val=None,
        *,
        max_epochs: int,
        patience: int | None,
        progress: Progress | None = None,
    ) -> History:
        """Run :func:`train_supervised` on inputs of the trained stage."""
        t_val = None if x_val is None else self._targets(y_val)
        return train_supervised(
            self._train_forward,
            self.model,
            self._optimiser,
            (x_fit, self._targets(y_fit), x_val, t_val),
            kind=self.kind,
            batch_size=int(self.setting("batch_size")),
            max_epochs=max_epochs,
            patience=patience,
            generator=self._batch_generator,
            history=History(self.kind.metric, self.stage),
            progress=progress,
            **self._train_hooks(x_val, t_val),
        )

    def _train_hooks(self, x_val: torch.Tensor | None, t_val: torch.Tensor | None) -> dict:
        """Extra keyword arguments of :func:`train_supervised` (``step``, ``before_epoch``) for a
        model that does not train by autograd, given the validation inputs and targets."""
        return {}

    def fit(
        self, task, *, seed: int, epochs: int | None = None, progress: Progress | None = None
    ) -> History:
        """Train on ``task``'s training part; per-epoch train loss and validation metric.

        The validation slice (10 % of the training part, drawn from ``seed``) selects the epoch
        by early stopping; the test part is not touched.
        """
        self._check_kind(task)
        max_epochs = resolve_epochs(epochs, self.setting("epochs"))
        X_fit, y_fit, X_val, y_val = task.validation_split(seed)
        self._setup(X_fit, y_fit, max(task.n_classes, 1), task.kind, seed, image=task.is_image)
        with torch.no_grad():
            x_fit = self._train_inputs(self._as_tensor(X_fit))
            x_val = self._train_inputs(self._as_tensor(X_val))
        return self._train(
            x_fit,
            y_fit,
            x_val,
            y_val,
            max_epochs=max_epochs,
            patience=int(self.setting("patience")),
            progress=progress,
        )

    def _before_incremental_step(self, v: torch.Tensor, *, first: bool) -> None:
        """Called by every :meth:`partial_fit` with the encoded inputs ``v``, before the gradient
        epoch (a stage that learns without gradients steps here); ``first`` on the call that
        set the learner up."""

    def partial_fit(self, X, y, *, classes=None, task_id=None) -> History:
        """One epoch on ``(X, y)``, continuing from the current weights and optimiser state.

        On an unfitted learner, ``classes`` (the number of classes, or the list of class indices)
        makes it a classifier and its absence a regressor; the encoder is fitted on this ``X``
        (images ``(n, H, W)`` get one global range, as in :meth:`fit`).
        """
        X, image = self._partial_fit_inputs(X, y)
        first = self.model is None
        if first:
            kind = "regression" if classes is None else "classification"
            if kind not in self.supported_kinds:
                raise ConfigError(
                    f"{self.name}.partial_fit on an unfitted learner needs classes= (it handles "
                    f"{' and '.join(self.supported_kinds)} tasks)"
                )
            n_out = 1 if classes is None else n_classes_of(classes)
            self._setup(X, y, n_out, kind, seed=0, image=image)
        with torch.no_grad():
            self._before_incremental_step(self.model.encoder(self._as_tensor(X)), first=first)
            x = self._train_inputs(self._as_tensor(X))
        return self._train(x, y, max_epochs=1, patience=None)
