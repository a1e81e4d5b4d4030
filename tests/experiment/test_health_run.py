"""``lesion_run``: damage, ageing and recovery of every model of a finished compare run folder."""

from __future__ import annotations

import json
import re

import pytest

from neurotwin.errors import ConfigError, DataError
from neurotwin.experiment.health import HEALTH_HTML, HEALTH_JSON, lesion_run
from neurotwin.experiment.lock import acquire, release
from neurotwin.experiment.runner import compare

pytestmark = pytest.mark.usefixtures("one_thread_module")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("health_run")
    compare(
        "digits", "mlp,hebbian", seeds=[0], quick=True, out=out, show_progress=False, report=False
    )
    return out


@pytest.fixture(scope="module")
def health(run_dir):
    return lesion_run(run_dir, show_progress=False)


def test_documents_written(run_dir, health):
    assert json.loads((run_dir / HEALTH_JSON).read_text()) == health
    html = (run_dir / HEALTH_HTML).read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 2  # damage and ageing
    assert "http://" not in html and "https://" not in html  # self-contained
    assert not (run_dir / ".lock").exists()


def test_every_row_every_kind(health):
    names = [r["name"] for r in health["rows"]]
    assert names == ["mlp", "mlp (unit_encoding)", "hebbian", "hebbian (random_first_layer)"]
    for row in health["rows"]:
        assert set(row["damage"]) == {"random", "targeted", "neurons", "noise"}
        assert row["ageing"]["auc"] is not None and row["ageing"]["auc_no_plasticity"] is not None
        assert row["recovery"]["level"] == 0.5 and row["recovery"]["kind"] == "random"
        assert row["intact"] == row["damage"]["random"]["test_accuracy"][0]
    assert health["warnings"] == []  # the reloaded task and model reproduce the run's accuracy


def test_findings_state_every_model_and_ageing(health):
    text = "\n".join(health["findings"])
    for s in health["summary"]:
        assert f"{s['name']} [" in text
        assert s["random_50"] is not None and s["recovery"]["budget"]["samples"] > 0
    brain = [s for s in health["summary"] if s["paradigm"] == "brain"]
    for s in brain:
        line = next(f for f in health["findings"] if f.startswith(f"Ageing, {s['name']} ["))
        keeps = s["ageing"]["auc"]["mean"] >= s["ageing"]["auc_no_plasticity"]["mean"]
        assert ("keeps at least as much" in line) == keeps
        assert ("does NOT keep" in line) == (not keeps)


def test_kind_the_learner_cannot_take_writes_nothing(tmp_path):
    compare(
        "digits", "linear", seeds=[0], quick=True, out=tmp_path, show_progress=False, report=False
    )
    with pytest.raises(ConfigError, match="has no hidden units to kill") as exc:
        lesion_run(tmp_path, kinds="random,neurons", show_progress=False)
    assert "\n" not in str(exc.value)
    assert not (tmp_path / HEALTH_JSON).exists() and not (tmp_path / HEALTH_HTML).exists()
    doc = lesion_run(tmp_path, kinds=["noise"], ageing=False, recovery=False, show_progress=False)
    assert doc["rows"][0]["ageing"] is None and list(doc["rows"][0]["damage"]) == ["noise"]
    # with no kinds named, every kind the learner can take runs and the skipped one is said
    doc = lesion_run(tmp_path, ageing=False, recovery=False, show_progress=False)
    assert list(doc["rows"][0]["damage"]) == ["random", "targeted", "noise"]
    assert any("linear skips neurons" in w for w in doc["warnings"])
    assert "neurons" not in doc["summary"][0]["auc"]


def test_bad_folders(tmp_path, run_dir):
    with pytest.raises(DataError, match="no such run folder"):
        lesion_run(tmp_path / "nope", show_progress=False)
    with pytest.raises(DataError, match="results.json is missing"):
        lesion_run(tmp_path, show_progress=False)
    with pytest.raises(ConfigError, match="unknown lesion kind"):
        lesion_run(run_dir, kinds="random,fire", show_progress=False)
    with pytest.raises(ConfigError, match="not in"):
        lesion_run(run_dir, seeds=[7], show_progress=False)


def test_missing_model_folder(tmp_path, run_dir):
    (tmp_path / "results.json").write_text((run_dir / "results.json").read_text())
    with pytest.raises(DataError, match="models/mlp-s0 is missing"):
        lesion_run(tmp_path, show_progress=False)


def test_live_run_holds_the_folder(run_dir, health):
    before = (run_dir / HEALTH_JSON).read_bytes()
    lock = acquire(run_dir, "neurotwin compare (live)")
    try:
        with pytest.raises(ConfigError, match="in use by another neurotwin run"):
            lesion_run(run_dir, show_progress=False)
    finally:
        release(lock)
    assert (run_dir / HEALTH_JSON).read_bytes() == before


def test_cli_lesion_bad_input_is_one_line(tmp_path, run_dir, capsys):
    from cli_helpers import assert_one_line_error, call

    status, _, err = call(capsys, "lesion", run_dir, "--kind", "random,fire")
    assert_one_line_error(status, err, "unknown lesion kind 'fire'", "random, targeted")
    status, _, err = call(capsys, "lesion", tmp_path / "nope")
    assert_one_line_error(status, err, "no such run folder")


def test_cli_lesion_json_prints_the_document(run_dir, capsys):
    from cli_helpers import call

    status, out, err = call(
        capsys, "lesion", run_dir, "--kind", "noise", "--no-ageing", "--no-recovery", "--json"
    )
    assert status == 0, err
    doc = json.loads(out)
    assert doc["kinds"] == ["noise"] and all(r["ageing"] is None for r in doc["rows"])
