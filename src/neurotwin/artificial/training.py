"""Supervised training by gradient descent, with early stopping on a validation slice.

One loop serves every backprop-trained network and readout, for ``fit`` and ``partial_fit`` alike
(scikit-learn's ``_fit(incremental=…)`` habit): minibatch steps of the caller's optimiser (Adam,
Kingma & Ba 2015, in every learner today) on cross-entropy for class targets or mean squared error
for real-valued targets (standardised by the caller), one evaluation per epoch, and early stopping
that keeps the parameters of the best validation epoch (Prechelt, 1998). The model is not refit on
the validation slice afterwards. Without a validation slice (``partial_fit``) the loop runs its
epochs and records the metric on the training batch itself.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from neurotwin import kinds
from neurotwin.core.history import History, Progress


def loss_and_metric(
    out: torch.Tensor, y: torch.Tensor, kind: kinds.TaskKind
) -> tuple[torch.Tensor, float]:
    """``(loss, metric)`` of outputs ``out`` (batch, n_outputs) against targets ``y``.

    Class targets: cross-entropy of the class scores and accuracy of their argmax. Real-valued
    targets: mean squared error of column 0 and R² (:func:`neurotwin.kinds.r2_score`).
    """
    if kind.target == "class":
        return F.cross_entropy(out, y), float((out.argmax(1) == y).float().mean())
    pred = out[:, 0]
    return F.mse_loss(pred, y), kinds.r2_score(y.detach(), pred.detach())


def train_supervised(
    forward: Callable[[torch.Tensor, bool], torch.Tensor],
    module: nn.Module,
    optimiser: torch.optim.Optimizer | None,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None],
    *,
    kind: kinds.TaskKind,
    batch_size: int,
    max_epochs: int,
    patience: int | None,
    generator: torch.Generator,
    history: History,
    progress: Progress | None = None,
    step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    before_epoch: Callable[[History], None] | None = None,
) -> History:
    """Train by minibatch steps of ``optimiser``; restore the best validation epoch.

    Args:
        forward: ``forward(x, train) -> outputs`` on already-encoded inputs (the training space:
            class scores, or the standardised regression target in column 0).
        module: the module whose ``state_dict`` is kept from the best epoch.
        optimiser: holds the parameters to train (and its state, which carries over between calls).
        data: ``(X_fit, y_fit, X_val, y_val)`` tensors on the model's device; ``y`` are class
            indices (long) or standardised targets (float). ``X_val`` None: no validation, no early
            stopping, and the history's metric is measured on ``X_fit`` after each epoch.
        patience: stop after this many epochs without a lower validation loss (None: never).
        generator: draws the order of the minibatches.
        history: filled and returned; its ``stage`` labels the progress callback.
        step: ``step(x, y) -> loss`` makes one optimisation step on a minibatch itself, for a
            model trained without autograd (the explicit engine); ``optimiser`` is then unused.
        before_epoch: called with the history at the start of each epoch, before its first step
            (to record an extra per-epoch series of the weights the epoch starts from).
    """
    X_fit, y_fit, X_val, y_val = data
    if X_val is None:
        X_val, y_val, patience = X_fit, y_fit, None
    n = X_fit.shape[0]
    best_loss, best_state, since_best = None, None, 0
    for epoch in range(1, max_epochs + 1):
        if before_epoch is not None:
            before_epoch(history)
        module.train()
        perm = torch.randperm(n, generator=generator).to(X_fit.device)
        total, seen = 0.0, 0
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            if step is None:
                loss, _ = loss_and_metric(forward(X_fit[idx], True), y_fit[idx], kind)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
            else:
                loss = step(X_fit[idx], y_fit[idx])
            total += loss.item() * len(idx)
            seen += len(idx)
        module.eval()
        with torch.no_grad():
            val_loss, val_metric = loss_and_metric(forward(X_val, False), y_val, kind)
        history.append(total / seen, val_metric)
        if progress is not None:
            progress(
                epoch, max_epochs, {"stage": history.stage, f"val_{history.metric}": val_metric}
            )
        if patience is None:
            continue
        if best_loss is None or float(val_loss) < best_loss:
            best_loss, best_state, since_best = (
                float(val_loss),
                copy.deepcopy(module.state_dict()),
                0,
            )
        else:
            since_best += 1
            if since_best >= patience:
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    return history
