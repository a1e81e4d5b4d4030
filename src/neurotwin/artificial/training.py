"""Supervised training by gradient descent with early stopping on a validation slice.

One loop serves every backprop-trained network and readout: minibatch Adam (Kingma & Ba, 2015) on
cross-entropy (classification) or mean squared error (regression, on a standardised target), one
validation evaluation per epoch, and early stopping that keeps the parameters of the best validation
epoch (Prechelt, 1998). The model is not refit on the validation slice afterwards.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from neurotwin.learners.base import History, Progress


def r2_score_t(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """Coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²."""
    y_true, y_pred = y_true.detach(), y_pred.detach()
    ss_res = torch.sum((y_true - y_pred) ** 2)
    ss_tot = torch.sum((y_true - y_true.mean()) ** 2).clamp_min(1e-12)
    return float(1.0 - ss_res / ss_tot)


def loss_and_metric(out: torch.Tensor, y: torch.Tensor, kind: str) -> tuple[torch.Tensor, float]:
    """Training loss and headline metric (accuracy or R²) of outputs ``out`` against ``y``."""
    if kind == "classification":
        return F.cross_entropy(out, y), float((out.argmax(1) == y).float().mean())
    pred = out[:, 0]
    return F.mse_loss(pred, y), r2_score_t(y, pred)


def train_supervised(
    forward: Callable[[torch.Tensor, bool], torch.Tensor],
    module: nn.Module,
    params: Iterable[nn.Parameter],
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    *,
    kind: str,
    lr: float,
    weight_decay: float,
    batch_size: int,
    max_epochs: int,
    patience: int,
    generator: torch.Generator,
    history: History,
    progress: Progress | None = None,
    stage: str = "train",
) -> History:
    """Train ``params`` of ``module`` by minibatch Adam; restore the best validation epoch.

    Args:
        forward: ``forward(x, train) -> outputs`` on already-encoded inputs (the training space:
            class scores, or the standardised regression target in column 0).
        module: the module whose ``state_dict`` is kept from the best epoch.
        data: ``(X_fit, y_fit, X_val, y_val)`` tensors on the model's device; ``y`` are class
            indices (long) or standardised targets (float).
        weight_decay: L2 penalty coefficient (added to the gradient, Adam's ``weight_decay``).
        patience: stop after this many epochs without a better validation loss.
    """
    X_fit, y_fit, X_val, y_val = data
    params = list(params)
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    n = X_fit.shape[0]
    best_key, best_state, since_best = None, None, 0
    for epoch in range(1, max_epochs + 1):
        module.train()
        perm = torch.randperm(n, generator=generator).to(X_fit.device)
        total, seen = 0.0, 0
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            loss, _ = loss_and_metric(forward(X_fit[idx], True), y_fit[idx], kind)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        module.eval()
        with torch.no_grad():
            val_loss, val_metric = loss_and_metric(forward(X_val, False), y_val, kind)
        history.append(total / seen, val_metric)
        key = -float(val_loss)
        if best_key is None or key > best_key:
            best_key, best_state, since_best = key, copy.deepcopy(module.state_dict()), 0
        else:
            since_best += 1
        if progress is not None:
            progress(epoch, max_epochs, {"stage": stage, f"val_{history.metric}": val_metric})
        if since_best >= patience:
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    return history
