"""The probe registry: one file per probe, found by name, run in order for each row."""

import copy
import dataclasses
import importlib.util
import sys
import textwrap

import numpy as np
import pytest

from neurotwin import kinds, probes
from neurotwin.errors import ConfigError
from neurotwin.probes import base

BUILT_IN = ["test_metric", "params", "ops", "lesion", "learner_extra"]
#: What each kind adds before ``learner_extra``.
KIND_PROBES = {
    "classification": ["diagnosis", "explanations"],
    "regression": ["intervals", "explanations"],
}

TOY_PROBE = '''
"""A third-party probe in a file of its own: the share of the test set predicted as class 0."""

import numpy as np

from neurotwin.probes import register


@register("toy_probe")
def share_of_class_zero(ctx):
    """Share of draw 0's test predictions that are class 0."""
    return {"toy_share": float(np.mean(ctx.predictions == 0))}
'''


@pytest.fixture
def registries(monkeypatch):
    """Registrations made in a test are undone after it."""
    monkeypatch.setattr(base, "_PROBES", dict(base._PROBES))
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))


@pytest.fixture
def toy_probe(registries, tmp_path, monkeypatch):
    """Import a probe written in a new file, as a plug-in would."""
    path = tmp_path / "toy_probe_plugin.py"
    path.write_text(textwrap.dedent(TOY_PROBE))
    spec = importlib.util.spec_from_file_location("toy_probe_plugin", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "toy_probe_plugin", module)
    spec.loader.exec_module(module)
    return probes.get("toy_probe")


def test_built_in_probes_are_registered_with_a_description():
    assert set(BUILT_IN) <= set(probes.available())
    assert all(probes.get(name).description for name in BUILT_IN)


def test_unknown_probe_raises_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match="unknown probe 'nope'.*test_metric"):
        probes.get("nope")


@pytest.mark.parametrize("task_kind", ["classification", "regression"])
def test_every_kind_runs_the_default_probes_in_order(fitted_mlp, task_kind):
    task = type("T", (), {"kind": task_kind})()
    expected = [*BUILT_IN[:-1], *KIND_PROBES[task_kind], BUILT_IN[-1]]
    assert [p.name for p in probes.probes_for(fitted_mlp, task)] == expected


def test_a_probe_in_its_own_file_runs_when_a_learner_names_it(toy_probe, fitted_mlp, wine):
    learner = copy.copy(fitted_mlp)
    learner.extra_probes = ("toy_probe", "params")  # params: already run, not run twice
    assert [p.name for p in probes.probes_for(learner, wine)] == [
        "test_metric",
        "params",
        "ops",
        "lesion",
        "diagnosis",
        "explanations",
        "toy_probe",
        "learner_extra",
    ]
    assert toy_probe.description == "Share of draw 0's test predictions that are class 0."
    metrics, pred = probes.run_probes(learner, wine, seed=0)
    assert metrics["toy_share"] == float(np.mean(pred == 0))
    assert "toy_share" not in probes.run_probes(fitted_mlp, wine, seed=0)[0]


def test_a_probe_in_its_own_file_runs_for_a_kind_that_lists_it(toy_probe, fitted_mlp, wine):
    classification = kinds.get("classification")
    kinds.register(
        dataclasses.replace(
            classification, name="toykind", probes=(*classification.probes, "toy_probe")
        )
    )
    task = copy.copy(wine)
    task.kind = "toykind"
    metrics, pred = probes.run_probes(fitted_mlp, task, seed=0)
    assert metrics["toy_share"] == float(np.mean(pred == 0))
    assert metrics["test_accuracy"] == float(np.mean(pred == wine.y_test))


def test_run_probes_merges_every_probe_and_returns_draw_zero_predictions(fitted, wine):
    metrics, pred = probes.run_probes(fitted, wine, seed=0)
    expected, expected_pred = probes.evaluate(fitted, wine, seed=0)
    np.testing.assert_array_equal(pred, expected_pred)
    keys = [
        "test_accuracy",
        "test_accuracy_std",
        "params",
        "params_learned",
        "params_fixed",
        "ops_per_inference",
        "energy_nj_per_inference",
        "lesion",
        "lesion_mean",
        "diagnosis",
        "explanations",
    ]
    extra = fitted.extra_metrics()
    assert list(metrics) == keys + (["extra"] if extra else [])
    assert metrics.get("extra") == (extra or None)
    assert {k: metrics[k] for k in expected} == expected


def test_learner_extra_writes_nothing_when_the_learner_has_nothing(linear):
    learner, task = linear
    assert probes.get("learner_extra")(probes.ProbeContext(learner, task, seed=0)) == {}
    learner.extra_metrics = lambda: {"sparsity": 0.5}
    out = probes.get("learner_extra")(probes.ProbeContext(learner, task, seed=0))
    assert out == {"extra": {"sparsity": 0.5}}


def test_register_takes_a_probe_object_or_a_function_in_three_ways(registries):
    class Constant:
        name, description = "constant", "always 1"

        def __call__(self, ctx):
            return {"one": 1}

    obj = Constant()
    assert probes.register(obj) is obj

    @probes.register
    def by_function_name(ctx):
        """Named after the function."""
        return {}

    @probes.register("by_argument")
    def _a(ctx):
        return {}

    @probes.register(name="by_keyword", description="given")
    def _b(ctx):
        return {}

    assert probes.get("constant") is obj
    assert probes.get("by_function_name").description == "Named after the function."
    assert probes.get("by_argument").name == "by_argument"
    assert probes.get("by_keyword").description == "given"
    assert by_function_name(None) == {}  # the registered probe is still callable with a ctx
    with pytest.raises(ConfigError):
        probes.register(42)


def test_two_probes_writing_one_key_is_a_config_error(registries, linear):
    learner, task = linear
    # a kind with only the default probes: the toy task has no validation slice for intervals
    regression = kinds.get("regression")
    kinds.register(dataclasses.replace(regression, name="plain", probes=kinds.DEFAULT_PROBES))
    task.kind = "plain"
    probes.register(lambda ctx: {"params": -1}, name="clobber")
    learner.extra_probes = ("clobber",)
    with pytest.raises(ConfigError, match="'clobber' writes params"):
        probes.run_probes(learner, task, seed=0)


def test_a_learner_naming_an_unknown_probe_fails_with_the_choices(linear):
    learner, task = linear
    learner.extra_probes = ("nope",)
    with pytest.raises(ConfigError, match="unknown probe 'nope'"):
        probes.probes_for(learner, task)
