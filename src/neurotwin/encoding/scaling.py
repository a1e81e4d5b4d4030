"""Feature scaling fitted on the training part only: standardisation and min-max to [0, 1].

The fit helpers take numpy arrays ``(n, n_features)`` and return the statistics; the transforms are
pure functions of an array (numpy or torch, ``(..., n_features)``) and those statistics; the
:class:`Encoder` module holds fitted statistics as buffers, so they are saved with a model.

A feature with no spread to speak of is constant and gets a scale of 1 (it is only shifted), as
scikit-learn's scalers do (``_handle_zeros_in_scale``): its spread is rounding noise, or a number
too small for the float32 buffers and models to divide by (see :func:`no_spread`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from neurotwin.errors import ConfigError, DataError

ENCODER_KINDS = ("standard", "unit")
#: A spread below this many times a feature's magnitude is float64 rounding noise (10 eps, the
#: factor scikit-learn's ``_handle_zeros_in_scale`` uses).
NOISE_FACTOR = 10 * np.finfo(np.float64).eps
#: The smallest spread taken as one: float32's smallest normal number (1.2e-38). The buffers and
#: the models are float32, where a smaller scale is 0 or has lost its precision (a subnormal).
MIN_SCALE = float(np.finfo(np.float32).tiny)


def _as_2d(X: Any) -> np.ndarray:
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise DataError(f"fit needs a non-empty (n, n_features) array, got shape {X.shape}")
    return X


def _like(value: Any, X: Any) -> Any:
    """``value`` as a tensor with ``X``'s dtype and device when ``X`` is a tensor."""
    if isinstance(X, torch.Tensor):
        dtype = X.dtype if X.is_floating_point() else torch.get_default_dtype()
        return torch.as_tensor(value, dtype=dtype, device=X.device)
    return np.asarray(value, dtype=np.float64)


def no_spread(spread: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    """True where a feature whose values are about ``magnitude`` and spread by ``spread`` (a std
    or a range) is constant: ``spread < max(10 eps |magnitude|, MIN_SCALE)`` (see
    :data:`NOISE_FACTOR`, :data:`MIN_SCALE`)."""
    return spread < np.maximum(NOISE_FACTOR * np.abs(magnitude), MIN_SCALE)


def fit_standard(X: Any) -> dict[str, np.ndarray]:
    """Per-feature ``mean`` and ``scale`` (population std, ddof=0; 1 for a constant feature, see
    :func:`no_spread`) of ``X`` ``(n, n_features)``; both ``(n_features,)`` float64."""
    X = _as_2d(X)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    return {"mean": mean, "scale": np.where(no_spread(scale, mean), 1.0, scale)}


def standard(X: Any, mean: Any, scale: Any) -> Any:
    """``(X - mean) / scale`` per feature; ``X`` ``(..., n_features)``, numpy or torch."""
    return (X - _like(mean, X)) / _like(scale, X)


def fit_unit(X: Any) -> dict[str, np.ndarray]:
    """Per-feature ``low = min`` and ``high = max`` of ``X`` ``(n, n_features)``; for a constant
    feature (``high - low`` no spread, see :func:`no_spread`) the range is taken as 1
    (``high = low + 1``; beyond 2**53, where ``low + 1 == low``, the next float above ``low``)."""
    X = _as_2d(X)
    low, high = X.min(axis=0), X.max(axis=0)
    constant = no_spread(high - low, np.maximum(np.abs(low), np.abs(high)))
    return {
        "low": low,
        "high": np.where(constant, low + np.maximum(1.0, np.spacing(np.abs(low))), high),
    }


def unit(X: Any, low: Any, high: Any) -> Any:
    """``clip((X - low) / (high - low), 0, 1)`` per feature; ``X`` ``(..., n_features)``, numpy
    or torch. Values outside the fitted range (test data) are clipped to the bounds."""
    low_, high_ = _like(low, X), _like(high, X)
    scaled = (X - low_) / (high_ - low_)
    if isinstance(scaled, torch.Tensor):
        return scaled.clamp(0.0, 1.0)
    return np.clip(scaled, 0.0, 1.0)


class Encoder(torch.nn.Module):
    """A fitted feature scaling as a module: ``forward(x) = (x - offset) / scale``, clipped to
    ``[0, 1]`` for ``kind="unit"`` (per feature, or one range for all pixels of an image).

    ``standard``: ``offset = mean``, ``scale = std`` (see :func:`fit_standard`). ``unit``:
    ``offset = min``, ``scale = max - min`` (see :func:`fit_unit`). Buffers ``offset``, ``scale``
    ``(n_features,)`` and ``n_fit`` (samples seen by :meth:`fit`, 0 before) travel with the
    state dict. ``x`` is ``(..., n_features)``.
    """

    def __init__(self, kind: str, n_features: int) -> None:
        super().__init__()
        if kind not in ENCODER_KINDS:
            raise ConfigError(f"encoder kind {kind!r} is not one of {', '.join(ENCODER_KINDS)}")
        self.kind = kind
        self.n_features = int(n_features)
        self.register_buffer("offset", torch.zeros(self.n_features))
        self.register_buffer("scale", torch.ones(self.n_features))
        self.register_buffer("n_fit", torch.zeros((), dtype=torch.int64))

    def fit(self, X: Any, *, image: bool = False) -> Encoder:
        """Set the statistics from the training features ``X`` ``(n, n_features)``; returns self.

        ``image``: the features are the pixels of an image. A ``unit`` encoder then maps the one
        global range of the pixels to [0, 1] (``(x - min) / (max - min)`` over all pixels: ``x /
        16`` on digits, ``x / 255`` on MNIST, as Krotov & Hopfield divide by 255), because a
        per-pixel range would stretch a rarely-inked border pixel up to 16× on digits. A
        ``standard`` encoder standardises each feature either way.
        """
        X = _as_2d(X)
        if X.shape[1] != self.n_features:
            raise DataError(
                f"encoder built for {self.n_features} features was fitted on {X.shape[1]}"
            )
        if self.kind == "standard":
            stats = fit_standard(X)
            offset, scale = stats["mean"], stats["scale"]
        else:
            stats = fit_unit(X.reshape(-1, 1) if image else X)
            offset, scale = stats["low"], stats["high"] - stats["low"]
            offset, scale = (np.array(np.broadcast_to(a, X.shape[1])) for a in (offset, scale))
        with torch.no_grad():
            self.offset.copy_(torch.as_tensor(offset))
            self.scale.copy_(torch.as_tensor(scale))
            self.n_fit.fill_(X.shape[0])
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if int(self.n_fit) == 0:
            raise RuntimeError("Encoder.forward called before fit(X_train)")
        offset, scale = self.offset.to(x.dtype), self.scale.to(x.dtype)
        out = (x - offset) / scale
        return out.clamp(0.0, 1.0) if self.kind == "unit" else out

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, n_features={self.n_features}"
