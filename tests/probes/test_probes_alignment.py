"""Probe ``alignment`` and the angle it reports (Lillicrap et al., 2016)."""

from types import SimpleNamespace

import pytest
import torch

from neurotwin.artificial.engine import Network, get_loss
from neurotwin.core.history import History
from neurotwin.probes import ProbeContext, get
from neurotwin.probes.alignment import SERIES, update_angle_deg


def _last_hidden_angle(network: Network) -> float:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(32, 5, generator=gen)
    y = torch.randint(0, 3, (32,), generator=gen)
    network.backward(get_loss("cross_entropy").gradient(network(x), y))
    return update_angle_deg(network.raw_update(-2), network.raw_update(-2, reference=True))


def test_update_angle_of_hand_picked_matrices():
    e1, e2 = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    assert update_angle_deg(e1, 3 * e1) == 0.0
    assert update_angle_deg(e1, e2) == pytest.approx(90.0)
    assert update_angle_deg(e1, -e1) == pytest.approx(180.0)
    assert update_angle_deg(e1, e1 + e2 / 2) == pytest.approx(45.0)
    assert update_angle_deg(e1, torch.zeros(1, 2)) is None


def test_backprop_pathway_has_zero_angle():
    network = Network.from_sizes(
        [5, 16, 8, 3], pathway="backprop", generator=torch.Generator().manual_seed(0)
    )
    assert _last_hidden_angle(network) == pytest.approx(0.0, abs=1e-4)


def test_feedback_alignment_with_b_equal_to_w_has_zero_angle_and_random_b_about_90():
    network = Network.from_sizes(
        [5, 64, 64, 3], pathway="feedback_alignment", generator=torch.Generator().manual_seed(0)
    )
    assert 60.0 < _last_hidden_angle(network) < 120.0  # random B: unrelated to W
    weights = [layer.synapses.effective_weight() for layer in network.layers[1:]]
    network.pathway.set_matrices_(weights)  # B = W is backprop
    assert _last_hidden_angle(network) == pytest.approx(0.0, abs=1e-4)


def test_probe_copies_the_learners_angle_curve():
    history = History()
    for angle in (88.0, 60.0, None):
        history.append(1.0, 0.5)
        history.record(SERIES, angle)
    out = get("alignment")(ProbeContext(SimpleNamespace(history_=history), task=None, seed=0))
    assert out == {"alignment": {"epoch": [1, 2, 3], "angle_deg": [88.0, 60.0, None]}}
    assert history.to_dict()[SERIES] == [88.0, 60.0, None]


def test_probe_gives_nothing_to_a_learner_without_the_curve(fitted):
    assert get("alignment")(ProbeContext(fitted, task=None, seed=0)) == {}
    assert get("alignment")(ProbeContext(SimpleNamespace(), task=None, seed=0)) == {}
