"""``hebbian``: Krotov & Hopfield's competing hidden units with a supervised readout.

Two stages. (1) The first layer learns without labels by the local Hebbian/anti-Hebbian rule of
:mod:`neurotwin.brain.krotov_hopfield`. (2) A linear softmax readout on f = relu(h)^n is trained by
Adam with early stopping on the validation slice; only the readout sees labels. The control variant
``random_first_layer`` (rule ``none``) skips stage 1 and reads out a random layer of the same size,
drawn N(0, 1) and scaled to unit p-norm like a converged one, so a comparison shows what the
Hebbian layer adds. This module only adapts the network to the :class:`Learner` contract.
"""

from __future__ import annotations

import torch
from torch import nn

from neurotwin.brain import krotov_hopfield as kh
from neurotwin.core.history import History, Progress
from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError
from neurotwin.learners.base import resolve_epochs
from neurotwin.learners.registry import register
from neurotwin.learners.supervised import SupervisedLearner
from neurotwin.plots import receptive_fields_png


@register
class HebbianLearner(SupervisedLearner):
    """Competing hidden units (Krotov & Hopfield 2019) + supervised linear readout."""

    name = "hebbian"
    description = "Krotov-Hopfield competing hidden units (local Hebbian, no labels) + readout"
    paradigm = "brain"
    rule = "krotov_hopfield"
    encoding = "unit"
    variants = (None, "random_first_layer")
    variant_rules = {"random_first_layer": "none"}
    controls = {None: "random_first_layer"}
    variant_notes = {
        "random_first_layer": "the control: the same network with the Hebbian learning "
        "switched off (a random, fixed first layer at unit p-norm)"
    }
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
    auto_defaults = {
        "epochs": f"min({kh.MAX_EPOCHS}, ⌈{kh.SAMPLE_BUDGET:,} / n_fit⌉): "
        f"{kh.default_epochs(1212)} on digits, {kh.default_epochs(54_000)} on MNIST",
    }
    quick = {"epochs": 60, "readout_epochs": 40, "readout_patience": 8}
    train_prefix = "readout_"
    stage = "readout"
    batch_stream = "readout"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        cfg = self.config
        if cfg["p"] < 2 or int(cfg["k"]) < 2 or int(cfg["n_hidden"]) < int(cfg["k"]):
            raise ConfigError(
                f"hebbian needs p >= 2, k >= 2 and n_hidden >= k; got p={cfg['p']}, "
                f"k={cfg['k']}, n_hidden={cfg['n_hidden']}"
            )

    def _build(self, n_features: int, n_outputs: int, kind: str, seed: int) -> kh.CompetingUnitsNet:
        cfg = self.config
        return kh.CompetingUnitsNet(
            n_features,
            int(cfg["n_hidden"]),
            n_outputs,
            p=cfg["p"],
            k=int(cfg["k"]),
            delta=cfg["delta"],
            readout_power=cfg["readout_power"],
            encoding=self.encoding,
            generator=torch_generator(seed, self.name, "init"),
        ).to(self.device)

    def default_epochs(self, n_samples: int) -> int:
        """First-layer epochs: the configured number, or ``auto`` (:func:`kh.default_epochs`)."""
        epochs = self.config["epochs"]
        return kh.default_epochs(n_samples) if epochs == "auto" else resolve_epochs(epochs, 1)

    # -- the SupervisedLearner hooks: the readout is the trained stage ---------------------------
    def _init_training(self, seed: int) -> None:
        super()._init_training(seed)
        self._hebbian_generator = torch_generator(seed, self.name, "hebbian")

    def _trained_parameters(self) -> list[nn.Parameter]:
        return list(self.model.readout.parameters())

    def fixed_parameters(self) -> list[nn.Parameter]:
        return [self.model.hidden.weight] if self.variant is not None else []

    def _train_inputs(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.features(self.model.encoder(x))

    def _train_forward(self, f: torch.Tensor, train: bool) -> torch.Tensor:
        return self.model.head(f)

    def _before_incremental_step(self, v: torch.Tensor, *, first: bool) -> None:
        """Stage 1 of ``partial_fit``: one Hebbian epoch at the unannealed rate (the control's
        layer is drawn once instead); the feature scale is fitted on the first batch only."""
        if self.variant is None:
            self.model.hebbian_epoch(
                v, float(self.config["lr"]), int(self.config["batch_size"]), self._hebbian_generator
            )
        elif first:
            self.model.randomise_to_unit_norm_()
        if first:
            self.model.fit_feature_scale_(v)

    # -- fit: stage 1, then the readout ----------------------------------------------------------
    def fit(
        self, task, *, seed: int, epochs: int | None = None, progress: Progress | None = None
    ) -> History:
        """Stage 1 (Hebbian, unless the control variant) then stage 2 (readout, early stopped).

        ``epochs`` sets the first layer's epochs; the readout stops on its validation metric.
        """
        self._check_kind(task)
        X_fit, y_fit, X_val, y_val = task.validation_split(seed)
        model = self._setup(X_fit, y_fit, task.n_classes, task.kind, seed, image=task.is_image)
        with torch.no_grad():
            v_fit = model.encoder(self._as_tensor(X_fit))
        if self.variant is None:
            self.hebbian_epochs_ = resolve_epochs(epochs, self.default_epochs(len(X_fit)))
            model.train_unsupervised(
                v_fit,
                n_epochs=self.hebbian_epochs_,
                lr0=float(self.config["lr"]),
                batch_size=int(self.config["batch_size"]),
                generator=self._hebbian_generator,
                progress=None
                if progress is None
                else (lambda done, total: progress(done, total, {"stage": "hebbian"})),
            )
        else:
            self.hebbian_epochs_ = 0
            model.randomise_to_unit_norm_()
        model.fit_feature_scale_(v_fit)
        with torch.no_grad():
            f_fit = self._train_inputs(self._as_tensor(X_fit))
            f_val = self._train_inputs(self._as_tensor(X_val))
            centre = f_fit.mean(0)
        history = self._train(
            f_fit - centre,
            y_fit,
            f_val - centre,
            y_val,
            max_epochs=int(self.setting("epochs")),
            patience=int(self.setting("patience")),
            progress=progress,
        )
        model.fold_centre_into_bias_(centre)
        return history

    # -- what the report shows ------------------------------------------------------------------
    def converged_fraction(self) -> float:
        """Fraction of hidden units at unit p-norm (see :meth:`kh.CompetingUnitsNet.converged_fraction`)."""
        return self._check_fitted().converged_fraction()

    def extra_metrics(self) -> dict[str, float]:
        return {
            "first_layer_converged_fraction": self.converged_fraction(),
            "hebbian_epochs": float(getattr(self, "hebbian_epochs_", 0)),
        }

    def figures(self, task) -> dict[str, bytes]:
        """The first layer's receptive fields: drawn in the input's shape when it is an
        ``(H, W)`` image, else each unit's weights wrapped into a near-square grid."""
        w = self.model.hidden.effective_weight().detach().cpu().numpy()
        shape = tuple(task.input_shape)
        image = len(shape) == 2 and shape[0] * shape[1] == w.shape[1]
        return {"receptive_fields": receptive_fields_png(w, shape if image else None)}
