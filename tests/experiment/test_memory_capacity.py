"""The capacity sweep against the theory: Hebb's rule recalls at α = 0.05 and has collapsed at
0.25 (α_c = 0.138 as N → ∞; Amit, Gutfreund & Sompolinsky 1985); Storkey's rule stores more
(Storkey 1997); the modern network's capacity is beyond these loads (Ramsauer et al. 2020)."""

import pytest

from neurotwin.errors import ConfigError
from neurotwin.experiment.memory import capacity, completion, critical_load


def test_hebbian_recalls_at_low_load_and_collapses_at_025():
    r = capacity("hebbian", n=200, loads=[0.05, 0.25], trials=2, digits=False)
    exact = r.summary["loads"]["recall_overlap"]
    assert exact[0] >= 0.95 and exact[1] < 0.3


def test_storkey_recalls_where_hebbian_has_collapsed():
    r = capacity("storkey", n=200, loads=[0.25], trials=2, digits=False)
    assert r.summary["loads"]["recall_overlap"][0] >= 0.95


def test_modern_recalls_noisy_cues_at_loads_above_one():
    r = capacity("modern", n=100, loads=[2.0], trials=1, digits=False)
    assert r.summary["loads"]["noisy_exact"][0] == 1.0


def test_critical_load_interpolates_between_the_loads_around_one_half():
    import numpy as np

    assert critical_load(np.array([0.1, 0.2]), np.array([1.0, 0.0])) == pytest.approx(0.15)
    assert critical_load(np.array([0.1, 0.2]), np.array([1.0, 0.9])) is None


def test_digit_completion_storkey_completes_noisy_and_half_cues():
    c = completion("storkey").summary
    assert c["noisy"]["exact"] == 1.0 and c["partial"]["exact"] == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rule": "oja"},
        {"n": 1},
        {"n": 100_000},
        {"loads": [float("nan")]},
        {"loads": [-0.1]},
        {"trials": 0},
        {"seed": -1},
        {"noise": 0.9},
    ],
)
def test_bad_input_raises_config_error(kwargs):
    with pytest.raises(ConfigError):
        capacity(**kwargs)


@pytest.mark.slow
def test_critical_loads_hebbian_near_0138_and_storkey_above():
    heb = capacity("hebbian", n=500, trials=2, digits=False).summary["critical_alpha"]
    sto = capacity("storkey", n=500, trials=2, digits=False).summary["critical_alpha"]
    assert 0.12 <= heb["value"] <= 0.2
    assert sto["value"] > heb["value"]
