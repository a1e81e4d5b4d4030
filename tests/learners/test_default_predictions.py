"""The default run's predictions changed only through the two allowed fixes.

``tests/data/digits_default_predictions_30231ab.json`` holds the draw-0 test predictions of
``neurotwin compare`` (digits, seeds 0-2) computed at commit 30231ab, before the restructuring.
The mlp must predict exactly the same; the Hebbian learner and its control must predict exactly the
same once the two fixes are undone (per-pixel unit scaling, and a feature scale of 1e-6 for units
silent on the fitting slice); each fix on its own changes predictions only where it should.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import neurotwin as nt
from neurotwin.brain import krotov_hopfield as kh
from neurotwin.encoding import Encoder
from neurotwin.learners import get

BASELINE = json.loads(
    (Path(__file__).parents[1] / "data" / "digits_default_predictions_30231ab.json").read_text()
)["predictions"]
SEEDS = [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)]


def _per_pixel_scaling(monkeypatch):
    """Undo the global pixel range: every pixel gets its own min-max range, as before."""
    fit = Encoder.fit
    monkeypatch.setattr(Encoder, "fit", lambda self, X, image=False: fit(self, X, image=False))


def _legacy_feature_scale(monkeypatch):
    """Undo the dead-unit fix: a silent unit's scale is clamped to 1e-6, as before."""

    @torch.no_grad()
    def legacy(self, v):
        f = torch.relu(self.hidden(v)) ** self.readout_power
        self.feature_scale.copy_(f.std(0).clamp_min(1e-6))

    monkeypatch.setattr(kh.CompetingUnitsNet, "fit_feature_scale_", legacy)


def _row(name, variant, seed):
    return f"{name}{'-' + variant if variant else ''}-s{seed}"


def _fit(name, variant, seed):
    task = nt.tasks.load("digits", seed)
    learner = get(name)(variant=variant)
    learner.fit(task, seed=seed)
    return learner, task


@pytest.mark.parametrize("seed", SEEDS)
def test_mlp_predicts_exactly_as_before(seed):
    learner, task = _fit("mlp", None, seed)
    assert learner.predict(task.X_test).tolist() == BASELINE[_row("mlp", None, seed)]


@pytest.mark.parametrize("variant", [None, "random_first_layer"])
@pytest.mark.parametrize("seed", SEEDS)
def test_hebbian_predicts_exactly_as_before_with_both_fixes_undone(monkeypatch, seed, variant):
    _per_pixel_scaling(monkeypatch)
    _legacy_feature_scale(monkeypatch)
    learner, task = _fit("hebbian", variant, seed)
    assert learner.predict(task.X_test).tolist() == BASELINE[_row("hebbian", variant, seed)]


@pytest.mark.parametrize("variant", [None, "random_first_layer"])
def test_dead_unit_fix_changes_only_samples_where_a_silent_unit_fires(monkeypatch, variant):
    _per_pixel_scaling(monkeypatch)
    learner, task = _fit("hebbian", variant, 0)
    model = learner.model
    X_fit, *_ = task.validation_split(0)
    with torch.no_grad():
        f_fit = torch.relu(model.hidden(model.encoder(learner._as_tensor(X_fit)))) ** 3
        f_test = torch.relu(model.hidden(model.encoder(learner._as_tensor(task.X_test)))) ** 3
    silent = (f_fit.std(0) == 0).numpy()
    assert silent.any(), "digits seed 0 has units silent on the fitting slice"
    # a silent unit gets scale 1 (not 1e-6), every other unit keeps its spread
    assert np.all(model.feature_scale.numpy()[silent] == 1.0)
    np.testing.assert_allclose(model.feature_scale.numpy()[~silent], f_fit.std(0).numpy()[~silent])
    changed = learner.predict(task.X_test) != np.array(BASELINE[_row("hebbian", variant, 0)])
    fires = (f_test[:, torch.from_numpy(silent)] > 0).any(1).numpy()
    assert not np.any(changed & ~fires)


def test_global_pixel_range_divides_digits_by_16_where_per_pixel_stretched_rare_pixels():
    task = nt.tasks.load("digits", 0)
    X_fit, *_ = task.validation_split(0)
    glob = Encoder("unit", 64).fit(X_fit, image=True)
    per_pixel = Encoder("unit", 64).fit(X_fit)
    assert torch.all(glob.offset == 0) and torch.all(glob.scale == 16)  # digits are 0..16
    # per pixel, a border pixel whose training maximum is 1 was divided by 1, not 16: 16x
    stretch = 16 / per_pixel.scale[per_pixel.scale > 0]
    assert float(stretch.max()) == 16.0
    learner, task = _fit("hebbian", None, 0)
    assert torch.all(learner.model.encoder.scale == 16)
