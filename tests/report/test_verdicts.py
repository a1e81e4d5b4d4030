"""The verdicts in words: direction and size, detected or not at which n, never "equal"."""

from __future__ import annotations

import itertools
import re

import pytest

from neurotwin import kinds
from neurotwin.report.verdicts import format_difference, headline, sentence, short_verdict

MLP = {"model": "mlp", "variant": None}
HEB = {"model": "hebbian", "variant": None}
RFL = {"model": "hebbian", "variant": "random_first_layer"}


def _doc(kind="classification", fixed_split=False, verdicts=(), summary=()):
    return {
        "task": {
            "name": "digits",
            "kind": kind,
            "n_train": 1347,
            "n_test": 450,
            "metric": "accuracy" if kind == "classification" else "r2",
            "fixed_split": fixed_split,
        },
        "summary": list(summary),
        "verdicts": list(verdicts),
    }


def _verdict(a, b, mean, *, detected, p_holm=None, mdd=0.012, seeds=(0, 1, 2), ci=None, **kw):
    one_seed = len(seeds) == 1
    return {
        "a": a,
        "b": b,
        "relation": kw.get("relation", "vs_first"),
        "metric": "test_accuracy",
        "seeds": list(seeds),
        "n_test": kw.get("n_test", 450),
        "mean": mean,
        "ci95": None if one_seed else (ci or [mean - 0.01, mean + 0.01]),
        "p": None if one_seed else p_holm,
        "p_holm": None if one_seed else p_holm,
        "mdd": None if one_seed else mdd,
        "ratio": kw.get("ratio", 0.37),
        "detected": None if one_seed else detected,
    }


def test_undetected_difference_gives_direction_size_and_what_could_have_been_seen():
    v = _verdict(MLP, HEB, -0.004, detected=False, p_holm=0.62, ci=[-0.016, 0.008])
    text = sentence(v, _doc())
    assert text.startswith("hebbian is lower than mlp by 0.4 points of test accuracy")
    assert "(95 % CI -1.6 points to +0.8 points)" in text
    assert "not detected at n = 450 test samples × 3 seeds" in text
    assert "(p = 0.620; minimum detectable difference 1.2 points)" in text
    assert "better" not in text and "equal" not in text.lower()


def test_with_several_pairs_the_deciding_p_is_holm_adjusted_and_the_raw_p_shown():
    # the CI is not adjusted, so a CI that excludes 0 can sit beside "not detected": both p shown
    v = {**_verdict(MLP, HEB, 0.006, detected=False, p_holm=0.126, ci=[0.001, 0.011]), "p": 0.042}
    text = sentence(v, _doc(verdicts=[v, v, v, v]))
    assert "not detected at n = 450 test samples × 3 seeds (p = 0.042, 0.126 after Holm's " in text
    assert "correction over 4 pairs; minimum detectable difference" in text


@pytest.mark.parametrize(
    ("a", "b", "mean", "better"),
    [(RFL, HEB, 0.0711, "hebbian"), (MLP, RFL, -0.0751, "mlp")],
)
def test_detected_difference_names_the_better_model(a, b, mean, better):
    text = sentence(_verdict(a, b, mean, detected=True, p_holm=0.004), _doc())
    direction = "higher" if mean > 0 else "lower"
    size = f"{abs(mean) * 100:.1f} points"
    assert re.match(rf"{re.escape(b['model'])}.* is {direction} than .* by {size}", text)
    assert "detected (p = 0.004, n = 450 test samples × 3 seeds)" in text
    assert text.endswith(f": {better} is better.")
    assert "not detected" not in text and "minimum detectable" not in text


def test_tiny_p_is_written_as_below_a_thousandth():
    text = sentence(_verdict(MLP, RFL, -0.3, detected=True, p_holm=1e-7), _doc())
    assert "p = <0.001" in text


def test_one_seed_says_there_is_no_test_across_seeds():
    text = sentence(_verdict(MLP, HEB, 0.002, detected=None, seeds=(0,)), _doc())
    assert text.startswith("hebbian is higher than mlp by 0.2 points")
    assert "one seed, so no test across seeds (n = 450 test samples × 1 seed)" in text
    assert "1 seeds" not in text and "detected" not in text and "equal" not in text.lower()


def test_fixed_split_says_the_spread_is_initialisation_only():
    v = _verdict(MLP, HEB, -0.004, detected=False, p_holm=0.5, ratio=0.0)
    assert "initialisation only" in sentence(v, _doc(fixed_split=True))
    assert "initialisation" not in sentence(v, _doc(fixed_split=False))


def test_zero_difference_is_not_called_equal():
    text = sentence(_verdict(MLP, HEB, 0.0, detected=False, p_holm=1.0), _doc())
    assert "not detected at n = 450" in text
    assert "equal" not in text.lower() and "better" not in text


MEANS = (-0.12, -0.004, 0.0, 0.0003, 0.05)
DETECTED = (True, False, None)


@pytest.mark.parametrize(("mean", "detected"), list(itertools.product(MEANS, DETECTED)))
@pytest.mark.parametrize("kind", ["classification", "regression"])
def test_no_verdict_is_worded_as_equality(mean, detected, kind):
    seeds = (0,) if detected is None else (0, 1, 2, 3, 4)
    v = _verdict(MLP, HEB, mean, detected=detected, p_holm=0.01 if detected else 0.4, seeds=seeds)
    text = sentence(v, _doc(kind))
    assert "equal" not in text.lower() and "same performance" not in text.lower()
    if mean > 0:
        assert " is higher than " in text
    elif mean < 0:
        assert " is lower than " in text
    assert f"× {len(seeds)} seed" in text


def test_regression_differences_are_in_r2_units():
    v = _verdict(MLP, HEB, -0.031, detected=False, p_holm=0.3, mdd=0.05)
    text = sentence(v, _doc("regression"))
    assert "hebbian is lower than mlp by 0.031 R² of test R²" in text
    assert "minimum detectable difference 0.050 R²" in text


@pytest.fixture
def error_kind(monkeypatch):
    """A task kind whose metric is better when lower, registered for one test only."""
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    return kinds.register(
        kinds.TaskKind(
            name="error_rate",
            description="test only",
            target="class",
            metric="error",
            metric_label="error",
            scores=lambda y, p: {"error": 0.0},
            paired_test=kinds.MCNEMAR,
            stratify=True,
            higher_is_better=False,
        )
    )


def test_lower_is_better_kind_names_the_lower_model_better(error_kind):
    text = sentence(_verdict(MLP, HEB, -0.2, detected=True, p_holm=0.01), _doc("error_rate"))
    assert "hebbian is lower than mlp by 0.200 error" in text
    assert text.endswith(": hebbian is better.")


def test_headline_of_a_lower_is_better_kind_does_not_call_the_best_highest(error_kind):
    summary = [
        {**MLP, "test_error": {"mean": 0.30, "ci95": None, "n": 1}},
        {**HEB, "test_error": {"mean": 0.10, "ci95": None, "n": 1}},
    ]
    first = headline(_doc("error_rate", summary=summary))[0]
    assert "hebbian" in first
    assert "Highest" not in first


def test_headline_names_the_best_then_controls_then_the_first():
    summary = [
        {**MLP, "test_accuracy": {"mean": 0.9763, "ci95": [0.97, 0.98], "n": 3}},
        {**HEB, "test_accuracy": {"mean": 0.9723, "ci95": [0.96, 0.98], "n": 3}},
        {**RFL, "test_accuracy": {"mean": 0.9012, "ci95": [0.89, 0.91], "n": 3}},
    ]
    verdicts = [
        _verdict(MLP, HEB, -0.004, detected=False, p_holm=0.62),
        _verdict(MLP, RFL, -0.0751, detected=True, p_holm=0.002),
        _verdict(RFL, HEB, 0.0711, detected=True, p_holm=0.004, relation="vs_control"),
    ]
    lines = headline(_doc(summary=summary, verdicts=verdicts))
    assert lines[0] == "Highest mean test accuracy: mlp, 0.976 over 3 seed(s)."
    assert lines[1].startswith("hebbian is higher than hebbian (random_first_layer) by 7.1 points")
    assert lines[2].startswith("hebbian is lower than mlp by 0.4 points")
    assert lines[3].startswith("hebbian (random_first_layer) is lower than mlp by 7.5 points")
    assert len(lines) == 4


def test_headline_of_an_empty_document_is_empty():
    assert headline(_doc()) == []


@pytest.mark.parametrize(
    ("mean", "detected", "seeds", "cell"),
    [
        (-0.004, False, (0, 1, 2), "-0.4 not detected"),
        (0.0711, True, (0, 1, 2), "+7.1 detected"),
        (0.003, None, (0,), "+0.3 untested (1 seed)"),
    ],
)
def test_short_verdict_is_a_signed_difference_in_points(mean, detected, seeds, cell):
    v = _verdict(MLP, HEB, mean, detected=detected, p_holm=0.01, seeds=seeds)
    assert short_verdict(v, _doc()) == cell


def test_short_verdict_of_an_untested_pair_is_a_dash():
    assert short_verdict(None, _doc()) == "—"


@pytest.mark.parametrize(
    ("value", "kind", "signed", "text"),
    [
        (0.004, "classification", False, "0.4 points"),
        (-0.004, "classification", False, "0.4 points"),
        (-0.004, "classification", True, "-0.4 points"),
        (0.0751, "classification", True, "+7.5 points"),
        (0.0312, "regression", False, "0.031 R²"),
        (None, "classification", False, "—"),
    ],
)
def test_format_difference(value, kind, signed, text):
    assert format_difference(value, kinds.get(kind), signed) == text
