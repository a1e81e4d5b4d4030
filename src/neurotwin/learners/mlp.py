"""``mlp``: a multilayer perceptron trained by backpropagation with Adam and early stopping."""

from __future__ import annotations

import torch
from torch import nn

from neurotwin.artificial.mlp import MLPNet
from neurotwin.core.seeding import torch_generator
from neurotwin.learners.registry import register
from neurotwin.learners.supervised import SupervisedLearner


@register
class MLPLearner(SupervisedLearner):
    """Backprop-trained MLP; early stopping on a 10 % validation slice of the training part.

    The variant ``unit_encoding`` is the same network fed unit-range inputs ([0, 1], the encoding
    of the brain-like learners) instead of standardised ones: the fair control for energy, since
    effective operations count only non-zero inputs.
    """

    name = "mlp"
    description = "multilayer perceptron, backpropagation + Adam, early stopping on validation"
    paradigm = "artificial"
    rule = "backprop"
    encoding = "standard"
    variants = (None, "unit_encoding")
    variant_encodings = {"unit_encoding": "unit"}
    variant_notes = {
        "unit_encoding": "the same network on unit-range [0, 1] inputs, the brain learners' "
        "encoding: the fair control for energy"
    }
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
        return MLPNet(
            n_features,
            tuple(int(h) for h in cfg["hidden"]),
            n_outputs,
            encoding=self.encoding,
            activation=cfg["activation"],
            dropout=float(cfg["dropout"]),
            init=cfg["init"],
            generator=torch_generator(seed, self.name, "init"),
        ).to(self.device)

    def _trained_parameters(self) -> list[nn.Parameter]:
        return list(self.model.layers.parameters())

    def _train_forward(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        return self.model.core(x, train, self._dropout_generator)
