"""Gradient checking: central finite differences and the relative error between two gradients.

For a scalar function L(θ) and each entry θ_i,

    ∂L/∂θ_i ≈ (L(θ + h e_i) − L(θ − h e_i)) / 2h          error O(h²) (plus rounding ≈ ε_mach / h)

so in float64 with h = 1e-6 a correct hand-written gradient agrees to about 1e-8 relative error.
The relative error of a gradient g against a reference r is ‖g − r‖ / max(‖g‖, ‖r‖) (Frobenius
norms), 0 when both are zero.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


@torch.no_grad()
def numerical_gradient(
    fn: Callable[[], torch.Tensor | float], param: torch.Tensor, h: float = 1e-6
) -> torch.Tensor:
    """∂fn/∂param by central differences, same shape as ``param``.

    ``fn()`` is evaluated with ``param`` changed in place one entry at a time (and restored), so it
    must read ``param`` itself (e.g. a network's weight). Use float64.
    """
    grad = torch.zeros_like(param)
    flat, out = param.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        up = float(fn())
        flat[i] = old - h
        down = float(fn())
        flat[i] = old
        out[i] = (up - down) / (2.0 * h)
    return grad


def relative_error(grad: torch.Tensor, reference: torch.Tensor) -> float:
    """‖grad − reference‖ / max(‖grad‖, ‖reference‖), 0.0 when both are zero."""
    scale = max(float(grad.norm()), float(reference.norm()))
    return 0.0 if scale == 0.0 else float((grad - reference).norm()) / scale
