"""``mlp``: a multilayer perceptron trained by backpropagation with Adam and early stopping."""

from __future__ import annotations

import numpy as np
import torch

from neurotwin.artificial.mlp import MLPNet
from neurotwin.artificial.training import loss_and_metric, train_supervised
from neurotwin.core.seeding import torch_generator
from neurotwin.learners.base import History, Learner, Progress, n_classes_of, resolve_epochs
from neurotwin.learners.registry import register


def _targets(y, kind: str, device) -> torch.Tensor:
    if kind == "classification":
        return torch.as_tensor(np.asarray(y), dtype=torch.long, device=device)
    return torch.as_tensor(np.asarray(y, dtype=np.float32), device=device)


@register
class MLPLearner(Learner):
    """Backprop-trained MLP; early stopping on a 10 % validation slice of the training part."""

    name = "mlp"
    description = "multilayer perceptron, backpropagation + Adam, early stopping on validation"
    paradigm = "artificial"
    rule = "backprop"
    encoding = "standard"
    defaults = {
        "hidden": (64,),
        "activation": "relu",
        "dropout": 0.3,
        "init": "he_uniform",
        "lr": 1e-3,
        "weight_decay": 1e-4,
        "batch_size": 32,
        "epochs": 200,
        "patience": 20,
    }
    quick = {"epochs": 15, "patience": 5}

    def _build(self, n_features: int, n_outputs: int, kind: str, seed: int) -> MLPNet:
        cfg = self.config
        gen = torch_generator(seed, self.name, "init")
        return MLPNet(
            n_features,
            tuple(int(h) for h in cfg["hidden"]),
            n_outputs,
            activation=cfg["activation"],
            dropout=float(cfg["dropout"]),
            init=cfg["init"],
            generator=gen,
        ).to(self.device)

    def _setup(self, X_fit: np.ndarray, y_fit: np.ndarray, n_outputs: int, kind: str, seed: int):
        self.task_kind, self.n_features, self.n_outputs = kind, X_fit.shape[1], n_outputs
        model = self._build(self.n_features, n_outputs, kind, seed)
        model.encoder.fit(X_fit)
        if kind == "regression":
            model.y_mean.fill_(float(np.mean(y_fit)))
            model.y_scale.fill_(float(np.std(y_fit)) or 1.0)
        self.model = model
        self._generator = torch_generator(seed, self.name, "batches")
        self._dropout_generator = torch_generator(seed, self.name, "dropout", device=self.device)
        self._opt = None
        return model

    def _training_targets(self, y) -> torch.Tensor:
        y_t = _targets(y, self.task_kind, self.device)
        if self.task_kind == "regression":
            y_t = (y_t - self.model.y_mean) / self.model.y_scale
        return y_t

    def _forward(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        return self.model.core(x, train, self._dropout_generator)

    def fit(
        self, task, *, seed: int, epochs: int | None = None, progress: Progress | None = None
    ) -> History:
        """Train on ``task``'s training part; returns per-epoch train loss and validation metric."""
        self._check_kind(task)
        max_epochs = resolve_epochs(epochs, self.config["epochs"])
        X_fit, y_fit, X_val, y_val = task.validation_split(seed)
        model = self._setup(X_fit, y_fit, max(task.n_classes, 1), task.kind, seed)
        with torch.no_grad():
            data = (
                model.encoder(self._as_tensor(X_fit)),
                self._training_targets(y_fit),
                model.encoder(self._as_tensor(X_val)),
                self._training_targets(y_val),
            )
        cfg = self.config
        return train_supervised(
            self._forward,
            model,
            model.layers.parameters(),
            data,
            kind=task.kind,
            lr=cfg["lr"],
            weight_decay=cfg["weight_decay"],
            batch_size=int(cfg["batch_size"]),
            max_epochs=max_epochs,
            patience=int(cfg["patience"]),
            generator=self._generator,
            history=History(task.metric),
            progress=progress,
        )

    def partial_fit(self, X, y, *, classes=None, task_id=None) -> History:
        """One epoch of Adam on ``(X, y)``, continuing from the current weights and optimiser state.

        On an unfitted learner, ``classes`` (the number of classes, or the list of class indices)
        makes it a classifier and its absence a regressor; the encoder is fitted on this ``X``.
        """
        X = self._partial_fit_inputs(X, y)
        if self.model is None:
            kind = "regression" if classes is None else "classification"
            n_out = 1 if classes is None else n_classes_of(classes)
            self._setup(X, np.asarray(y, dtype=np.float64), n_out, kind, seed=0)
        model = self.model
        if getattr(self, "_generator", None) is None:  # fitted by fit() or load()
            self._generator = torch_generator(0, self.name, "batches")
            self._dropout_generator = torch_generator(0, self.name, "dropout", device=self.device)
        if getattr(self, "_opt", None) is None:
            self._opt = torch.optim.Adam(
                model.layers.parameters(),
                lr=self.config["lr"],
                weight_decay=self.config["weight_decay"],
            )
        with torch.no_grad():
            x_t = model.encoder(self._as_tensor(X))
        y_t = self._training_targets(y)
        history = History("accuracy" if self.task_kind == "classification" else "r2")
        model.train()
        perm = torch.randperm(len(X), generator=self._generator).to(self.device)
        bs, total = int(self.config["batch_size"]), 0.0
        for start in range(0, len(X), bs):
            idx = perm[start : start + bs]
            loss, _ = loss_and_metric(self._forward(x_t[idx], True), y_t[idx], self.task_kind)
            self._opt.zero_grad(set_to_none=True)
            loss.backward()
            self._opt.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            _, metric = loss_and_metric(self._forward(x_t, False), y_t, self.task_kind)
        history.append(total / len(X), metric)
        return history
