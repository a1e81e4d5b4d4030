"""``fa``, ``dfa``, ``sign``: MLPs on the explicit engine whose hidden layers learn through a
feedback pathway other than backprop's transposed weights.

Every learner here is :class:`EngineNet` — the input encoder, then a
:class:`~neurotwin.artificial.engine.Network` of dense layers on ``Synapses`` — trained by minibatch
Adam (the engine's :class:`~neurotwin.artificial.engine.Adam`) with early stopping on the validation
slice, through the one supervised training path
(:func:`~neurotwin.artificial.training.train_supervised`, whose ``step`` hook runs the engine's
hand-written forward/backward pass instead of autograd). Only the feedback signal g_l that reaches
hidden layer l differs (see :mod:`neurotwin.artificial.engine.feedback`):

- ``fa``, feedback alignment (Lillicrap et al., 2016): g_l = δ_{l+1} · B_{l+1}, B fixed and random.
- ``dfa``, direct feedback alignment (Nøkland, 2016): g_l = δ_out · B_l.
- ``sign``, sign symmetry (Liao, Leibo & Poggio, 2016): g_l = δ_{l+1} · sign(W_{l+1}).

Two hidden layers by default: with one, feedback alignment and direct feedback alignment are the
same algorithm. Weight decay is the engine's L2 penalty λ₂ on the weights (not the biases).

Alignment: at the start of every epoch (so epoch 1 holds the untrained network's angle, about 90°
for random feedback) the learner records, on a fixed held-out batch (the first
:data:`ALIGNMENT_BATCH` samples of the validation slice, no dropout), the angle θ in degrees
between the last hidden layer's update under its pathway, ΔW = δᵀ a_in / N, and the exact
backprop gradient of the same forward pass (``Network.raw_update(-2)`` vs ``reference=True``),

    θ = arccos(⟨ΔW_pathway, ΔW_backprop⟩_F / (‖ΔW_pathway‖_F ‖ΔW_backprop‖_F)) · 180/π,

as the history series ``alignment_angle_deg`` (defined with its probe,
:mod:`neurotwin.probes.alignment`; Lillicrap et al., 2016, Fig. 2: below 90° the
pathway's updates point downhill). Backprop's angle is 0 by definition.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from neurotwin.artificial.engine import Adam, Network, get_loss
from neurotwin.core.history import History
from neurotwin.core.seeding import torch_generator
from neurotwin.encoding import Encoder
from neurotwin.learners.registry import register
from neurotwin.learners.supervised import SupervisedLearner
from neurotwin.probes.alignment import SERIES as ALIGNMENT_SERIES
from neurotwin.probes.alignment import update_angle_deg

#: Samples of the validation slice the alignment angle is measured on (the first ones).
ALIGNMENT_BATCH = 256


class EngineNet(nn.Module):
    """Encoder → engine :class:`Network` (hidden layers with ``activation`` and dropout, a linear
    output layer), with output rescaling for regression (``y_mean``/``y_scale`` buffers): the
    network predicts the standardised target, :meth:`forward` maps it back to the target's units.
    """

    def __init__(
        self,
        n_in: int,
        hidden: tuple[int, ...],
        n_out: int,
        *,
        encoding: str = "standard",
        activation: str = "relu",
        dropout: float = 0.0,
        init: str = "he_uniform",
        l2: float = 0.0,
        pathway: str = "backprop",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.encoder = Encoder(encoding, n_in)
        self.network = Network.from_sizes(
            [n_in, *hidden, n_out],
            activation=activation,
            output_activation="identity",
            init=init,
            dropout=dropout,
            l2=l2,
            pathway=pathway,
            generator=generator,
        )
        self.register_buffer("y_mean", torch.zeros(1))
        self.register_buffer("y_scale", torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores or target values (in the target's units) for raw inputs ``x``."""
        return self.network(self.encoder(x)) * self.y_scale + self.y_mean


class EngineLearner(SupervisedLearner):
    """A learner whose model is an :class:`EngineNet` trained through its feedback ``pathway``
    by the engine's Adam, on the shared training path (early stopping on validation loss)."""

    pathway: ClassVar[str] = "backprop"

    def _hidden(self) -> tuple[int, ...]:
        return tuple(int(h) for h in self.config.get("hidden", ()))

    def _build(self, n_features: int, n_outputs: int, kind: str, seed: int) -> EngineNet:
        cfg = self.config
        return EngineNet(
            n_features,
            self._hidden(),
            n_outputs,
            encoding=self.encoding,
            activation=cfg.get("activation", "relu"),
            dropout=float(cfg.get("dropout", 0.0)),
            init=cfg.get("init", "he_uniform"),
            l2=float(self.setting("weight_decay")),
            pathway=self.pathway,
            generator=torch_generator(seed, self.name, "init"),
        ).to(self.device)

    def _init_training(self, seed: int) -> None:
        self._optimiser = Adam(lr=float(self.setting("lr")))
        self._loss = get_loss("cross_entropy" if self.kind.target == "class" else "mse")
        self._batch_generator = torch_generator(seed, self.name, self.batch_stream)
        self._dropout_generator = torch_generator(seed, self.name, "dropout", device=self.device)

    def _trained_parameters(self) -> list[nn.Parameter]:
        return list(self.model.network.parameters())

    def _train_forward(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        return self.model.network(x, train=train, generator=self._dropout_generator)

    def _step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One engine step on a minibatch: forward, per-sample error, the pathway's backward pass,
        one Adam update through ``Synapses.apply_dw_``; returns the batch loss."""
        network = self.model.network
        out = network(x, train=True, generator=self._dropout_generator)
        grads = network.backward(self._loss.gradient(out, y))
        network.apply_gradients_(grads, self._optimiser)
        return self._loss.value(out, y)

    def _alignment_recorder(self, x_val: torch.Tensor | None, y_val: torch.Tensor | None):
        """``before_epoch`` for the training path: the alignment angle of the weights the epoch
        starts from, on the fixed held-out batch (None without a validation slice or a hidden
        layer)."""
        if x_val is None or not self._hidden():
            return None
        x, y = x_val[:ALIGNMENT_BATCH], y_val[:ALIGNMENT_BATCH]

        def record(history: History) -> None:
            network = self.model.network
            network.backward(self._loss.gradient(network(x), y))
            angle = update_angle_deg(network.raw_update(-2), network.raw_update(-2, reference=True))
            history.record(ALIGNMENT_SERIES, angle)

        return record

    def _train_hooks(self, x_val: torch.Tensor | None, t_val: torch.Tensor | None) -> dict:
        """Minibatch steps by the engine, and the alignment angle at the start of each epoch."""
        return {"step": self._step, "before_epoch": self._alignment_recorder(x_val, t_val)}

    def _train(self, *args, **kwargs) -> History:
        self.history_ = super()._train(*args, **kwargs)
        return self.history_


#: Defaults shared by the three feedback learners (chosen on the validation slice of digits).
FEEDBACK_DEFAULTS = {
    "hidden": (256, 256),
    "activation": "relu",
    "dropout": 0.1,
    "init": "he_uniform",
    "lr": 1e-3,
    "weight_decay": 1e-4,
    "batch_size": 32,
    "epochs": 200,
    "patience": 20,
}
FEEDBACK_QUICK = {"hidden": (64, 64), "epochs": 15, "patience": 5}


class _FeedbackLearner(EngineLearner):
    paradigm = "artificial"
    encoding = "standard"
    defaults = FEEDBACK_DEFAULTS
    quick = FEEDBACK_QUICK
    extra_probes = ("alignment",)


@register
class FeedbackAlignmentLearner(_FeedbackLearner):
    """Feedback alignment (Lillicrap et al., 2016): fixed random feedback matrices B_{l+1} in
    place of W_{l+1}ᵀ; the forward weights come to align with them."""

    name = "fa"
    description = "MLP trained by feedback alignment (fixed random feedback), Adam, early stopping"
    rule = pathway = "feedback_alignment"


@register
class DirectFeedbackAlignmentLearner(_FeedbackLearner):
    """Direct feedback alignment (Nøkland, 2016): the output error reaches every hidden layer
    through its own fixed random matrix B_l."""

    name = "dfa"
    description = "MLP trained by direct feedback alignment (output error straight to each layer)"
    rule = pathway = "direct_feedback_alignment"


@register
class SignSymmetryLearner(_FeedbackLearner):
    """Sign symmetry (Liao, Leibo & Poggio, 2016): feedback through sign(W_{l+1}), the forward
    weights' signs with unit magnitudes."""

    name = "sign"
    description = "MLP trained by sign-symmetric feedback (signs of the forward weights), Adam"
    rule = pathway = "sign_symmetry"
