"""Adding a task kind, a probe and a learner takes one new file each, and nothing else.

The three files below are written into a temporary plug-in package, imported as a plug-in's own
package would be, and a comparison then runs end to end on a task of the new kind: the new learner
and its control are trained, scored with the kind's metric, measured by the new probe, tested
against each other, and reported. (Discovery through an entry point is tested in
tests/learners/test_registry.py.)
"""

from __future__ import annotations

import importlib
import sys
import textwrap

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

import neurotwin as nt
from neurotwin import kinds
from neurotwin.learners import registry as learner_registry
from neurotwin.probes import base as probe_base
from neurotwin.report import write_report
from neurotwin.tasks import registry as task_registry

KIND_FILE = '''
"""A task kind scored by balanced accuracy (the mean of the per-class recalls)."""
import numpy as np
from neurotwin import kinds


def scores(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    recalls = [np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]
    return {"balanced_accuracy": float(np.mean(recalls))}


kinds.register(
    kinds.TaskKind(
        name="imbalanced",
        description="classes of very different sizes, scored by balanced accuracy",
        target="class",
        metric="balanced_accuracy",
        metric_label="balanced accuracy",
        scores=scores,
        paired_test=kinds.MCNEMAR,
        stratify=True,
    )
)
'''

PROBE_FILE = '''
"""The mean margin between the two largest class scores of the test inputs."""
import torch
from neurotwin import probes


@probes.register
def output_margin(ctx):
    """Mean gap between the largest and second-largest class score on the test part."""
    top2 = torch.topk(ctx.learner.outputs(ctx.task.X_test), 2, dim=1).values
    return {"output_margin": float((top2[:, 0] - top2[:, 1]).mean())}
'''

LEARNER_FILE = '''
"""Nearest class centroid as a linear layer: score_c(x) = <m_c, x> - |m_c|^2 / 2."""
import torch
from torch import nn
from neurotwin.core.history import History
from neurotwin.core.synapses import Synapses
from neurotwin.encoding import Encoder
from neurotwin.learners import Learner, register


class CentroidNet(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.encoder = Encoder("standard", n_in)
        self.layer = Synapses(n_in, n_out, init="zeros")

    def forward(self, x):
        return self.layer(self.encoder(x))


@register
class NearestCentroid(Learner):
    name = "nearest_centroid"
    description = "nearest class centroid (prototype) classifier"
    paradigm = "artificial"
    rule = "class_means"
    variants = (None, "shuffled_labels")
    variant_rules = {"shuffled_labels": "none"}
    controls = {None: "shuffled_labels"}
    supported_kinds = ("imbalanced",)
    extra_probes = ("output_margin",)

    def _build(self, n_features, n_outputs, kind, seed):
        return CentroidNet(n_features, n_outputs)

    def fit(self, task, *, seed, epochs=None, progress=None):
        self._check_kind(task)
        X_fit, y_fit, X_val, y_val = task.validation_split(seed)
        if self.variant == "shuffled_labels":
            y_fit = torch.randperm(len(y_fit), generator=torch.Generator().manual_seed(seed))
            y_fit = task.validation_split(seed)[1][y_fit.numpy()]
        self.task_kind, self.n_features, self.n_outputs = task.kind, task.n_features, task.n_classes
        self.model = self._build(task.n_features, task.n_classes, task.kind, seed)
        self.model.encoder.fit(X_fit)
        with torch.no_grad():
            v = self.model.encoder(self._as_tensor(X_fit))
            y = torch.as_tensor(y_fit)
            means = torch.stack([v[y == c].mean(0) for c in range(task.n_classes)])
            self.model.layer.weight.copy_(means)
            self.model.layer.bias.copy_(-0.5 * (means**2).sum(1))
        history = History(self.kind.metric, "fit")
        val = self.kind.scores(y_val, self.predict(X_val))[self.kind.metric]
        history.append(0.0, val)
        return history
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """The three plug-in files, imported; every registry is restored afterwards."""
    package = tmp_path / "ntplugin"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, text in (
        ("imbalanced_kind", KIND_FILE),
        ("margin_probe", PROBE_FILE),
        ("centroid_learner", LEARNER_FILE),
    ):
        (package / f"{name}.py").write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    monkeypatch.setattr(probe_base, "_PROBES", dict(probe_base._PROBES))
    learner_registry.available()  # discover the built-in learners before taking a copy
    monkeypatch.setattr(learner_registry, "_REGISTRY", dict(learner_registry._REGISTRY))
    for name in ("imbalanced_kind", "margin_probe", "centroid_learner"):
        importlib.import_module(f"ntplugin.{name}")
    yield
    for name in [m for m in sys.modules if m.startswith("ntplugin")]:
        del sys.modules[name]


def _imbalanced_digits(seed: int = 0, **_) -> nt.tasks.Task:
    """Digits 0-2 with class 0 cut to 20 samples: an imbalanced three-class task."""
    digits = nt.tasks.load("digits", 0)
    X = np.concatenate([digits.X_train, digits.X_test])
    y = np.concatenate([digits.y_train, digits.y_test])
    keep = np.concatenate([np.flatnonzero(y == 0)[:20], np.flatnonzero((y == 1) | (y == 2))])
    return nt.tasks.Task.from_arrays(X[keep], y[keep], kind="imbalanced", seed=seed, name="imb")


def test_a_new_kind_probe_and_learner_run_end_to_end(plugin, tmp_path, monkeypatch):
    nt.tasks.available()  # discover the built-in tasks before taking a copy
    monkeypatch.setattr(task_registry, "_TASKS", dict(task_registry._TASKS))
    nt.tasks.register("imbalanced_digits", _imbalanced_digits, "digits 0-2, class 0 cut to 20")
    doc = nt.compare(
        "imbalanced_digits",
        ["nearest_centroid"],
        seeds=[0, 1, 2],
        out=tmp_path / "run",
        show_progress=False,
    )
    assert doc["task"]["kind"] == "imbalanced" and doc["task"]["metric"] == "balanced_accuracy"
    for row in doc["results"]:
        task = _imbalanced_digits(row["seed"])
        assert row["metrics"]["output_margin"] > 0
        assert set(row["metrics"]["lesion"]) >= {"test_balanced_accuracy", "mode"}
    # the kind's score is balanced accuracy as scikit-learn defines it, on the stored predictions
    stored = (tmp_path / "run" / "rows" / "nearest_centroid-s2.json").read_text()
    predictions = np.array(__import__("json").loads(stored)["predictions"])
    expected = balanced_accuracy_score(task.y_test, predictions)
    assert doc["results"][2]["metrics"]["test_balanced_accuracy"] == pytest.approx(expected)
    # the learner is tested against its control, with the kind's paired test and metric
    (verdict,) = doc["verdicts"]
    assert verdict["metric"] == "test_balanced_accuracy" and verdict["detected"] is True
    assert {c["test"] for c in doc["comparisons"]} == {"mcnemar_exact"}
    html = write_report(doc, tmp_path / "run").read_text()
    assert "balanced accuracy" in html and "nearest_centroid" in html
