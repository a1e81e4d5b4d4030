"""Checks of the results store: row files, the shipped schema and the merge (pairs, tests, verdicts)."""

import copy
import json
import math
import re
import statistics

import numpy as np
import pytest
from scipy import stats

from neurotwin.errors import ConfigError, DataError
from neurotwin.experiment.store import (
    load_schema,
    merge,
    read_row,
    row_filename,
    validate_results,
    write_results,
)
from neurotwin.io import atomic_write_json

# The example document of DESIGN.md, "Results (OUT/)", verbatim.
DESIGN_EXAMPLE = {
    "schema_version": 1,
    "neurotwin_version": "0.1.0",
    "task": {
        "name": "digits",
        "kind": "classification",
        "n_train": 1347,
        "n_test": 450,
        "metric": "accuracy",
    },
    "manifest": {
        "command": "...",
        "python": "3.11.7",
        "torch": "2.13.0",
        "numpy": "...",
        "threads": 2,
        "device": "cpu",
    },
    "results": [
        {
            "model": "hebbian",
            "variant": None,
            "paradigm": "brain",
            "rule": "krotov_hopfield",
            "seed": 0,
            "config": {"n_hidden": 200, "p": 3, "readout_power": 3, "epochs": 1000},
            "metrics": {
                "test_accuracy": 0.962,
                "test_accuracy_std": 0.0,
                "train_seconds": 7.1,
                "params": 14810,
                "ops_per_inference": {
                    "dense_mac": 14800,
                    "effective_mac": 8540,
                    "ac": 0,
                    "neuron_updates": 210,
                },
                "energy_nj_per_inference": 39.3,
                "lesion": {
                    "fraction": [0, 0.1, 0.3, 0.5, 0.7, 0.9],
                    "test_accuracy": [0.962, 0.95, 0.92, 0.85, 0.66, 0.2],
                },
            },
            "history": {"epoch": [1, 2], "train_loss": [0.9, 0.4], "val_accuracy": [0.91, 0.95]},
        }
    ],
    "summary": [
        {
            "model": "mlp",
            "variant": None,
            "test_accuracy": {"mean": 0.976, "ci95": [0.97, 0.98], "n": 3},
        }
    ],
    "comparisons": [
        {
            "a": {"model": "mlp", "variant": None},
            "b": {"model": "hebbian", "variant": "random_first_layer"},
            "test": "mcnemar_exact",
            "seed": 0,
            "p": 0.21,
        }
    ],
}

REQUIRED_PATHS = [
    "schema_version",
    "neurotwin_version",
    "task",
    "task.name",
    "task.kind",
    "task.n_train",
    "task.n_test",
    "task.metric",
    "manifest",
    "manifest.command",
    "manifest.python",
    "manifest.torch",
    "manifest.numpy",
    "manifest.threads",
    "manifest.device",
    "results",
    "results[0].model",
    "results[0].variant",
    "results[0].paradigm",
    "results[0].rule",
    "results[0].seed",
    "results[0].config",
    "results[0].metrics",
    "results[0].metrics.train_seconds",
    "results[0].metrics.params",
    "results[0].metrics.ops_per_inference",
    "results[0].metrics.ops_per_inference.dense_mac",
    "results[0].metrics.ops_per_inference.effective_mac",
    "results[0].metrics.ops_per_inference.ac",
    "results[0].metrics.ops_per_inference.neuron_updates",
    "results[0].metrics.energy_nj_per_inference",
    "results[0].metrics.lesion",
    "results[0].metrics.lesion.fraction",
    "results[0].history",
    "results[0].history.epoch",
    "results[0].history.train_loss",
    "summary",
    "summary[0].model",
    "summary[0].variant",
    "summary[0].test_accuracy.n",
    "comparisons",
    "comparisons[0].a",
    "comparisons[0].b",
    "comparisons[0].test",
    "comparisons[0].seed",
    "comparisons[0].p",
]


def _parent_and_key(doc, path):
    """The container holding the last key of a dotted path like 'results[0].metrics.lesion'."""
    parts = [p for p in re.split(r"[.\[\]]+", path) if p]
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    return node, parts[-1]


def test_design_example_is_valid():
    validate_results(DESIGN_EXAMPLE)


@pytest.mark.parametrize("path", REQUIRED_PATHS)
def test_schema_requires_design_keys(path):
    doc = copy.deepcopy(DESIGN_EXAMPLE)
    parent, key = _parent_and_key(doc, path)
    del parent[key]
    with pytest.raises(DataError) as info:
        validate_results(doc)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("results document is invalid at $")
    # the missing key is named (for the test metric: as one of the accepted alternatives)
    assert repr(key) in message


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("schema_version", 2),
        ("task.kind", ""),  # kinds are registered names, so any non-empty name
        ("results[0].paradigm", "quantum"),
        ("results[0].variant", 3),
        ("results[0].metrics.test_accuracy", 1.5),
        ("comparisons[0].p", 1.2),
        ("comparisons[0].test", 5),
        ("manifest.threads", "two"),
    ],
)
def test_schema_rejects_bad_values(path, value):
    doc = copy.deepcopy(DESIGN_EXAMPLE)
    parent, key = _parent_and_key(doc, path)
    parent[key] = value
    with pytest.raises(DataError, match=re.escape(path.split(".")[-1].split("[")[0])):
        validate_results(doc)


def test_schema_allows_new_keys_and_regression_metrics():
    doc = copy.deepcopy(DESIGN_EXAMPLE)
    doc["task"]["kind"] = "regression"
    metrics = doc["results"][0]["metrics"]
    metrics["test_r2"] = metrics.pop("test_accuracy")
    metrics["test_mse"] = 0.3
    metrics["lesion"]["test_r2"] = metrics["lesion"].pop("test_accuracy")
    metrics["brand_new_metric"] = {"anything": [1, 2]}
    doc["summary"][0]["test_r2"] = doc["summary"][0].pop("test_accuracy")
    validate_results(doc)


def test_load_schema_is_draft_2020_12_and_a_fresh_copy():
    from jsonschema import Draft202012Validator

    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    schema["required"].clear()
    assert load_schema()["required"]


# --- rows -----------------------------------------------------------------------------------------


def test_row_filename():
    assert row_filename("hebbian", None, 0) == "hebbian-s0.json"
    assert (
        row_filename("hebbian", "random_first_layer", 12) == "hebbian-random_first_layer-s12.json"
    )
    assert row_filename("mlp", None, np.int64(3)) == "mlp-s3.json"


@pytest.mark.parametrize(
    ("model", "variant", "seed"),
    [("../mlp", None, 0), ("mlp", "a/b", 0), ("", None, 0), ("mlp", None, -1), ("mlp", None, 1.0)],
)
def test_row_filename_rejects_unsafe_names(model, variant, seed):
    with pytest.raises(ConfigError):
        row_filename(model, variant, seed)


def _row(
    model,
    seed,
    accuracy,
    predictions,
    *,
    variant=None,
    energy=10.0,
    seconds=1.0,
    control=None,
    params_learned=None,
    params_fixed=None,
):
    row = {
        "model": model,
        "variant": variant,
        "paradigm": "artificial" if model == "mlp" else "brain",
        "rule": "backprop" if model == "mlp" else "krotov_hopfield",
        "seed": seed,
        "config": {"epochs": 2},
        "spec": {"task": "toy", "quick": True},
        "metrics": {
            "test_accuracy": accuracy,
            "test_accuracy_std": 0.0,
            "train_seconds": seconds,
            "params": 100,
            "ops_per_inference": {
                "dense_mac": 100,
                "effective_mac": 50,
                "dense_ac": 0,
                "ac": 0,
                "neuron_updates": 10,
            },
            "energy_nj_per_inference": energy,
            "lesion": {"fraction": [0.0, 0.5, 1.0], "test_accuracy": [accuracy, 0.5, 0.1]},
        },
        "history": {"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_accuracy": [0.8, 0.9]},
        "figures": {},
        "predictions": list(predictions),
    }
    if control is not None:
        row["control"] = {"model": control[0], "variant": control[1]}
    if params_learned is not None:
        row["metrics"]["params_learned"] = params_learned
        row["metrics"]["params_fixed"] = params_fixed
    return row


def test_read_row_round_trip(tmp_path):
    row = _row("mlp", 0, np.float64(0.9), np.array([0, 1, 2]))
    path = atomic_write_json(tmp_path / "rows" / row_filename("mlp", None, 0), row)
    assert read_row(path)["predictions"] == [0, 1, 2]


def test_read_row_invalid_json_names_the_file(tmp_path):
    path = tmp_path / "mlp-s0.json"
    path.write_text('{"model": "mlp", "seed"')
    with pytest.raises(DataError, match="mlp-s0.json"):
        read_row(path)


def test_read_row_missing_key_names_file_and_path(tmp_path):
    row = _row("mlp", 0, 0.9, [0, 1])
    del row["metrics"]["lesion"]
    path = atomic_write_json(tmp_path / "mlp-s0.json", row)
    with pytest.raises(DataError, match=r"mlp-s0\.json.*\$\.metrics.*lesion"):
        read_row(path)


def test_read_row_missing_file_is_data_error(tmp_path):
    with pytest.raises(DataError, match="nope.json"):
        read_row(tmp_path / "nope.json")


# --- merge: hand-made run -------------------------------------------------------------------------
#
# Three models on three seeds, 20 test samples per seed (each seed its own split). Each model gets
# a known number of samples wrong, at its own offset, so the wrong sets of any two models never
# overlap: for a pair (a, b) on a seed, n01 (a wrong, b right) is a's error count and n10 is b's.

TASK = {"name": "toy", "kind": "classification", "n_train": 60, "n_test": 20, "metric": "accuracy"}
MANIFEST = {
    "command": "neurotwin compare",
    "python": "3.11",
    "torch": "2.5",
    "numpy": "2.0",
    "threads": 2,
    "device": "cpu",
}
N_TEST, N_FIT = 20, 50
RUN_TASK = dict(TASK, n_fit=N_FIT)
SEEDS = (0, 1, 2)
MLP, HEB, RFL = ("mlp", None), ("hebbian", None), ("hebbian", "random_first_layer")
# (offset of the wrong samples, errors per seed, training seconds per seed)
PLAN = {
    MLP: (0, (1, 2, 1), (2.0, 4.0, 3.0)),
    HEB: (2, (3, 2, 5), (9.0, 5.0, 6.0)),
    RFL: (7, (6, 8, 7), (1.0, 1.5, 1.2)),
}
ERRORS = {key: dict(zip(SEEDS, plan[1], strict=True)) for key, plan in PLAN.items()}


def _targets(seed):
    return (np.arange(N_TEST) + seed) % 3


def _wrong_at(y, start, count):
    """y with samples start .. start + count - 1 given a wrong class."""
    pred = np.array(y)
    pred[start : start + count] = (pred[start : start + count] + 1) % 3
    return pred


def _run_rows(seeds=SEEDS, targets=_targets):
    rows = []
    for seed in seeds:  # seeds interleaved, as a run writes them
        for key, (offset, errors, seconds) in PLAN.items():
            e = errors[SEEDS.index(seed)]
            rows.append(
                _row(
                    key[0],
                    seed,
                    (N_TEST - e) / N_TEST,
                    _wrong_at(targets(seed), offset, e),
                    variant=key[1],
                    energy=60.0 + seed if key == MLP else 5.0 * (seed + 1),
                    seconds=seconds[SEEDS.index(seed)],
                    control=RFL if key == HEB else None,
                    params_learned=None if key == MLP else 2010,
                    params_fixed=None if key == MLP else 12800,
                )
            )
    return rows


def _key(ref):
    return ref["model"], ref["variant"]


def _holm_by_hand(p_values):
    """Holm (1979) from its definition: p̃_i = min(1, max over p_j <= p_i of (m - rank_j) p_j)."""
    m = len(p_values)
    ranked = sorted(p_values)
    return [min(1.0, max((m - r) * q for r, q in enumerate(ranked) if q <= p)) for p in p_values]


def _nadeau_bengio(diffs, ratio):
    """(mean, se, t, two-sided p, ci95, mdd) of the corrected resampled t-test, by hand."""
    k = len(diffs)
    mean = statistics.fmean(diffs)
    se = math.sqrt((1 / k + ratio) * statistics.variance(diffs))
    t = mean / se
    half = stats.t.ppf(0.975, k - 1) * se
    mdd = (stats.t.ppf(0.975, k - 1) + stats.t.ppf(0.8, k - 1)) * se
    return mean, se, t, 2 * stats.t.sf(abs(t), k - 1), [mean - half, mean + half], mdd


@pytest.fixture(scope="module")
def run_doc():
    return merge(_run_rows(), RUN_TASK, {s: _targets(s) for s in SEEDS}, MANIFEST, "0.1.0")


def test_merge_keeps_rows_in_order_without_predictions(run_doc):
    rows = _run_rows()
    doc = merge(rows, RUN_TASK, {s: _targets(s).tolist() for s in SEEDS}, MANIFEST, "0.1.0")
    assert doc["schema_version"] == 1 and doc["neurotwin_version"] == "0.1.0"
    assert doc["task"] == RUN_TASK
    assert [(r["model"], r["variant"], r["seed"]) for r in doc["results"]] == [
        (m, v, s) for s in SEEDS for m, v in PLAN
    ]
    assert all("predictions" not in r and "spec" not in r for r in doc["results"])
    assert "predictions" in rows[0]  # the caller's rows are not modified
    assert doc["results"][1]["control"] == {"model": "hebbian", "variant": "random_first_layer"}
    validate_results(doc)


def test_merge_pairs_each_model_with_the_first_and_the_learner_with_its_control(run_doc):
    pairs = [(_key(v["a"]), _key(v["b"]), v["relation"]) for v in run_doc["verdicts"]]
    assert sorted(pairs, key=str) == sorted(
        [(MLP, HEB, "vs_first"), (MLP, RFL, "vs_first"), (RFL, HEB, "vs_control")], key=str
    )
    per_seed = {
        (_key(c["a"]), _key(c["b"]), c["relation"], c["seed"]) for c in run_doc["comparisons"]
    }
    assert per_seed == {(a, b, rel, s) for a, b, rel in pairs for s in SEEDS}
    assert len(run_doc["comparisons"]) == 9


def test_merge_mcnemar_per_seed_is_the_exact_binomial_test(run_doc):
    for c in run_doc["comparisons"]:
        a, b, seed = _key(c["a"]), _key(c["b"]), c["seed"]
        n01, n10 = ERRORS[a][seed], ERRORS[b][seed]
        assert c["test"] == "mcnemar_exact"
        assert (c["n01"], c["n10"]) == (n01, n10)
        expected = stats.binomtest(min(n01, n10), n01 + n10, 0.5).pvalue
        assert c["p"] == pytest.approx(expected, rel=1e-12)


def test_merge_holm_adjusts_over_all_pairs_and_seeds(run_doc):
    raw = [c["p"] for c in run_doc["comparisons"]]
    assert [c["p_holm"] for c in run_doc["comparisons"]] == pytest.approx(_holm_by_hand(raw))
    # the smallest raw p is multiplied by the number of tests, 3 pairs × 3 seeds
    smallest = min(run_doc["comparisons"], key=lambda c: c["p"])
    assert smallest["p_holm"] == pytest.approx(min(1.0, 9 * smallest["p"]))


def test_merge_verdicts_are_the_corrected_resampled_t_test(run_doc):
    ratio = N_TEST / N_FIT
    hand_p = []
    for v in run_doc["verdicts"]:
        a, b = _key(v["a"]), _key(v["b"])
        diffs = [(ERRORS[a][s] - ERRORS[b][s]) / N_TEST for s in SEEDS]  # acc_b − acc_a
        mean, se, t, p, ci, mdd = _nadeau_bengio(diffs, ratio)
        assert v["metric"] == "test_accuracy" and v["test"] == "corrected_resampled_t"
        assert v["seeds"] == list(SEEDS) and v["n_test"] == N_TEST
        assert v["ratio"] == pytest.approx(0.4) and v["correction"] == "nadeau_bengio"
        assert v["mean"] == pytest.approx(mean)
        assert v["se"] == pytest.approx(se)
        assert v["t"] == pytest.approx(t)
        assert v["df"] == 2
        assert v["p"] == pytest.approx(p)
        assert v["ci95"] == pytest.approx(ci)
        assert v["mdd"] == pytest.approx(mdd)
        hand_p.append(p)
    holm = _holm_by_hand(hand_p)
    assert [v["p_holm"] for v in run_doc["verdicts"]] == pytest.approx(holm)
    assert [v["detected"] for v in run_doc["verdicts"]] == [p < 0.05 for p in holm]
    # the plan has one consistent large gap (the control vs mlp) and two noisy ones
    detected = {(_key(v["a"]), _key(v["b"])): v["detected"] for v in run_doc["verdicts"]}
    assert detected == {(MLP, HEB): False, (MLP, RFL): True, (RFL, HEB): False}


def test_merge_summary_uses_the_corrected_interval_and_median_time(run_doc):
    ratio = N_TEST / N_FIT
    t975 = stats.t.ppf(0.975, 2)
    by_key = {_key(e): e for e in run_doc["summary"]}
    assert list(by_key) == [MLP, HEB, RFL]
    for key, (_, errors, seconds) in PLAN.items():
        entry = by_key[key]
        assert entry["seeds"] == list(SEEDS)
        acc = [(N_TEST - e) / N_TEST for e in errors]
        half = t975 * math.sqrt((1 / 3 + ratio) * statistics.variance(acc))
        stat = entry["test_accuracy"]
        assert stat["mean"] == pytest.approx(statistics.fmean(acc))
        assert stat["n"] == 3 and stat["correction"] == "nadeau_bengio"
        assert stat["ci95"] == pytest.approx([stat["mean"] - half, stat["mean"] + half])
        assert entry["train_seconds"] == {
            "median": sorted(seconds)[1],
            "min": min(seconds),
            "max": max(seconds),
            "n": 3,
        }
    assert by_key[MLP]["energy_nj_per_inference"]["mean"] == pytest.approx(61.0)
    assert by_key[HEB]["energy_nj_per_inference"]["mean"] == pytest.approx(10.0)
    assert "params_learned" not in by_key[MLP]
    assert by_key[HEB]["params_learned"]["mean"] == 2010
    assert by_key[HEB]["params_fixed"]["ci95"] == [12800, 12800]
    assert (by_key[HEB]["paradigm"], by_key[HEB]["rule"]) == ("brain", "krotov_hopfield")
    assert all("within_noise_vs_first" not in e for e in run_doc["summary"])


def test_merge_fixed_split_is_the_plain_t_test_over_seeds():
    y = _targets(0)  # one test set for every seed
    task = dict(RUN_TASK, fixed_split=True)
    doc = merge(_run_rows(targets=lambda seed: y), task, y, MANIFEST, "0.1.0")
    assert doc["task"]["fixed_split"] is True
    for v in doc["verdicts"]:
        a, b = _key(v["a"]), _key(v["b"])
        diffs = [(ERRORS[a][s] - ERRORS[b][s]) / N_TEST for s in SEEDS]
        assert v["ratio"] == 0 and v["correction"] == "none (fixed split)"
        assert v["p"] == pytest.approx(stats.ttest_1samp(diffs, 0.0).pvalue)
    acc = [(N_TEST - e) / N_TEST for e in PLAN[HEB][1]]
    interval = stats.t.interval(0.95, 2, loc=np.mean(acc), scale=stats.sem(acc))
    assert doc["summary"][1]["test_accuracy"]["ci95"] == pytest.approx(list(interval))


def test_merge_one_seed_has_no_verdict_across_seeds():
    doc = merge(_run_rows(seeds=(0,)), RUN_TASK, {0: _targets(0)}, MANIFEST, "0.1.0")
    assert len(doc["verdicts"]) == 3
    for v in doc["verdicts"]:
        assert v["seeds"] == [0]
        assert (v["p"], v["p_holm"], v["detected"], v["ci95"]) == (None, None, None, None)
        a, b = _key(v["a"]), _key(v["b"])
        assert v["mean"] == pytest.approx((ERRORS[a][0] - ERRORS[b][0]) / N_TEST)
    # the per-seed paired tests still run
    assert len(doc["comparisons"]) == 3
    assert all(e["test_accuracy"]["ci95"] is None for e in doc["summary"])


def test_merge_a_control_that_is_the_first_model_is_not_paired_twice():
    y = _targets(0)
    rows = [_row("mlp", s, 0.9, _wrong_at(y, 0, 2), energy=60.0) for s in SEEDS] + [
        _row("mlp", s, 0.85, _wrong_at(y, 5, 3), variant="unit_encoding", control=MLP)
        for s in SEEDS
    ]
    doc = merge(rows, dict(RUN_TASK, fixed_split=True), y, MANIFEST, "0.1.0")
    assert [(_key(v["a"]), _key(v["b"]), v["relation"]) for v in doc["verdicts"]] == [
        (MLP, ("mlp", "unit_encoding"), "vs_first")
    ]
    assert len(doc["comparisons"]) == 3


def test_merge_a_control_that_was_not_run_adds_no_pair():
    y = _targets(0)
    rows = [_row("mlp", 0, 0.9, _wrong_at(y, 0, 2))] + [
        _row("stdp", 0, 0.8, _wrong_at(y, 4, 4), control=("stdp", "no_plasticity"))
    ]
    doc = merge(rows, RUN_TASK, {0: y}, MANIFEST, "0.1.0")
    assert [v["relation"] for v in doc["verdicts"]] == ["vs_first"]


def test_merge_pairs_only_seeds_both_models_have():
    y = np.arange(20) % 2  # one fixed split for every seed
    rows = [
        _row("mlp", 0, 0.9, _wrong_at(y, 0, 2)),
        _row("mlp", 1, 0.9, _wrong_at(y, 0, 2)),
        _row("hebbian", 0, 0.85, _wrong_at(y, 2, 3)),
        _row("hebbian", 1, 0.8, _wrong_at(y, 2, 4)),
        _row("hebbian", 2, 0.8, _wrong_at(y, 2, 4)),
        _row("hebbian", 7, 0.8, _wrong_at(y, 2, 4), variant="random_first_layer"),
    ]
    doc = merge(rows, RUN_TASK, y, MANIFEST, "0.1.0")
    assert [(c["b"]["variant"], c["seed"]) for c in doc["comparisons"]] == [(None, 0), (None, 1)]
    (verdict,) = doc["verdicts"]
    assert verdict["seeds"] == [0, 1]
    assert verdict["mean"] == pytest.approx(((0.85 - 0.9) + (0.8 - 0.9)) / 2)
    assert verdict["ratio"] == pytest.approx(RUN_TASK["n_test"] / RUN_TASK["n_fit"])
    assert doc["summary"][1]["seeds"] == [0, 1, 2]
    assert doc["summary"][2]["test_accuracy"]["ci95"] is None


def _regression_row(model, seed, pred, y):
    row = _row(model, seed, None, pred)
    metrics = row["metrics"]
    del metrics["test_accuracy"], metrics["test_accuracy_std"]
    r2 = 1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2)
    metrics.update(test_r2=float(r2), test_r2_std=0.0, test_mse=float(np.mean((pred - y) ** 2)))
    metrics["lesion"] = {"fraction": [0.0, 1.0], "test_r2": [float(r2), -0.1]}
    return row


def test_merge_regression_uses_wilcoxon_on_squared_errors():
    rng = np.random.default_rng(1)
    task = dict(TASK, kind="regression", metric="r2", n_test=30, n_fit=90)
    y = {s: rng.normal(size=30) for s in (0, 1)}
    preds = {
        (m, s): y[s] + scale * rng.normal(size=30)
        for s in (0, 1)
        for m, scale in (("linear", 0.1), ("snn", 0.5))
    }
    rows = [_regression_row(m, s, preds[m, s], y[s]) for (m, s) in preds]
    doc = merge(rows, task, y, MANIFEST, "0.1.0")
    assert [c["seed"] for c in doc["comparisons"]] == [0, 1]
    for c in doc["comparisons"]:
        s = c["seed"]
        expected = stats.wilcoxon((preds["linear", s] - y[s]) ** 2, (preds["snn", s] - y[s]) ** 2)
        assert c["test"] == "wilcoxon" and "n01" not in c
        assert c["p"] == pytest.approx(expected.pvalue)
    (verdict,) = doc["verdicts"]
    r2 = {(r["model"], r["seed"]): r["metrics"]["test_r2"] for r in rows}
    diffs = [r2["snn", s] - r2["linear", s] for s in (0, 1)]
    assert verdict["metric"] == "test_r2"
    assert verdict["p"] == pytest.approx(_nadeau_bengio(diffs, 30 / 90)[3])
    assert set(doc["summary"][0]) >= {"test_r2", "test_mse"}


def test_merge_rejects_duplicates_and_bad_predictions():
    y = np.arange(10) % 2
    with pytest.raises(DataError, match="two rows"):
        merge([_row("mlp", 0, 1.0, y), _row("mlp", 0, 1.0, y)], RUN_TASK, y, MANIFEST, "0.1.0")
    with pytest.raises(DataError, match="predictions"):
        merge([_row("mlp", 0, 1.0, y), _row("hh", 0, 1.0, y[:5])], RUN_TASK, y, MANIFEST, "0.1.0")
    with pytest.raises(DataError, match="seed 0"):
        merge([_row("mlp", 0, 1.0, y), _row("hh", 0, 1.0, y)], RUN_TASK, {1: y}, MANIFEST, "0.1.0")
    with pytest.raises(DataError, match="no finished rows"):
        merge([], RUN_TASK, y, MANIFEST, "0.1.0")


def test_merge_needs_the_headline_score_of_the_task_kind():
    # the schema cannot know every registered kind's scores; merge checks them by the kind
    y = np.arange(10) % 2
    row = _row("mlp", 0, 1.0, y)
    del row["metrics"]["test_accuracy"]
    with pytest.raises(DataError, match="no metrics.test_accuracy for a classification task"):
        merge([row], RUN_TASK, y, MANIFEST, "0.1.0")


def test_merge_needs_n_fit_unless_the_split_is_fixed():
    y = np.arange(10) % 2
    with pytest.raises(DataError, match="n_fit"):
        merge([_row("mlp", 0, 1.0, y)], TASK, y, MANIFEST, "0.1.0")
    doc = merge([_row("mlp", 0, 1.0, y)], dict(TASK, fixed_split=True), y, MANIFEST, "0.1.0")
    assert doc["summary"][0]["test_accuracy"]["mean"] == 1.0


def test_merge_validates_the_document_it_builds():
    y = np.arange(10) % 2
    task = {k: v for k, v in RUN_TASK.items() if k != "metric"}
    with pytest.raises(DataError, match=r"results document is invalid.*'metric'"):
        merge([_row("mlp", 0, 1.0, y)], task, y, MANIFEST, "0.1.0")


def test_write_results_round_trips_a_merged_document(tmp_path, run_doc):
    path = write_results(tmp_path, run_doc)
    assert path == tmp_path / "results.json"
    assert json.loads(path.read_text(encoding="utf-8")) == run_doc


def test_write_results_round_trip_and_refuses_invalid(tmp_path):
    path = write_results(tmp_path, DESIGN_EXAMPLE)
    assert path == tmp_path / "results.json"
    assert json.loads(path.read_text()) == DESIGN_EXAMPLE
    bad = copy.deepcopy(DESIGN_EXAMPLE)
    del bad["task"]
    with pytest.raises(DataError, match="task"):
        write_results(tmp_path / "other", bad)
    assert not (tmp_path / "other").exists()
