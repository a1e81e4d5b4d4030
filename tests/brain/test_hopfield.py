"""Hopfield networks against facts from the papers: fixed points, the energy descent, one-step
retrieval and metastable averages of the modern network."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from neurotwin.brain.memory import (
    Hopfield,
    ModernHopfield,
    async_sweep,
    dense_associative_step,
    hebbian_weights,
    hopfield_energy,
    overlap,
    storkey_weights,
    update_unit,
)


def random_patterns(p, n, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, (p, n), generator=g).float() * 2 - 1


def test_hebbian_weights_are_symmetric_with_zero_diagonal_and_match_the_sum():
    xi = random_patterns(5, 30, 0)
    w = hebbian_weights(xi)
    expected = sum(torch.outer(x, x) for x in xi) / 30
    expected.fill_diagonal_(0)
    assert torch.allclose(w, expected) and torch.equal(w, w.T)


def test_storkey_weights_are_symmetric_with_zero_diagonal():
    w = storkey_weights(random_patterns(10, 40, 1))
    assert torch.allclose(w, w.T, atol=1e-6) and not w.diagonal().any()


def test_stored_patterns_are_fixed_points_at_low_load():
    xi = random_patterns(5, 200, 2)  # alpha = 0.025
    for rule in ("hebbian", "storkey"):
        net = Hopfield(200, rule).store(xi)
        out = net.recall(xi, generator=torch.Generator().manual_seed(0))
        assert torch.equal(out.states, xi) and out.converged.all() and not out.steps.any()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000), p=st.integers(1, 30), rule=st.sampled_from(["hebbian", "storkey"])
)
def test_energy_never_increases_under_asynchronous_updates(seed, p, rule):
    n = 40
    w = Hopfield(n, rule).store(random_patterns(p, n, seed)).weight
    s = random_patterns(6, n, seed + 1)
    e = hopfield_energy(s, w)
    for i in torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist():
        s = update_unit(s, w, i)
        e_new = hopfield_energy(s, w)
        assert (e_new <= e + 1e-5).all()
        e = e_new


def test_async_sweep_equals_unit_by_unit_updates():
    w = hebbian_weights(random_patterns(8, 50, 3))
    s0 = random_patterns(4, 50, 4)
    order = torch.randperm(50, generator=torch.Generator().manual_seed(1))
    s = s0
    for i in order.tolist():
        s = update_unit(s, w, i)
    swept, changed = async_sweep(s0, w, order)
    assert torch.equal(swept, s) and torch.equal(changed, (s != s0).any(-1))


def test_recall_cleans_up_noisy_cues_and_energy_descends():
    xi = random_patterns(10, 200, 5)
    noisy = xi * torch.where(
        torch.rand(xi.shape, generator=torch.Generator().manual_seed(2)) < 0.1, -1.0, 1.0
    )
    out = Hopfield(200).store(xi).recall(noisy, generator=torch.Generator().manual_seed(0))
    assert (overlap(out.states, xi) == 1).all()
    assert (out.energy[1:] <= out.energy[:-1] + 1e-5).all()


def test_a_lesion_through_the_mask_changes_the_weights_used():
    net = Hopfield(20).store(random_patterns(2, 20, 6))
    net.synapses.mask[:, :10] = False
    assert not net.weight[:, :10].any()


def test_modern_hopfield_retrieves_one_pattern_in_one_step_at_large_beta():
    xi = random_patterns(20, 100, 7)
    noisy = xi.clone()
    noisy[:, :20] *= -1  # 20 % of the bits flipped: overlap 0.6 with its own pattern
    out = ModernHopfield(100, beta=1.0).store(xi).recall(noisy, steps=1)
    assert torch.allclose(out.states, xi, atol=1e-4)
    assert torch.allclose(out.weights.max(-1).values, torch.ones(20), atol=1e-4)
    assert (out.energy[1] <= out.energy[0]).all()


def test_modern_hopfield_averages_the_patterns_at_small_beta():
    xi = random_patterns(20, 100, 8)
    out = ModernHopfield(100, beta=1e-4).store(xi).recall(xi[:3], steps=1)
    mean = xi.mean(0)
    assert torch.allclose(out.states, mean.expand(3, -1), atol=0.01)  # a metastable mixture
    assert (out.weights < 0.06).all()


def test_dense_associative_memory_stores_past_the_hebbian_limit():
    n, p = 100, 30  # alpha = 0.3, well past 0.138
    xi = random_patterns(p, n, 9)
    hebb = Hopfield(n).store(xi).recall(xi, mode="sync", max_steps=10)
    assert (overlap(hebb.states, xi) < 1).any()
    s = xi.clone()
    for _ in range(5):
        s = dense_associative_step(s, xi, interaction="polynomial", n=3)
    assert torch.equal(s, xi)
    assert torch.equal(dense_associative_step(xi, xi, interaction="exponential"), xi)
