"""Pruning removes exactly round(f × N) of the N unmasked synapses, by magnitude, activity or at
random (reproducibly), keeps them pruned under plasticity, and the developmental schedule over-grows
then prunes to its exact counts."""

from __future__ import annotations

import pytest
import torch

from neurotwin.brain.plasticity import (
    DevelopmentalPruning,
    prune_by_activity_,
    prune_by_magnitude_,
    prune_random_,
)
from neurotwin.core import Synapses


def _tiny() -> Synapses:
    """2 × 3 weights, one synapse masked (N = 5 unmasked)."""
    syn = Synapses(3, 2, bias=False, init="zeros")
    with torch.no_grad():
        syn.weight.copy_(torch.tensor([[0.5, -0.1, 2.0], [-3.0, 0.2, 0.05]]))
        syn.mask[1, 2] = False  # the 0.05 is already gone
    return syn


def test_magnitude_pruning_removes_the_weakest_unmasked_synapses():
    syn = _tiny()
    assert prune_by_magnitude_(syn, 0.4) == 2  # round(0.4 × 5) = 2: |−0.1| and |0.2|
    assert syn.mask.tolist() == [[True, False, True], [True, False, False]]


def test_ties_are_broken_by_position():
    syn = Synapses(2, 2, bias=False, init="zeros")
    with torch.no_grad():
        syn.weight.fill_(1.0)
    prune_by_magnitude_(syn, 0.5)
    assert syn.mask.tolist() == [[False, False], [True, True]]


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25, 1 / 3, 0.5, 0.77, 0.9, 1.0])
def test_exactly_the_requested_fraction_is_left(fraction):
    gen = torch.Generator().manual_seed(1)
    syn = Synapses(17, 11, bias=False, generator=gen)
    with torch.no_grad():
        syn.mask.copy_(torch.rand(11, 17, generator=gen) < 0.8)
    for prune in (
        lambda s: prune_by_magnitude_(s, fraction),
        lambda s: prune_random_(s, fraction, gen),
        lambda s: prune_by_activity_(s, torch.rand(17, generator=gen), fraction),
    ):
        layer = Synapses(17, 11, bias=False, generator=gen)
        layer.load_state_dict(syn.state_dict())
        n = layer.n_synapses
        old = layer.mask.clone()
        prune(layer)
        assert layer.n_synapses == n - round(fraction * n)
        assert not (layer.mask & ~old).any()  # only removes


def test_activity_pruning_removes_synapses_of_the_least_active_inputs_weakest_first():
    syn = _tiny()
    activity = torch.tensor([0.9, 0.0, 0.3])  # input 1 silent, then input 2
    prune_by_activity_(syn, activity, 0.6)  # 3 of 5: both from input 1, then (0, 2)
    assert syn.mask.tolist() == [[True, False, False], [True, False, False]]
    syn = _tiny()
    prune_by_activity_(syn, torch.tensor([1.0, 1.0, 1.0]), 0.2)  # all tied: weakest |w| goes
    assert syn.mask.tolist() == [[True, False, True], [True, True, False]]


def test_random_pruning_is_reproducible_with_a_generator():
    masks = []
    for seed in (7, 7, 8):
        syn = Synapses(30, 20, bias=False, generator=torch.Generator().manual_seed(0))
        prune_random_(syn, 0.5, torch.Generator().manual_seed(seed))
        masks.append(syn.mask.clone())
    assert torch.equal(masks[0], masks[1])
    assert not torch.equal(masks[0], masks[2])


def test_pruned_synapses_stay_pruned_under_plasticity():
    syn = _tiny()
    prune_by_magnitude_(syn, 0.4)
    pruned = ~syn.mask
    before = syn.weight.detach().clone()
    syn.apply_dw_(torch.ones(2, 3))
    assert torch.equal(syn.weight[pruned], before[pruned])
    assert (syn.effective_weight()[pruned] == 0).all()
    assert torch.equal(syn.weight[~pruned], before[~pruned] + 1)


@pytest.mark.parametrize("schedule", ["decreasing", "linear"])
def test_development_overgrows_then_prunes_to_exact_counts(schedule):
    gen = torch.Generator().manual_seed(3)
    syn = Synapses(10, 10, bias=False, generator=gen)
    with torch.no_grad():
        syn.mask.copy_(torch.rand(10, 10, generator=gen) < 0.3)
    n0 = syn.n_synapses
    dev = DevelopmentalPruning(
        regrow_fraction=0.5,
        keep_fraction=0.4,
        n_steps=4,
        schedule=schedule,
        regrow_weight=(0.0, 0.1),
        generator=gen,
    )
    counts, masks = [], []
    while not dev.done:
        counts.append(dev.step_(syn))
        masks.append(syn.mask.clone())
        with torch.no_grad():  # stand-in for learning between steps
            syn.apply_dw_(0.01 * torch.randn(10, 10, generator=gen))
    peak = n0 + round(0.5 * (100 - n0))
    assert counts[0] == peak
    assert counts[-1] == peak - round(0.6 * peak)
    assert all(b <= a for a, b in zip(counts, counts[1:], strict=False))
    assert all(
        not (later & ~earlier).any() for earlier, later in zip(masks, masks[1:], strict=False)
    )
    removed_first, removed_last = counts[0] - counts[1], counts[-2] - counts[-1]
    if schedule == "decreasing":
        assert removed_first > removed_last  # most pruning early
