"""A chain of :class:`~neurotwin.artificial.engine.layers.Dense` layers trained through a
swappable feedback pathway, with every gradient computed by hand (no autograd).

One training step, for inputs x (batch, n_in) and targets y:

    ŷ = network.forward(x, train=True)                  a_0 = x, a_l = f_l(z_l) for l = 1 … L
    e = loss.gradient(ŷ, y)                             per-sample error ∂ℓ_n/∂ŷ_n (batch, n_out)
    grads = network.backward(e)                         δ_L = f_L′(z_L) ⊙ e; hidden δ_l from the
                                                        pathway; ∂L/∂W_l, ∂L/∂b_l per layer
    network.apply_gradients_(grads, optimiser)          W_l ← W_l + Δ (through Synapses.apply_dw_)

With a cross-entropy loss (which takes logits) the output layer is linear (``"identity"``), and
δ_L = softmax(z_L) − y. :meth:`Network.raw_update` gives the loss's part of ∂L/∂W_l from the last
backward pass, and with ``reference=True`` the exact backprop gradient of the same forward pass, so
a probe can measure the angle between the two (Lillicrap et al., 2016, Fig. 2).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from neurotwin.artificial.engine.activations import Activation
from neurotwin.artificial.engine.feedback import Backprop, FeedbackPathway, make_pathway
from neurotwin.artificial.engine.layers import Dense, LayerGrads, Trace
from neurotwin.artificial.engine.optimisers import Optimiser
from neurotwin.errors import ConfigError, DataError, NumericalError, shown


class Network(nn.Module):
    """Dense layers whose sizes chain (each layer's ``post`` is the next one's ``pre``) and the
    feedback pathway that trains them.

    Args:
        layers: the layers, input side first.
        pathway: a name from :data:`~neurotwin.artificial.engine.feedback.PATHWAYS` or a
            :class:`FeedbackPathway` built for these sizes.
        generator: draws the pathway's fixed random feedback (alignment pathways).
    """

    def __init__(
        self,
        layers: Sequence[Dense],
        *,
        pathway: str | FeedbackPathway = "backprop",
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        layers = list(layers)
        if not layers or not all(isinstance(layer, Dense) for layer in layers):
            raise ConfigError("Network needs one or more Dense layers")
        for i, (below, above) in enumerate(zip(layers[:-1], layers[1:], strict=True)):
            if below.post != above.pre:
                raise ConfigError(
                    f"layer sizes do not chain: layer {i} has {below.post} outputs but layer "
                    f"{i + 1} takes {above.pre} inputs"
                )
        self.layers = nn.ModuleList(layers)
        sizes = (layers[0].pre, *(layer.post for layer in layers))
        if isinstance(pathway, FeedbackPathway):
            if pathway.sizes != sizes:
                raise ConfigError(
                    f"the pathway was built for sizes {pathway.sizes}, the layers have {sizes}"
                )
            self.pathway = pathway
        else:
            self.pathway = make_pathway(pathway, sizes, generator=generator)
        self.traces_: list[Trace] | None = None
        self.deltas_: list[torch.Tensor] | None = None

    @classmethod
    def from_sizes(
        cls,
        sizes: Sequence[int],
        *,
        activation: str | Activation = "relu",
        output_activation: str | Activation = "identity",
        init: str = "he_uniform",
        dropout: float = 0.0,
        l1: float = 0.0,
        l2: float = 0.0,
        pathway: str | FeedbackPathway = "backprop",
        generator: torch.Generator | None = None,
    ) -> Network:
        """Layers of widths ``sizes`` (n_in, n_1, …, n_out): hidden layers with ``activation``,
        ``init`` and ``dropout``; a Xavier-initialised output layer with ``output_activation`` and
        no dropout; L1/L2 on every layer. ``generator`` draws the weights, then the feedback."""
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ConfigError(f"sizes needs an input and an output width, got {shown(sizes)}")
        n_hidden = len(sizes) - 2
        layers = [
            Dense(
                pre,
                post,
                activation if i < n_hidden else output_activation,
                init=init if i < n_hidden else "xavier_uniform",
                dropout=dropout if i < n_hidden else 0.0,
                l1=l1,
                l2=l2,
                generator=generator,
            )
            for i, (pre, post) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        ]
        return cls(layers, pathway=pathway, generator=generator)

    @property
    def sizes(self) -> tuple[int, ...]:
        """(n_in, n_1, …, n_out)."""
        return self.pathway.sizes

    @torch.no_grad()
    def forward(
        self, x: torch.Tensor, *, train: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """The outputs ŷ (batch, n_out) for inputs ``x`` (batch, n_in); keeps the traces for
        :meth:`backward`. ``train`` applies dropout drawn from ``generator``."""
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.sizes[0]:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise DataError(f"inputs must be (batch, {self.sizes[0]}), got {got}")
        if not torch.isfinite(x).all():
            bad = int((~torch.isfinite(x)).any(1).sum())
            raise DataError(f"inputs hold NaN or infinite values in {bad} of {x.shape[0]} rows")
        traces = []
        a = x
        for layer in self.layers:
            a, trace = layer(a, train=train, generator=generator)
            traces.append(trace)
        self.traces_, self.deltas_ = traces, None
        return a

    @torch.no_grad()
    def backward(self, loss_grad: torch.Tensor) -> list[LayerGrads]:
        """Every layer's gradients for the per-sample output error ``loss_grad`` = ∂ℓ_n/∂ŷ_n
        (batch, n_out) of the last :meth:`forward`, hidden δ from the network's pathway."""
        traces = self._traces(loss_grad)
        delta_out = self.layers[-1].local_delta(loss_grad, traces[-1])
        self.deltas_ = [*self.pathway.hidden_deltas(self.layers, traces, delta_out), delta_out]
        return [
            layer.gradients(delta, trace)
            for layer, delta, trace in zip(self.layers, self.deltas_, traces, strict=True)
        ]

    @torch.no_grad()
    def raw_update(self, layer: int, *, reference: bool = False) -> torch.Tensor:
        """(δ_lᵀ a_{l−1} / batch) ⊙ M_l (post, pre) of layer ``layer`` (negative counts from the
        top) from the last :meth:`backward`: the loss's part of ∂L/∂W_l under the network's
        pathway, before penalties and the optimiser. ``reference=True``: the same with the exact
        backprop δ, for the angle between a pathway's update and the true gradient."""
        if self.deltas_ is None:
            raise ConfigError("raw_update needs a forward and a backward pass first")
        try:
            index = range(len(self.layers))[layer]
        except (IndexError, TypeError):
            raise ConfigError(
                f"layer must index one of the {len(self.layers)} layers, got {shown(layer)}"
            ) from None
        deltas = self.deltas_
        if reference:
            delta_out = deltas[-1]
            exact = Backprop(self.sizes).hidden_deltas(self.layers, self.traces_, delta_out)
            deltas = [*exact, delta_out]
        return self.layers[index].data_gradient(deltas[index], self.traces_[index])

    def penalty(self) -> torch.Tensor:
        """Σ over layers of λ₁ Σ|W ⊙ M| + (λ₂/2) Σ (W ⊙ M)²: add it to the loss's value."""
        return sum(layer.penalty() for layer in self.layers)

    @torch.no_grad()
    def apply_gradients_(self, grads: Sequence[LayerGrads], optimiser: Optimiser) -> None:
        """One optimiser step: the weight changes go through ``Synapses.apply_dw_`` (mask and
        bounds respected), the bias changes are added."""
        pairs = []
        for layer, grad in zip(self.layers, grads, strict=True):
            pairs.append((layer.synapses.weight, grad.weight))
            if grad.bias is not None:
                pairs.append((layer.synapses.bias, grad.bias))
        changes = iter(optimiser.updates(pairs))
        for layer, grad in zip(self.layers, grads, strict=True):
            layer.synapses.apply_dw_(next(changes))
            if grad.bias is not None:
                layer.synapses.bias.add_(next(changes))

    def _traces(self, loss_grad: torch.Tensor) -> list[Trace]:
        if self.traces_ is None:
            raise ConfigError("backward needs a forward pass first")
        expected = tuple(self.traces_[-1].z.shape)
        if tuple(loss_grad.shape) != expected:
            raise ConfigError(
                f"loss_grad must have the output's shape {expected}, got {tuple(loss_grad.shape)}"
            )
        if not torch.isfinite(loss_grad).all():
            raise NumericalError("the output error holds NaN or infinite values")
        return self.traces_
