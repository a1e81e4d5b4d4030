"""``rnn``, ``lstm``, ``gru``: recurrent networks on sequence tasks (``input_shape`` (steps,
features), e.g. ``digits_rows``), unrolled over the steps and trained by backpropagation through
time with Adam and early stopping; the equations are in :mod:`neurotwin.artificial.recurrent`."""

from __future__ import annotations

from typing import ClassVar

from neurotwin.artificial.recurrent import RecurrentNet
from neurotwin.core.seeding import torch_generator
from neurotwin.learners.cnn import ShapedLearner
from neurotwin.learners.registry import register


class RecurrentLearner(ShapedLearner):
    """A recurrent network of cell :attr:`cell` with ``hidden`` units; the class scores are a
    dense readout of the last hidden state. Early stopping on a 10 % validation slice."""

    cell: ClassVar[str] = ""
    paradigm = "artificial"
    rule = "backprop"
    encoding = "standard"
    supported_kinds = ("sequence",)
    shape_ranks = (2,)
    needs = "a sequence task (input_shape (steps, features))"
    examples = "digits_rows"
    partial_fit_kind = "sequence"
    defaults = {
        "hidden": 128,
        "dropout": 0.2,
        "input_shape": "auto",
        "lr": 3e-3,
        "weight_decay": 0.0,
        "batch_size": 32,
        "epochs": 150,
        "patience": 20,
    }
    quick = {"hidden": 16, "epochs": 8, "patience": 3}
    auto_defaults = {"input_shape": "the task's (steps, features) at fit: (8, 8) on digits_rows"}

    def _build(self, n_features: int, n_outputs: int, kind: str, seed: int) -> RecurrentNet:
        cfg = self.config
        return RecurrentNet(
            self.cell,
            self._input_shape(),
            int(cfg["hidden"]),
            n_outputs,
            dropout=float(cfg["dropout"]),
            encoding=self.encoding,
            generator=torch_generator(seed, self.name, "init"),
        ).to(self.device)


@register
class RNNLearner(RecurrentLearner):
    """Elman RNN: h_t = tanh(W_i x_t + b_i + W_h h_{t−1} + b_h)."""

    name = "rnn"
    cell = "rnn"
    description = "Elman recurrent network on sequence tasks, backprop through time + Adam"


@register
class LSTMLearner(RecurrentLearner):
    """LSTM (Hochreiter & Schmidhuber, 1997; forget gate of Gers et al., 2000)."""

    name = "lstm"
    cell = "lstm"
    description = "long short-term memory network on sequence tasks, backprop through time + Adam"


@register
class GRULearner(RecurrentLearner):
    """GRU (Cho et al., 2014), with the reset gate after the recurrent product (as cuDNN)."""

    name = "gru"
    cell = "gru"
    description = "gated recurrent unit network on sequence tasks, backprop through time + Adam"
