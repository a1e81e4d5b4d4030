"""Weight normalisation: each neuron's unmasked incoming weights sum to the target, masked
synapses are neither counted nor changed, and relative weights are kept."""

from __future__ import annotations

import pytest
import torch

from neurotwin.brain.plasticity import DIEHL_COOK_TOTAL, normalise_
from neurotwin.core import Synapses


def test_unmasked_weights_of_every_neuron_sum_to_the_target():
    gen = torch.Generator().manual_seed(0)
    syn = Synapses(784, 5, bias=False, init="zeros").double()
    with torch.no_grad():
        syn.weight.uniform_(0.0, 0.3, generator=gen)
        syn.mask.copy_(torch.rand(5, 784, generator=gen) < 0.7)
    before = syn.weight.detach().clone()
    normalise_(syn, DIEHL_COOK_TOTAL)
    sums = syn.effective_weight().sum(1)
    assert sums.tolist() == pytest.approx([78.0] * 5, rel=1e-12)
    masked = ~syn.mask
    assert torch.equal(syn.weight[masked], before[masked])  # masked synapses untouched
    ratio = syn.weight[0, syn.mask[0]] / before[0, syn.mask[0]]
    assert torch.allclose(ratio, ratio[0].expand_as(ratio))  # one factor per neuron


def test_a_hand_checked_row_and_a_silent_row():
    syn = Synapses(3, 2, bias=False, init="zeros").double()
    with torch.no_grad():
        syn.weight.copy_(torch.tensor([[1.0, 3.0, 5.0], [0.0, 0.0, 7.0]]))
        syn.mask[0, 2] = False
        syn.mask[1, 2] = False  # row 1's unmasked weights sum to 0: nothing to scale
    normalise_(syn, 2.0)
    assert syn.weight.tolist() == [[0.5, 1.5, 5.0], [0.0, 0.0, 7.0]]
