"""Recurrent networks (Elman RNN, LSTM, GRU) built from :class:`~neurotwin.core.synapses.Synapses`.

A sequence task's input (batch, T·F) is read as T steps of F features (``input_shape`` (T, F)).
Each cell has one dense ``Synapses(F, G·H)`` from the input and one ``Synapses(H, G·H,
kind="recurrent")`` from the hidden state onto itself, the G gates of H units stacked in
``torch.nn``'s order, each with its bias (b_i, b_h), so a lesion, an op count or a mask acts on
them like on any other connection. The network is unrolled over the T steps (h₀ = c₀ = 0) and
trained by backpropagation through time with autograd; the class scores are a dense readout of the
last hidden state h_T. With σ the logistic function and ⊙ the elementwise product:

Elman RNN (Elman, 1990), G = 1:
    h_t = tanh(W_i x_t + b_i + W_h h_{t−1} + b_h)

LSTM (Hochreiter & Schmidhuber, 1997, with the forget gate of Gers et al., 2000), G = 4, gates
(i, f, g, o):
    [i; f; g; o] = W_i x_t + b_i + W_h h_{t−1} + b_h
    c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g);   h_t = σ(o) ⊙ tanh(c_t)
The forget gate's bias starts at 1 (Jozefowicz et al., 2015), so the cell remembers at first.

GRU (Cho et al., 2014), G = 3, gates (r, z, n):
    [a_r; a_z; a_n] = W_i x_t + b_i;   [u_r; u_z; u_n] = W_h h_{t−1} + b_h
    r = σ(a_r + u_r);   z = σ(a_z + u_z);   n = tanh(a_n + r ⊙ u_n)
    h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
The reset gate acts on the recurrent term after its product (r ⊙ (W_hn h + b_hn)), as in
``torch.nn.GRUCell`` and cuDNN; Cho et al. apply it before (W_hn (r ⊙ h)).

These are the equations of ``torch.nn.RNNCell``/``LSTMCell``/``GRUCell``: with the same weights
the cells give the same outputs (the tests check it).
"""

from __future__ import annotations

import torch
from torch import nn

from neurotwin.core.ops import add_neuron_updates
from neurotwin.core.synapses import Synapses
from neurotwin.encoding import Encoder
from neurotwin.errors import ConfigError

#: Cell type → number of stacked gates G.
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


class RecurrentCell(nn.Module):
    """One step of an Elman RNN, LSTM or GRU (see the module docstring), H hidden units.

    ``step(x, state)`` maps inputs (batch, F) and a state (h, or (h, c) for the LSTM) to the next
    state; ``input`` and ``recurrent`` are the two :class:`Synapses` (weights (G·H, F), (G·H, H)).
    """

    def __init__(
        self,
        cell: str,
        n_in: int,
        hidden: int,
        *,
        forget_bias: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if cell not in GATES:
            raise ConfigError(f"unknown cell {cell!r}; choose one of: {', '.join(GATES)}")
        if hidden < 1:
            raise ConfigError(f"hidden must be >= 1, got {hidden}")
        self.cell, self.hidden = cell, int(hidden)
        g = GATES[cell] * self.hidden
        self.input = Synapses(n_in, g, init="xavier_uniform", generator=generator)
        self.recurrent = Synapses(
            self.hidden, g, kind="recurrent", init="xavier_uniform", generator=generator
        )
        if cell == "lstm":
            with torch.no_grad():
                self.input.bias[self.hidden : 2 * self.hidden].fill_(forget_bias)

    def initial_state(self, batch: int, like: torch.Tensor):
        """h₀ = 0 (and c₀ = 0 for the LSTM)."""
        h = like.new_zeros(batch, self.hidden)
        return (h, h.clone()) if self.cell == "lstm" else h

    def step(self, x: torch.Tensor, state):
        """The next state from inputs ``x`` (batch, F) and ``state``."""
        h_prev = state[0] if self.cell == "lstm" else state
        a, u = self.input(x), self.recurrent(h_prev)
        if self.cell == "rnn":
            h = torch.tanh(a + u)
            add_neuron_updates(h.numel())
            return h
        if self.cell == "lstm":
            i, f, g, o = (a + u).chunk(4, dim=1)
            c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            add_neuron_updates(h.numel() + c.numel())
            return h, c
        a_r, a_z, a_n = a.chunk(3, dim=1)
        u_r, u_z, u_n = u.chunk(3, dim=1)
        r, z = torch.sigmoid(a_r + u_r), torch.sigmoid(a_z + u_z)
        n = torch.tanh(a_n + r * u_n)
        h = (1.0 - z) * n + z * h_prev
        add_neuron_updates(h.numel())
        return h

    @staticmethod
    def output(state) -> torch.Tensor:
        """The hidden state h of ``state``."""
        return state[0] if isinstance(state, tuple) else state


class RecurrentNet(nn.Module):
    """Encoder → cell unrolled over T steps → dropout → Synapses readout of h_T.

    ``input_shape`` is (T, F): the flattened input holds step 0's F features, then step 1's…
    """

    def __init__(
        self,
        cell: str,
        input_shape: tuple[int, ...],
        hidden: int,
        n_out: int,
        *,
        dropout: float = 0.0,
        encoding: str = "standard",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        shape = tuple(int(s) for s in input_shape)
        if len(shape) != 2 or min(shape) < 1:
            raise ConfigError(
                f"a recurrent network needs a sequence input_shape (steps, features), got {shape}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.steps, self.features = shape
        self.encoder = Encoder(encoding, self.steps * self.features)
        self.cell = RecurrentCell(cell, self.features, hidden, generator=generator)
        self.readout = Synapses(self.cell.hidden, n_out, generator=generator)
        self.dropout = dropout
        self.register_buffer("y_mean", torch.zeros(1))
        self.register_buffer("y_scale", torch.ones(1))

    def core(
        self, a: torch.Tensor, train: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Outputs in the training space for encoded inputs ``a`` of shape (batch, T·F)."""
        seq = a.reshape(a.shape[0], self.steps, self.features)
        state = self.cell.initial_state(a.shape[0], a)
        for t in range(self.steps):
            state = self.cell.step(seq[:, t], state)
        h = self.cell.output(state)
        if train and self.dropout > 0:
            keep = torch.rand(h.shape, generator=generator, device=h.device) >= self.dropout
            h = h * keep / (1.0 - self.dropout)
        out = self.readout(h)
        add_neuron_updates(out.numel())
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (or target values, in the target's units) for raw inputs ``x``."""
        return self.core(self.encoder(x)) * self.y_scale + self.y_mean
