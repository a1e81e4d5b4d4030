"""A convolutional network built from :class:`~neurotwin.core.synapses.Synapses` (im2col).

A convolution is a dense connection shared over positions (LeCun et al., 1989). With im2col, the
input (batch, C, H, W) is cut into its patches by :func:`torch.nn.functional.unfold`, one row of
C·k·k values per output position, and one ``Synapses(C·k·k, out_channels)`` maps every row:

    patches = unfold(a, k, padding=p)            (batch·L, C·k·k),  L = H'·W' positions
    z[b, o, y, x] = Σ_{c,i,j} W[o, (c, i, j)] · a[b, c, y+i−p, x+j−p] + b_o

which is exactly ``conv2d(a, W.view(O, C, k, k), b, padding=p)``; the weight is shared because the
same Synapses maps every position, and its op counter counts batch·L·C·k·k·O multiply-accumulates,
the convolution's real ones (effective ops skip zero inputs, the padding among them). A lesion
masks a weight at every position at once, as removing one shared kernel entry would.

Layers: encode(x) → [conv k×k (same padding) → ReLU → max-pool p×p]×n → flatten → [dense → ReLU →
dropout]×m → dense readout (He et al., 2015 initial weights for ReLU layers, Glorot & Bengio, 2010
for the readout).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from neurotwin.core.ops import add_neuron_updates
from neurotwin.core.synapses import Synapses
from neurotwin.encoding import Encoder
from neurotwin.errors import ConfigError


class Conv2dSynapses(nn.Module):
    """A 2-D convolution whose kernel is one shared :class:`Synapses` (im2col, see the module
    docstring); ``synapses.weight`` is (out_channels, in_channels·k·k), in ``conv2d``'s order."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        *,
        padding: int = 0,
        init: str = "he_uniform",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if kernel < 1 or padding < 0:
            raise ConfigError(f"a convolution needs kernel >= 1 and padding >= 0, got {kernel}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel, self.padding = int(kernel), int(padding)
        self.synapses = Synapses(
            self.in_channels * self.kernel**2, self.out_channels, init=init, generator=generator
        )

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """The spatial size (H', W') of the output for an (h, w) input (stride 1)."""
        return h + 2 * self.padding - self.kernel + 1, w + 2 * self.padding - self.kernel + 1

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        """(batch, C, H, W) → (batch, out_channels, H', W')."""
        batch, _, h, w = a.shape
        h_out, w_out = self.output_size(h, w)
        patches = F.unfold(a, self.kernel, padding=self.padding)  # (batch, C·k·k, L)
        rows = patches.transpose(1, 2).reshape(-1, self.synapses.pre)  # (batch·L, C·k·k)
        z = self.synapses(rows)  # (batch·L, out)
        return (
            z.reshape(batch, h_out * w_out, self.out_channels)
            .transpose(1, 2)
            .reshape(batch, self.out_channels, h_out, w_out)
        )


class ConvNet(nn.Module):
    """Encoder → [Conv2dSynapses → ReLU → max-pool]×n → [Synapses → ReLU → dropout]×m → Synapses.

    ``input_shape`` is (H, W) (one channel) or (C, H, W); the flattened input is in that order.
    A pool of 1 (or a map smaller than the pool) skips the pooling of that layer.
    """

    def __init__(
        self,
        input_shape: tuple[int, ...],
        channels: tuple[int, ...],
        hidden: tuple[int, ...],
        n_out: int,
        *,
        kernel: int = 3,
        pool: int = 2,
        dropout: float = 0.0,
        encoding: str = "standard",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        shape = tuple(int(s) for s in input_shape)
        if len(shape) not in (2, 3) or min(shape) < 1:
            raise ConfigError(
                f"a convolutional network needs an image input_shape (H, W) or (C, H, W), "
                f"got {shape}"
            )
        if not channels:
            raise ConfigError("a convolutional network needs at least one conv layer (channels)")
        if kernel < 1 or kernel % 2 == 0:
            raise ConfigError(f"kernel must be an odd whole number >= 1, got {kernel}")
        if pool < 1:
            raise ConfigError(f"pool must be >= 1, got {pool}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.image_shape = shape if len(shape) == 3 else (1, *shape)
        c, h, w = self.image_shape
        self.encoder = Encoder(encoding, c * h * w)
        convs, self.pools = [], []
        for out in channels:
            conv = Conv2dSynapses(c, int(out), kernel, padding=kernel // 2, generator=generator)
            convs.append(conv)
            h, w = conv.output_size(h, w)
            p = pool if min(h, w) >= pool else 1
            self.pools.append(p)
            c, h, w = int(out), h // p, w // p
        self.convs = nn.ModuleList(convs)
        sizes = [c * h * w, *(int(n) for n in hidden), n_out]
        self.dense = nn.ModuleList(
            Synapses(
                a,
                b,
                init="he_uniform" if i < len(hidden) else "xavier_uniform",
                generator=generator,
            )
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        )
        self.dropout = dropout
        self.register_buffer("y_mean", torch.zeros(1))
        self.register_buffer("y_scale", torch.ones(1))

    def core(
        self, a: torch.Tensor, train: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Outputs in the training space for encoded inputs ``a`` of shape (batch, C·H·W)."""
        a = a.reshape(a.shape[0], *self.image_shape)
        for conv, p in zip(self.convs, self.pools, strict=True):
            a = torch.relu(conv(a))
            add_neuron_updates(a.numel())
            if p > 1:
                a = F.max_pool2d(a, p)
        a = a.flatten(1)
        for layer in self.dense[:-1]:
            a = torch.relu(layer(a))
            add_neuron_updates(a.numel())
            if train and self.dropout > 0:
                keep = torch.rand(a.shape, generator=generator, device=a.device) >= self.dropout
                a = a * keep / (1.0 - self.dropout)
        out = self.dense[-1](a)
        add_neuron_updates(out.numel())
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (or target values, in the target's units) for raw inputs ``x``."""
        return self.core(self.encoder(x)) * self.y_scale + self.y_mean
