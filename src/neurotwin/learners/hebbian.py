"""``hebbian``: Krotov & Hopfield's competing hidden units with a supervised readout.

Two stages. (1) The first layer learns without labels by the local Hebbian/anti-Hebbian rule of
:mod:`neurotwin.brain.krotov_hopfield`. (2) A linear softmax readout on f = relu(h)^n is trained by
Adam with early stopping on the validation slice; only the readout sees labels. The control variant
``random_first_layer`` (rule ``none``) skips stage 1 and reads out a random layer of the same size,
drawn N(0, 1) and scaled to unit p-norm like a converged one, so a comparison shows what the
Hebbian layer adds.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from neurotwin.artificial.training import loss_and_metric, train_supervised
from neurotwin.brain.krotov_hopfield import CompetingUnitsNet, krotov_hopfield_dw, p_norms
from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError
from neurotwin.learners.base import History, Learner, Progress, n_classes_of, resolve_epochs
from neurotwin.learners.registry import register

#: Sample presentations the first layer gets by default (1,000 epochs on digits' fitting part).
HEBBIAN_SAMPLE_BUDGET = 1_250_000
#: A unit is converged when |Σ_i |W_i|^p − 1| is below this.
CONVERGENCE_TOLERANCE = 0.05


@register
class HebbianLearner(Learner):
    """Competing hidden units (Krotov & Hopfield 2019) + supervised linear readout."""

    name = "hebbian"
    description = "Krotov-Hopfield competing hidden units (local Hebbian, no labels) + readout"
    paradigm = "brain"
    rule = "krotov_hopfield"
    encoding = "unit"
    variants = (None, "random_first_layer")
    variant_rules = {"random_first_layer": "none"}
    supported_kinds = ("classification",)
    defaults = {
        "n_hidden": 200,
        "p": 3.0,
        "k": 2,
        "delta": 0.4,
        "readout_power": 3.0,
        "lr": 0.02,
        "batch_size": 100,
        "epochs": "auto",
        "readout_lr": 3e-3,
        "readout_weight_decay": 1e-3,
        "readout_batch_size": 64,
        "readout_epochs": 300,
        "readout_patience": 20,
    }
    quick = {"epochs": 60, "readout_epochs": 40, "readout_patience": 8}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        cfg = self.config
        if cfg["p"] < 2 or int(cfg["k"]) < 2 or int(cfg["n_hidden"]) < int(cfg["k"]):
            raise ConfigError(
                f"hebbian needs p >= 2, k >= 2 and n_hidden >= k; got p={cfg['p']}, "
                f"k={cfg['k']}, n_hidden={cfg['n_hidden']}"
            )

    def _build(self, n_features: int, n_outputs: int, kind: str, seed: int) -> CompetingUnitsNet:
        gen = torch_generator(seed, self.name, "init")
        return CompetingUnitsNet(
            n_features,
            int(self.config["n_hidden"]),
            n_outputs,
            readout_power=self.config["readout_power"],
            generator=gen,
        ).to(self.device)

    def default_epochs(self, n_samples: int) -> int:
        """First-layer epochs: the configured number, or ``auto`` = the sample budget / n, ≤ 1000."""
        epochs = self.config["epochs"]
        if epochs == "auto":
            return max(1, min(1000, math.ceil(HEBBIAN_SAMPLE_BUDGET / max(n_samples, 1))))
        return resolve_epochs(epochs, 1)

    # -- stage 1 -------------------------------------------------------------------------------
    @torch.no_grad()
    def _hebbian_epoch(self, v: torch.Tensor, lr: float, gen: torch.Generator) -> None:
        cfg, layer = self.config, self.model.hidden
        bs = int(cfg["batch_size"])
        perm = torch.randperm(v.shape[0], generator=gen).to(v.device)
        for start in range(0, v.shape[0] - bs + 1 if v.shape[0] >= bs else 1, bs):
            batch = v[perm[start : start + bs]]
            dw = krotov_hopfield_dw(
                layer.effective_weight(), batch, p=cfg["p"], k=int(cfg["k"]), delta=cfg["delta"]
            )
            layer.apply_dw_(lr * dw / dw.abs().max().clamp_min(1e-30))

    @torch.no_grad()
    def _random_layer(self) -> None:
        w, p = self.model.hidden.weight, self.config["p"]
        w.div_(p_norms(w, p)[:, None] ** (1.0 / p))

    # -- stage 2 -------------------------------------------------------------------------------
    @torch.no_grad()
    def _fit_feature_scale(self, v: torch.Tensor) -> None:
        f = torch.relu(self.model.hidden(v)) ** self.config["readout_power"]
        self.model.feature_scale.copy_(f.std(0).clamp_min(1e-6))

    def fit(
        self, task, *, seed: int, epochs: int | None = None, progress: Progress | None = None
    ) -> History:
        """Stage 1 (Hebbian, unless the control variant) then stage 2 (readout, early stopped).

        ``epochs`` sets the first layer's epochs; the readout stops on its validation metric.
        """
        self._check_kind(task)
        X_fit, y_fit, X_val, y_val = task.validation_split(seed)
        self.task_kind, self.n_features, self.n_outputs = (
            "classification",
            X_fit.shape[1],
            task.n_classes,
        )
        self.model = model = self._build(self.n_features, self.n_outputs, "classification", seed)
        model.encoder.fit(X_fit)
        with torch.no_grad():
            v_fit, v_val = (
                model.encoder(self._as_tensor(X_fit)),
                model.encoder(self._as_tensor(X_val)),
            )
        if self.variant is None:
            n_epochs = resolve_epochs(epochs, self.default_epochs(len(X_fit)))
            self.hebbian_epochs_ = n_epochs
            gen = torch_generator(seed, self.name, "hebbian")
            lr0 = float(self.config["lr"])
            for epoch in range(n_epochs):
                self._hebbian_epoch(v_fit, lr0 * (1.0 - epoch / n_epochs), gen)
                if progress is not None:
                    progress(epoch + 1, n_epochs, {"stage": "hebbian"})
        else:
            self.hebbian_epochs_ = 0
            self._random_layer()
        return self._fit_readout(v_fit, y_fit, v_val, y_val, seed, progress)

    def _fit_readout(self, v_fit, y_fit, v_val, y_val, seed, progress) -> History:
        model, cfg = self.model, self.config
        self._fit_feature_scale(v_fit)
        with torch.no_grad():
            f_fit, f_val = model.features(v_fit), model.features(v_val)
            center = f_fit.mean(0)
        y_fit_t = torch.as_tensor(np.asarray(y_fit), dtype=torch.long, device=self.device)
        y_val_t = torch.as_tensor(np.asarray(y_val), dtype=torch.long, device=self.device)
        history = train_supervised(
            lambda f, train: model.head(f),
            model,
            model.readout.parameters(),
            (f_fit - center, y_fit_t, f_val - center, y_val_t),
            kind="classification",
            lr=cfg["readout_lr"],
            weight_decay=cfg["readout_weight_decay"],
            batch_size=int(cfg["readout_batch_size"]),
            max_epochs=int(cfg["readout_epochs"]),
            patience=int(cfg["readout_patience"]),
            generator=torch_generator(seed, self.name, "readout"),
            history=History("accuracy"),
            progress=progress,
            stage="readout",
        )
        # fold the centring into the bias: W(f − m) + b = Wf + (b − Wm), so zero features stay zero
        with torch.no_grad():
            model.readout.bias.sub_(model.readout.effective_weight() @ center)
        return history

    def partial_fit(self, X, y, *, classes=None, task_id=None) -> History:
        """One Hebbian epoch (unannealed rate, not for the control) and one full-batch readout step on
        ``(X, y)``. An unfitted learner needs ``classes``; its encoder and feature scale are
        fitted on this first batch and kept afterwards."""
        X = self._partial_fit_inputs(X, y)
        first = self.model is None
        if first:
            if classes is None:
                raise ConfigError("hebbian.partial_fit on an unfitted learner needs classes=")
            n_out = n_classes_of(classes)
            self.task_kind, self.n_features, self.n_outputs = "classification", X.shape[1], n_out
            self.model = self._build(X.shape[1], n_out, "classification", 0)
            self.model.encoder.fit(X)
            if self.variant is not None:
                self._random_layer()
        if getattr(self, "_pf_opt", None) is None:  # also after fit() or load()
            self._pf_gen = torch_generator(0, self.name, "partial_fit")
            self._pf_opt = torch.optim.Adam(
                self.model.readout.parameters(),
                lr=self.config["readout_lr"],
                weight_decay=self.config["readout_weight_decay"],
            )
        model = self.model
        with torch.no_grad():
            v = model.encoder(self._as_tensor(X))
        if self.variant is None:
            self._hebbian_epoch(v, float(self.config["lr"]), self._pf_gen)
        if first:
            self._fit_feature_scale(v)
        with torch.no_grad():
            f = model.features(v)
        y_t = torch.as_tensor(np.asarray(y), dtype=torch.long, device=self.device)
        loss, _ = loss_and_metric(model.head(f), y_t, "classification")
        self._pf_opt.zero_grad(set_to_none=True)
        loss.backward()
        self._pf_opt.step()
        with torch.no_grad():
            _, acc = loss_and_metric(model.head(f), y_t, "classification")
        history = History("accuracy")
        history.append(loss.item(), acc)
        return history

    # -- what the report shows ------------------------------------------------------------------
    def converged_fraction(self) -> float:
        """Fraction of hidden units at unit p-norm: |Σ_i |W_μi|^p − 1| < 0.05."""
        norms = p_norms(self.model.hidden.effective_weight().detach(), self.config["p"])
        return float(((norms - 1.0).abs() < CONVERGENCE_TOLERANCE).float().mean())

    def extra_metrics(self) -> dict[str, float]:
        return {
            "first_layer_converged_fraction": self.converged_fraction(),
            "hebbian_epochs": float(getattr(self, "hebbian_epochs_", 0)),
        }

    def figures(self, task) -> dict[str, bytes]:
        """The first layer's receptive fields, drawn in the input's shape (a 1 × n_features
        strip per unit when the input is not an image)."""
        from neurotwin.report.figures import receptive_fields_png

        w = self.model.hidden.effective_weight().detach().cpu().numpy()
        shape = tuple(task.input_shape)
        if len(shape) != 2 or shape[0] * shape[1] != w.shape[1]:
            shape = (1, w.shape[1])
        return {"receptive_fields": receptive_fields_png(w, shape)}
