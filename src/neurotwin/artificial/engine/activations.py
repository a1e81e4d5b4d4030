"""Activation functions with their derivatives, written out for the explicit backprop engine.

Each activation f maps pre-activations z (batch, n) to activations a = f(z) (batch, n) and knows
its derivative. For the element-wise ones the backward pass is the chain rule

    ∂L/∂z = ∂L/∂a ⊙ f′(z)                                   (batch, n)

and for softmax, whose outputs all depend on every input, the vector–Jacobian product

    s = softmax(z);   ∂L/∂z = s ⊙ (∂L/∂a − ⟨∂L/∂a, s⟩)          (batch, n)

which is ∂L/∂a times the Jacobian J = diag(s) − s sᵀ without building J.
"""

from __future__ import annotations

import torch

from neurotwin.errors import ConfigError, pick


class Activation:
    """An activation function a = f(z) with its derivative (subclasses give the equations)."""

    name = "identity"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """a = f(z), same shape as ``z``."""
        return z

    def derivative(self, z: torch.Tensor) -> torch.Tensor:
        """f′(z) element by element, same shape as ``z``."""
        return torch.ones_like(z)

    def backward(self, z: torch.Tensor, grad_a: torch.Tensor) -> torch.Tensor:
        """∂L/∂z = ∂L/∂a ⊙ f′(z), both (batch, n)."""
        return grad_a * self.derivative(z)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Identity(Activation):
    """f(z) = z, f′(z) = 1: the linear output layer whose scores a loss takes as logits."""


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^(−z)),  σ′(z) = σ(z)(1 − σ(z))."""

    name = "sigmoid"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z)  # torch's kernel avoids e^(−z) overflowing for very negative z

    def derivative(self, z: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(z)
        return s * (1.0 - s)


class Tanh(Activation):
    """tanh(z),  tanh′(z) = 1 − tanh²(z)."""

    name = "tanh"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z)

    def derivative(self, z: torch.Tensor) -> torch.Tensor:
        return 1.0 - torch.tanh(z) ** 2


class LeakyReLU(Activation):
    """f(z) = z for z > 0, slope·z otherwise; f′(z) = 1 for z > 0, slope otherwise (Maas et al.,
    2013). The derivative at exactly z = 0 is taken as ``slope``, as torch does."""

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01) -> None:
        if not 0.0 <= slope < 1.0:
            raise ConfigError(f"leaky_relu slope must be in [0, 1), got {slope}")
        self.slope = float(slope)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.where(z > 0, z, self.slope * z)

    def derivative(self, z: torch.Tensor) -> torch.Tensor:
        return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, self.slope))

    def __repr__(self) -> str:
        return f"LeakyReLU(slope={self.slope})"


class ReLU(LeakyReLU):
    """f(z) = max(z, 0), f′(z) = 1 for z > 0, else 0 (Nair & Hinton, 2010)."""

    name = "relu"

    def __init__(self) -> None:
        super().__init__(slope=0.0)

    def __repr__(self) -> str:
        return "ReLU()"


class Softmax(Activation):
    """s_k = e^(z_k − m) / Σ_j e^(z_j − m) with m = max_j z_j (the shift changes nothing but keeps
    every exponent ≤ 0, so nothing overflows). Its derivative is a Jacobian, not element-wise."""

    name = "softmax"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        e = torch.exp(z - z.max(dim=-1, keepdim=True).values)
        return e / e.sum(dim=-1, keepdim=True)

    def derivative(self, z: torch.Tensor) -> torch.Tensor:
        """The Jacobian ∂s_i/∂z_j = s_i (1[i = j] − s_j), shape (batch, n, n)."""
        s = self.forward(z)
        return torch.diag_embed(s) - s.unsqueeze(-1) * s.unsqueeze(-2)

    def backward(self, z: torch.Tensor, grad_a: torch.Tensor) -> torch.Tensor:
        """∂L/∂z = s ⊙ (∂L/∂a − ⟨∂L/∂a, s⟩), (batch, n)."""
        s = self.forward(z)
        return s * (grad_a - (grad_a * s).sum(dim=-1, keepdim=True))


ACTIVATIONS: dict[str, type[Activation]] = {
    "identity": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softmax": Softmax,
}


def get_activation(activation: str | Activation) -> Activation:
    """The activation called ``activation`` (one of :data:`ACTIVATIONS`), or ``activation`` itself."""
    if isinstance(activation, Activation):
        return activation
    return pick(ACTIVATIONS, activation, "activation")()
