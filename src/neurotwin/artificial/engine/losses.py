"""Losses with their gradients, written out for the explicit backprop engine.

A loss compares the network's outputs ŷ (batch, k) with targets y. Its value is the batch mean

    L = (1/N) Σ_n ℓ_n

and :meth:`Loss.gradient` returns the **per-sample error** e_n = ∂ℓ_n/∂ŷ_n, shape (batch, k), so
∂L/∂ŷ = e / N; the dense layers divide by N once, when they form ∂L/∂W (see ``layers.py``). The values
are the ones ``torch.nn.functional`` gives (``mse_loss``, ``binary_cross_entropy_with_logits``,
``cross_entropy``, mean reduction), so the engine and the autograd MLP report the same numbers.

The cross-entropies take **logits** (the output layer is linear) and are computed stably:

- binary: ℓ = (1/k) Σ_j [max(z_j, 0) − z_j y_j + log(1 + e^(−|z_j|))], the form of −y log σ(z) −
  (1 − y) log(1 − σ(z)) that never takes e of a positive number; e = (σ(z) − y) / k.
- categorical: ℓ = LSE(z) − Σ_j y_j z_j with LSE(z) = m + log Σ_j e^(z_j − m), m = max_j z_j;
  the softmax and the cross-entropy together give e = softmax(z) − y, with y one-hot (or any
  distribution over the classes).
"""

from __future__ import annotations

import torch

from neurotwin.artificial.engine.activations import Softmax
from neurotwin.errors import DataError, NumericalError, pick


def log_sum_exp(z: torch.Tensor) -> torch.Tensor:
    """LSE(z) = m + log Σ_j e^(z_j − m) over the last axis, m = max_j z_j: (batch, k) → (batch,)."""
    m = z.max(dim=-1, keepdim=True).values
    return (m + torch.log(torch.exp(z - m).sum(dim=-1, keepdim=True))).squeeze(-1)


class Loss:
    """A loss: ``value`` (the batch mean L), ``gradient`` (the per-sample error ∂ℓ_n/∂ŷ_n) and
    ``predict`` (the outputs as the model's prediction: values or class probabilities)."""

    name = ""

    def value(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """L = (1/N) Σ_n ℓ_n, a scalar tensor."""
        output, target = self._checked(output, target)
        return self._per_sample(output, target).mean()

    def gradient(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """e_n = ∂ℓ_n/∂ŷ_n, shape (batch, k); ∂L/∂ŷ is this divided by the batch size N."""
        output, target = self._checked(output, target)
        return self._error(output, target)

    def predict(self, output: torch.Tensor) -> torch.Tensor:
        """The outputs as the model's prediction (the link function), (batch, k)."""
        return output

    def _per_sample(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _error(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _checked(
        self, output: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(output, target)`` with the target as a float (batch, k) tensor, or a clear error."""
        if output.ndim != 2:
            raise DataError(f"{self.name}: output must be (batch, k), got {tuple(output.shape)}")
        if not torch.isfinite(output).all():
            raise NumericalError(f"{self.name}: the output holds NaN or infinite values")
        target = torch.as_tensor(target, device=output.device)
        if target.ndim == 1 and output.shape[1] == 1 and target.is_floating_point():
            target = target[:, None]
        if target.is_floating_point() and not torch.isfinite(target).all():
            raise DataError(f"{self.name}: the target holds NaN or infinite values")
        target = self._target(output, target)
        if target.shape != output.shape:
            raise DataError(
                f"{self.name}: target has shape {tuple(target.shape)}, "
                f"expected {tuple(output.shape)} like the output"
            )
        return output, target.to(output.dtype)

    def _target(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return target

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MeanSquaredError(Loss):
    """ℓ_n = (1/k) Σ_j (ŷ_nj − y_nj)²,  e_n = 2 (ŷ_n − y_n) / k  (torch's ``mse_loss``)."""

    name = "mse"

    def _per_sample(self, output, target):
        return ((output - target) ** 2).mean(dim=1)

    def _error(self, output, target):
        return 2.0 * (output - target) / output.shape[1]


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy from logits z (see the module docstring): k independent yes/no outputs
    with targets in [0, 1]; ``predict`` gives σ(z)."""

    name = "binary_cross_entropy"

    def _target(self, output, target):
        if not target.is_floating_point():
            target = target.to(output.dtype)
        if ((target < 0) | (target > 1)).any():
            raise DataError(f"{self.name}: targets must lie in [0, 1]")
        return target

    def _per_sample(self, output, target):
        z = output
        return (z.clamp(min=0) - z * target + torch.log1p(torch.exp(-z.abs()))).mean(dim=1)

    def _error(self, output, target):
        return (torch.sigmoid(output) - target) / output.shape[1]

    def predict(self, output):
        return torch.sigmoid(output)


class CrossEntropy(Loss):
    """Categorical cross-entropy from logits z (see the module docstring). Targets are class
    indices (batch,) in [0, k) or class distributions (batch, k); ``predict`` gives softmax(z)."""

    name = "cross_entropy"

    def _target(self, output, target):
        k = output.shape[1]
        if not target.is_floating_point():
            if target.ndim != 1:
                raise DataError(
                    f"{self.name}: class-index targets must be (batch,), got {tuple(target.shape)}"
                )
            if ((target < 0) | (target >= k)).any():
                raise DataError(f"{self.name}: class indices must lie in [0, {k})")
            return torch.nn.functional.one_hot(target.long(), k)
        if target.ndim == 2 and (
            (target < 0).any() or not torch.allclose(target.sum(1), torch.ones_like(target[:, 0]))
        ):
            raise DataError(f"{self.name}: each target row must be a distribution (≥ 0, sum 1)")
        return target

    def _per_sample(self, output, target):
        return log_sum_exp(output) - (target * output).sum(dim=1)

    def _error(self, output, target):
        return Softmax().forward(output) - target

    def predict(self, output):
        return Softmax().forward(output)


LOSSES: dict[str, type[Loss]] = {
    "mse": MeanSquaredError,
    "binary_cross_entropy": BinaryCrossEntropy,
    "cross_entropy": CrossEntropy,
}


def get_loss(loss: str | Loss) -> Loss:
    """The loss called ``loss`` (one of :data:`LOSSES`), or ``loss`` itself."""
    if isinstance(loss, Loss):
        return loss
    return pick(LOSSES, loss, "loss")()
