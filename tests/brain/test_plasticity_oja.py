"""Oja's rule finds the first principal component, and Sanger's rule the first k, of generated
Gaussian data, checked against numpy's eigendecomposition of the sample covariance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neurotwin.brain.plasticity import oja_dw, sanger_dw
from neurotwin.core import Synapses

pytestmark = pytest.mark.usefixtures("one_thread")


def _gaussian(dim: int, variances: list[float], seed: int):
    """Zero-mean samples (4000, dim) with the given variances along random orthogonal axes, and the
    sample covariance's eigenvectors as columns, largest eigenvalue first."""
    rng = np.random.default_rng(seed)
    axes, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    X = rng.multivariate_normal(np.zeros(dim), axes @ np.diag(variances) @ axes.T, size=4000)
    X -= X.mean(0)
    _, vectors = np.linalg.eigh(np.cov(X.T))
    return torch.tensor(X), vectors[:, ::-1]


def _train(rule, X: torch.Tensor, k: int, seed: int) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    syn = Synapses(X.shape[1], k, bias=False, init="normal", generator=gen).double()
    with torch.no_grad():
        syn.weight.mul_(0.1)
    n_epochs, batch = 3, 20
    for epoch in range(n_epochs):
        lr = 0.002 + 0.02 * (1 - epoch / n_epochs)
        perm = torch.randperm(X.shape[0], generator=gen)
        for start in range(0, X.shape[0], batch):
            x = X[perm[start : start + batch]]
            syn.apply_dw_(rule(x, syn(x), syn.weight, lr=lr).detach())
    return syn.weight.detach().numpy()


def _abs_cosines(W: np.ndarray, vectors: np.ndarray) -> list[float]:
    return [abs(W[i] @ vectors[:, i]) / np.linalg.norm(W[i]) for i in range(W.shape[0])]


@pytest.mark.parametrize(("dim", "variances"), [(2, [3.0, 1.0]), (5, [5.0, 3.0, 2.0, 1.0, 0.5])])
def test_oja_converges_to_the_first_principal_component(dim, variances):
    X, vectors = _gaussian(dim, variances, seed=dim)
    W = _train(oja_dw, X, k=1, seed=0)
    assert _abs_cosines(W, vectors)[0] >= 0.99
    assert np.linalg.norm(W[0]) == pytest.approx(1.0, abs=0.01)  # Oja's decay normalises w


def test_sanger_converges_to_the_first_three_principal_components_in_order():
    X, vectors = _gaussian(5, [5.0, 3.0, 2.0, 1.0, 0.5], seed=1)
    W = _train(sanger_dw, X, k=3, seed=1)
    assert min(_abs_cosines(W, vectors)) >= 0.99
    assert np.abs(W @ W.T - np.eye(3)).max() < 0.05  # nearly orthonormal rows
