"""A multilayer perceptron built from :class:`~neurotwin.core.synapses.Synapses`.

Forward pass (Rumelhart, Hinton & Williams, 1986), for hidden layers l = 1..L:

    a⁰ = encode(x);   aˡ = φ(Wˡ aˡ⁻¹ + bˡ);   ŷ = W^{L+1} a^L + b^{L+1}

with φ = ReLU (or tanh), dropout on hidden activations during training (Srivastava et al., 2014),
Xavier (Glorot & Bengio, 2010) or He (He et al., 2015) initial weights. For regression, the network
predicts the standardised target and ``forward`` maps it back to the target's units with the
``y_mean`` / ``y_scale`` buffers learned from the training part.
"""

from __future__ import annotations

import torch
from torch import nn

from neurotwin.core.ops import add_neuron_updates
from neurotwin.core.synapses import Synapses
from neurotwin.encoding import Encoder
from neurotwin.errors import ConfigError

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


class MLPNet(nn.Module):
    """Encoder → [Synapses → φ → dropout]×L → Synapses, with output rescaling for regression.

    ``encoding`` is the encoder's kind (``"standard"`` or ``"unit"``, see
    :class:`~neurotwin.encoding.Encoder`).
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
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ConfigError(
                f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATIONS)}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.encoder = Encoder(encoding, n_in)
        sizes = [n_in, *hidden, n_out]
        self.layers = nn.ModuleList(
            Synapses(a, b, init=init if i < len(hidden) else "xavier_uniform", generator=generator)
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        )
        self.activation, self.dropout = activation, dropout
        self.register_buffer("y_mean", torch.zeros(1))
        self.register_buffer("y_scale", torch.ones(1))

    def core(
        self, a: torch.Tensor, train: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Outputs in the training space for encoded inputs ``a`` of shape (batch, n_in)."""
        phi = ACTIVATIONS[self.activation]
        for layer in self.layers[:-1]:
            a = phi(layer(a))
            add_neuron_updates(a.numel())
            if train and self.dropout > 0:
                keep = torch.rand(a.shape, generator=generator, device=a.device) >= self.dropout
                a = a * keep / (1.0 - self.dropout)
        out = self.layers[-1](a)
        add_neuron_updates(out.numel())
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores or target values (in the target's units) for raw inputs ``x``."""
        return self.core(self.encoder(x)) * self.y_scale + self.y_mean
