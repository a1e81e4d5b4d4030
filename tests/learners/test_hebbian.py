"""The Krotov-Hopfield rule (PNAS 2019) and the hebbian learner built on it."""

import numpy as np
import pytest
import torch

import neurotwin as nt
from neurotwin.brain.krotov_hopfield import krotov_hopfield_dw, p_norms
from neurotwin.errors import ConfigError
from neurotwin.learners.registry import get


def _paper_dw(weight: np.ndarray, v: np.ndarray, p: float, k: int, delta: float) -> np.ndarray:
    """Σ over samples of g(Q_μ) (v_i − ⟨W_μ, v⟩_p W_μi), one sample and one unit at a time, with
    ⟨W_μ, v⟩_p = Σ_i sign(W_μi) |W_μi|^(p−1) v_i, g = 1 for the most driven unit, −Δ for the k-th."""
    dw = np.zeros_like(weight)
    for sample in v:
        drive = [
            sum(
                np.sign(w_i) * abs(w_i) ** (p - 1) * v_i
                for w_i, v_i in zip(row, sample, strict=True)
            )
            for row in weight
        ]
        order = sorted(range(len(drive)), key=lambda mu: -drive[mu])
        for mu, g in ((order[0], 1.0), (order[k - 1], -delta)):
            for i in range(weight.shape[1]):
                dw[mu, i] += g * (sample[i] - drive[mu] * weight[mu, i])
    return dw


@pytest.mark.parametrize(("p", "k", "delta"), [(3.0, 2, 0.4), (4.5, 3, 0.2), (2.0, 2, 0.0)])
def test_rule_matches_a_per_sample_loop_of_the_paper_formula(p, k, delta):
    rng = np.random.default_rng(0)
    weight, v = rng.normal(size=(6, 5)), rng.uniform(0.0, 1.0, size=(7, 5))
    got = krotov_hopfield_dw(torch.from_numpy(weight), torch.from_numpy(v), p=p, k=k, delta=delta)
    np.testing.assert_allclose(got.numpy(), _paper_dw(weight, v, p, k, delta), rtol=1e-10)


def test_repeated_input_drives_the_winner_to_the_input_over_its_p_norm():
    # fixed point of dW = v − ⟨W, v⟩_p W with v ≥ 0: W = c v and c^p Σ v^p = 1, i.e. W = v / ||v||_p
    p = 3.0
    rng = np.random.default_rng(1)
    v = torch.from_numpy(rng.uniform(0.1, 1.0, size=8))
    w = torch.from_numpy(np.stack([rng.uniform(0.0, 0.5, size=8), rng.uniform(0.0, 1e-3, size=8)]))
    loser = w[1].clone()
    for _ in range(3000):
        w += 0.05 * krotov_hopfield_dw(w, v[None], p=p, k=2, delta=0.0)
    expected = v / (v**p).sum() ** (1.0 / p)
    assert float(p_norms(w, p)[0]) == pytest.approx(1.0, abs=1e-9)
    torch.testing.assert_close(w[0], expected, rtol=1e-8, atol=1e-10)
    assert torch.equal(w[1], loser)  # Δ = 0: the second unit is never updated


def test_anti_hebbian_pushes_the_kth_unit_away_from_the_input():
    v = torch.tensor([[1.0, 0.5, 0.0]], dtype=torch.float64)
    w = torch.tensor([[1.0, 0.5, 0.0], [0.1, 0.1, 0.0], [0.0, 0.0, 0.01]], dtype=torch.float64)
    dw = krotov_hopfield_dw(w, v, p=2.0, k=2, delta=0.4)
    # unit 1 is second: drive I = 0.15, dW = −0.4 (v − 0.15 W_1)
    expected = -0.4 * (v[0] - 0.15 * w[1])
    torch.testing.assert_close(dw[1], expected)
    assert float(dw[1] @ v[0]) < 0
    assert not dw[2].any()  # ranked third: g = 0


def test_p_norms_sum_absolute_powers_of_each_row():
    w = torch.tensor([[1.0, -2.0], [0.5, 0.5]])
    torch.testing.assert_close(p_norms(w, 3.0), torch.tensor([9.0, 0.25]))


@pytest.fixture(scope="module")
def iris():
    return nt.tasks.load("iris", seed=0)


def test_random_first_layer_control_has_unit_p_norm_rows_and_rule_none(iris):
    learner = get("hebbian")(variant="random_first_layer", quick=True)
    learner.fit(iris, seed=0)
    w = learner.synapses()[0].weight.detach().double()
    np.testing.assert_allclose((w.abs() ** 3).sum(1).numpy(), 1.0, rtol=1e-5)
    assert learner.row_rule == "none"
    assert learner.converged_fraction() == 1.0
    assert learner.extra_metrics()["hebbian_epochs"] == 0.0


def test_hebbian_variant_learns_by_the_krotov_hopfield_rule(iris):
    learner = get("hebbian")(quick=True)
    learner.fit(iris, seed=0, epochs=3)
    assert learner.row_rule == "krotov_hopfield"
    assert learner.extra_metrics()["hebbian_epochs"] == 3.0


def test_first_layer_never_sees_the_labels(iris):
    a, b = get("hebbian")(quick=True), get("hebbian")(quick=True)
    a.partial_fit(iris.X_train, iris.y_train, classes=3)
    b.partial_fit(iris.X_train, (iris.y_train + 1) % 3, classes=3)
    assert torch.equal(a.synapses()[0].weight, b.synapses()[0].weight)
    assert not torch.equal(a.synapses()[1].weight, b.synapses()[1].weight)


def test_auto_epochs_spend_the_sample_budget_up_to_1000():
    learner = get("hebbian")()
    assert learner.default_epochs(1212) == 1000  # ceil(1,250,000 / 1212) = 1032, capped
    assert learner.default_epochs(10_000) == 125
    assert learner.default_epochs(60_000) == 21  # ceil(20.83)
    assert get("hebbian")(epochs=7).default_epochs(1212) == 7


@pytest.mark.parametrize("bad", [{"p": 1.5}, {"k": 1}, {"n_hidden": 1, "k": 2}])
def test_impossible_rule_parameters_raise_config_error(bad):
    with pytest.raises(ConfigError, match="p >= 2, k >= 2"):
        get("hebbian")(**bad)


def test_partial_fit_on_unfitted_hebbian_needs_classes(iris):
    with pytest.raises(ConfigError, match="classes"):
        get("hebbian")().partial_fit(iris.X_train, iris.y_train)


@pytest.mark.slow
def test_most_units_reach_unit_p_norm_on_digits_with_the_default_config():
    task = nt.tasks.load("digits", seed=0)
    learner = get("hebbian")()
    learner.fit(task, seed=0)
    norms = (learner.synapses()[0].weight.detach().double().abs() ** 3).sum(1)
    assert float(((norms - 1.0).abs() < 0.05).double().mean()) >= 0.70
