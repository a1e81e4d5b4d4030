"""Bad settings (non-positive time constants, negative learning rates, unknown names) are a
ConfigError and bad tensors (shape mismatches) a DataError, each with a one-line message naming
the argument."""

from __future__ import annotations

import pytest
import torch

from neurotwin.brain import plasticity as pl
from neurotwin.core import Synapses
from neurotwin.errors import ConfigError, DataError

X, Y, W = torch.ones(4, 3), torch.ones(4, 2), torch.ones(2, 3)

CONFIG_ERRORS = {
    "tau_plus_ms": lambda: pl.STDP(3, 2, pl.STDPParams(tau_plus_ms=0.0)),
    "tau_minus_ms": lambda: pl.STDP(3, 2, pl.STDPParams(tau_minus_ms=-20.0)),
    "tau_pre_ms": lambda: pl.DiehlCookSTDP(3, 2, pl.DiehlCookParams(tau_pre_ms=0.0)),
    "tau_post2_ms": lambda: pl.DiehlCookSTDP(3, 2, pl.DiehlCookParams(tau_post2_ms=-40.0)),
    "tau_theta_ms": lambda: pl.BCM(2, lr=0.1, tau_theta_ms=0.0),
    "tau_rate_ms": lambda: pl.SynapticScaling(2, target_rate_hz=5.0, tau_rate_ms=-1.0),
    "target_rate_hz": lambda: pl.SynapticScaling(2, target_rate_hz=0.0),
    "dt_ms": lambda: pl.AdaptiveThreshold(2, dt_ms=0.0),
    "lr": lambda: pl.hebbian_dw(X, Y, lr=-0.1),
    "lr ": lambda: pl.oja_dw(X, Y, W, lr=-1e-3),
    "lr  ": lambda: pl.BCM(2, lr=-0.1, tau_theta_ms=10.0),
    "a_plus": lambda: pl.STDP(3, 2, pl.STDPParams(a_plus=-0.01)),
    "nu_ee_pre": lambda: pl.DiehlCookSTDP(3, 2, pl.DiehlCookParams(nu_ee_pre=-1e-4)),
    "theta_plus_mV": lambda: pl.AdaptiveThreshold(2, theta_plus_mV=-0.05),
    "interaction": lambda: pl.STDP(3, 2, pl.STDPParams(interaction="triplet")),
    "weight_dependence": lambda: pl.STDP(3, 2, pl.STDPParams(weight_dependence="log")),
    "w_min": lambda: pl.STDP(3, 2, pl.STDPParams(w_min=1.0, w_max=1.0)),
    "multiplicative": lambda: pl.STDP(3, 2, pl.STDPParams.multiplicative()).step(X, Y),
    "fraction": lambda: pl.prune_by_magnitude_(Synapses(3, 2), 1.5),
    "keep_fraction": lambda: pl.DevelopmentalPruning(
        regrow_fraction=0.1, keep_fraction=-0.1, n_steps=3
    ),
    "n_steps": lambda: pl.DevelopmentalPruning(regrow_fraction=0.1, keep_fraction=0.5, n_steps=0),
    "criterion": lambda: pl.DevelopmentalPruning(
        regrow_fraction=0.1, keep_fraction=0.5, n_steps=2, criterion="oldest"
    ),
    "total": lambda: pl.normalise_(Synapses(3, 2), total=0.0),
}

DATA_ERRORS = {
    "post has batch": lambda: pl.hebbian_dw(X, torch.ones(5, 2), lr=0.1),
    "x has shape": lambda: pl.oja_dw(torch.ones(3), Y, W, lr=0.1),
    "weight has shape": lambda: pl.sanger_dw(X, Y, torch.ones(3, 2), lr=0.1),
    "theta has shape": lambda: pl.bcm_dw(X, Y, torch.ones(3), lr=0.1),
    "pre_spikes has shape": lambda: pl.STDP(3, 2).step(torch.ones(4, 2), Y),
    "post_spikes has batch": lambda: pl.DiehlCookSTDP(3, 2).step(X, torch.ones(1, 2), W),
    "post_spikes has shape": lambda: pl.SynapticScaling(2, target_rate_hz=5.0).step(X, W),
    "activity has shape": lambda: pl.prune_by_activity_(Synapses(3, 2), torch.ones(2), 0.5),
    "mask has shape": lambda: pl.normalisation_dw(W, torch.ones(3, 2, dtype=torch.bool), 1.0),
}


@pytest.mark.parametrize("name", list(CONFIG_ERRORS))
def test_bad_settings_are_config_errors_naming_the_argument(name):
    with pytest.raises(ConfigError) as info:
        CONFIG_ERRORS[name]()
    message = str(info.value)
    assert "\n" not in message
    assert name.strip() in message or name == "multiplicative" and "weight" in message


@pytest.mark.parametrize("name", list(DATA_ERRORS))
def test_bad_tensors_are_data_errors_naming_the_argument(name):
    with pytest.raises(DataError) as info:
        DATA_ERRORS[name]()
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(name)
