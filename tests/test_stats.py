"""Checks of the comparison statistics against scipy's own implementations and hand counts."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from neurotwin.errors import DataError
from neurotwin.stats import (
    corrected_resampled_ttest,
    holm,
    mcnemar_exact,
    mean_ci95,
    median_range,
    wilcoxon_paired,
)


def _table(n11: int, n01: int, n10: int, n00: int):
    """y_true and two prediction arrays whose 2x2 correctness table is the one given.

    n11: both right, n01: a wrong and b right, n10: a right and b wrong, n00: both wrong.
    """
    blocks = [(n11, 0, 0), (n01, 1, 0), (n10, 0, 1), (n00, 1, 1)]
    y = np.concatenate([np.zeros(n, dtype=int) for n, _, _ in blocks])
    a = np.concatenate([np.full(n, a_wrong, dtype=int) for n, a_wrong, _ in blocks])
    b = np.concatenate([np.full(n, 2 * b_wrong, dtype=int) for n, _, b_wrong in blocks])
    return y, a, b


@pytest.mark.parametrize(("n01", "n10"), [(3, 11), (11, 3), (0, 7), (5, 5), (1, 0), (20, 35)])
def test_mcnemar_p_equals_exact_binomial_test(n01, n10):
    y, a, b = _table(40, n01, n10, 6)
    p, got01, got10 = mcnemar_exact(y, a, b)
    assert (got01, got10) == (n01, n10)
    assert p == pytest.approx(stats.binomtest(min(n01, n10), n01 + n10, 0.5).pvalue, rel=1e-12)


def test_mcnemar_b3_c11_hand_value():
    # 2 * sum_{k<=3} C(14, k) / 2^14 = 2 * (1 + 14 + 91 + 364) / 16384
    y, a, b = _table(10, 3, 11, 2)
    p, _, _ = mcnemar_exact(y, a, b)
    assert p == pytest.approx(2 * 470 / 16384, rel=1e-12)


def test_mcnemar_without_discordant_pairs_is_one():
    y, a, b = _table(30, 0, 0, 4)
    assert mcnemar_exact(y, a, b) == (1.0, 0, 0)


def test_mcnemar_rejects_unequal_lengths():
    with pytest.raises(DataError):
        mcnemar_exact([0, 1, 2], [0, 1, 2], [0, 1])


def test_mean_ci95_matches_student_t_interval():
    values = [0.91, 0.95, 0.93, 0.97]
    out = mean_ci95(values)
    x = np.array(values)
    lo, hi = stats.t.interval(0.95, df=3, loc=x.mean(), scale=stats.sem(x))
    assert out["n"] == 4
    assert out["mean"] == pytest.approx(0.94)
    assert out["std"] == pytest.approx(np.sqrt(0.002 / 3))  # sum of squares 0.002, ddof=1
    assert out["ci95"] == pytest.approx([lo, hi])


def test_mean_ci95_two_values_hand_value():
    # n=2: s = |3 - 1| / sqrt(2) = sqrt(2), so the half-width t_{0.975,1} * s / sqrt(2) = 12.7062...
    out = mean_ci95([1.0, 3.0])
    assert out["mean"] == 2.0
    assert out["ci95"] == pytest.approx([2.0 - 12.706204736, 2.0 + 12.706204736])


def test_mean_ci95_single_value_has_no_interval():
    assert mean_ci95([0.8]) == {"mean": 0.8, "std": 0.0, "ci95": None, "n": 1}


def test_mean_ci95_rejects_empty():
    with pytest.raises(DataError):
        mean_ci95([])


def test_wilcoxon_equals_scipy():
    rng = np.random.default_rng(0)
    err_a = rng.random(40) ** 2
    err_b = err_a + rng.normal(0.05, 0.1, size=40)
    assert wilcoxon_paired(err_a, err_b) == pytest.approx(stats.wilcoxon(err_a - err_b).pvalue)


def test_wilcoxon_identical_errors_is_one():
    err = np.array([0.1, 0.4, 0.0, 2.0])
    assert wilcoxon_paired(err, err.copy()) == 1.0


# --- mean_ci95 with the Nadeau-Bengio ratio -------------------------------------------------------


def test_mean_ci95_without_ratio_keeps_its_keys():
    assert set(mean_ci95([0.1, 0.2, 0.4])) == {"mean", "std", "ci95", "n"}


def test_mean_ci95_ratio_zero_is_the_plain_interval():
    values = [0.91, 0.95, 0.93, 0.97]
    plain = mean_ci95(values)
    out = mean_ci95(values, ratio=0.0)
    assert out["correction"] == "none"
    assert {k: out[k] for k in plain} == plain


def test_mean_ci95_ratio_widens_by_the_nadeau_bengio_factor():
    # n=4, ratio=0.5: the half-width grows by sqrt((1/4 + 1/2) / (1/4)) = sqrt(3).
    values = [0.91, 0.95, 0.93, 0.97]
    plain = mean_ci95(values)
    out = mean_ci95(values, ratio=0.5)
    assert out["correction"] == "nadeau_bengio"
    assert (out["mean"], out["std"], out["n"]) == (plain["mean"], plain["std"], plain["n"])
    half_plain = plain["ci95"][1] - plain["mean"]
    half = out["ci95"][1] - out["mean"]
    assert half == pytest.approx(math.sqrt(3) * half_plain, rel=1e-12)
    assert out["mean"] - out["ci95"][0] == pytest.approx(half, rel=1e-12)


def test_mean_ci95_two_values_with_ratio_hand_value():
    # n=2, values 1 and 3: s^2 = 2, ratio 1 -> SE = sqrt((1/2 + 1) * 2) = sqrt(3);
    # t_{0.975,1} = tan(0.95 * pi / 2) = 12.7062047...
    out = mean_ci95([1.0, 3.0], ratio=1.0)
    half = math.tan(0.95 * math.pi / 2) * math.sqrt(3)
    assert out["ci95"] == pytest.approx([2.0 - half, 2.0 + half], rel=1e-12)


@pytest.mark.parametrize("ratio", [-0.1, float("nan"), float("inf")])
def test_mean_ci95_rejects_bad_ratio(ratio):
    with pytest.raises(DataError, match="ratio"):
        mean_ci95([1.0, 2.0], ratio=ratio)


# --- corrected resampled t-test -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw", [{"n_test": 0, "n_fit": 800}, {"n_test": 200, "n_fit": 800, "fixed_split": True}]
)
def test_corrected_ttest_without_ratio_is_scipy_one_sample_t(kw):
    diffs = [0.012, -0.004, 0.021, 0.008, 0.015]
    out = corrected_resampled_ttest(diffs, **kw)
    ref = stats.ttest_1samp(diffs, 0.0)
    assert out["ratio"] == 0.0
    assert out["correction"] == "none (fixed split)"
    assert out["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert out["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert out["df"] == 4
    lo, hi = stats.t.interval(0.95, df=4, loc=np.mean(diffs), scale=stats.sem(diffs))
    assert out["ci95"] == pytest.approx([lo, hi], rel=1e-12)


def test_corrected_ttest_hand_example():
    # d = [1, 2, 3]: mean 2, s^2 = 1, k = 3; n_test/n_fit = 1/4.
    # SE = sqrt((1/3 + 1/4) * 1) = sqrt(7/12) = 0.76376261582597...
    # t = 2 / SE = 2.61861468283190..., df = 2.
    # Student t with 2 df has P(|T| > t) = 1 - t / sqrt(2 + t^2); here t^2 = 48/7, so
    # p = 1 - sqrt(24/31) = 0.12011730987188...
    # Its quantile is t_q = a * sqrt(2 / (1 - a^2)) with a = 2q - 1:
    # t_{0.975} = 0.95 * sqrt(2 / 0.0975) = 4.30265272974946..., t_{0.8} = 0.6 * sqrt(2 / 0.64)
    # = 1.06066017177982..., so the half-width is 4.3026527 * SE = 3.28620530386421... and
    # mdd = (4.3026527 + 1.0606602) * SE = 4.09629789116520...
    out = corrected_resampled_ttest([1.0, 2.0, 3.0], n_test=100, n_fit=400)
    assert out["correction"] == "nadeau_bengio"
    assert (out["n"], out["df"], out["ratio"]) == (3, 2, 0.25)
    assert out["mean"] == pytest.approx(2.0, rel=1e-15)
    assert out["std"] == pytest.approx(1.0, rel=1e-15)
    assert out["se"] == pytest.approx(0.7637626158259734, rel=1e-12)
    assert out["t"] == pytest.approx(2.6186146828319083, rel=1e-12)
    assert out["p"] == pytest.approx(0.1201173098718803, rel=1e-10)
    assert out["ci95"] == pytest.approx([2.0 - 3.2862053038642145, 2.0 + 3.2862053038642145])
    assert out["mdd"] == pytest.approx(4.096297891165197, rel=1e-10)
    assert (out["alpha"], out["power"]) == (0.05, 0.8)


def test_corrected_ttest_interval_widens_by_exact_factor_and_p_grows():
    diffs = [0.03, 0.01, 0.02, 0.05, 0.00, 0.04]
    k = len(diffs)
    plain = corrected_resampled_ttest(diffs, n_test=0, n_fit=900)
    corrected = corrected_resampled_ttest(diffs, n_test=100, n_fit=900)
    factor = math.sqrt((1 / k + 1 / 9) / (1 / k))
    for out in (plain, corrected):
        assert out["ci95"][0] < out["mean"] < out["ci95"][1]
    half_plain = plain["ci95"][1] - plain["mean"]
    half = corrected["ci95"][1] - corrected["mean"]
    assert half == pytest.approx(factor * half_plain, rel=1e-12)
    assert corrected["se"] == pytest.approx(factor * plain["se"], rel=1e-12)
    assert corrected["p"] > plain["p"]


def test_corrected_ttest_mdd_at_power_one_half_is_the_ci_half_width():
    # t_{0.5, df} = 0, so at alpha 0.05 the mdd is t_{0.975, df} * SE: the 95 % CI half-width.
    out = corrected_resampled_ttest([0.2, -0.1, 0.4, 0.3], n_test=50, n_fit=200, power=0.5)
    assert out["mdd"] == pytest.approx(out["ci95"][1] - out["mean"], rel=1e-12)


def test_corrected_ttest_difference_of_mdd_is_detected_with_stated_power():
    # A true mean difference of mdd makes the expected t about t_crit + t_power: check the
    # approximation behind mdd on the noncentral t (df = 9), whose power is close to 0.8.
    out = corrected_resampled_ttest(np.linspace(-1.0, 1.0, 10), n_test=0, n_fit=1)
    df, nc = out["df"], out["mdd"] / out["se"]
    crit = stats.t.ppf(0.975, df)
    power = stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)
    assert power == pytest.approx(0.8, abs=0.02)


def test_corrected_ttest_one_seed_has_no_test():
    out = corrected_resampled_ttest([0.03], n_test=100, n_fit=400)
    assert out["n"] == 1 and out["mean"] == 0.03 and out["df"] == 0
    for key in ("se", "t", "p", "ci95", "mdd"):
        assert out[key] is None


@pytest.mark.parametrize("kw", [{"n_test": 100, "n_fit": 400}, {"n_test": 0, "n_fit": 400}])
def test_corrected_ttest_zero_spread(kw):
    same = corrected_resampled_ttest([0.0, 0.0, 0.0], **kw)
    assert (same["t"], same["p"], same["std"], same["se"], same["mdd"]) == (0.0, 1.0, 0.0, 0.0, 0.0)
    shifted = corrected_resampled_ttest([0.1, 0.1, 0.1], **kw)  # 0.1 * 3 / 3 is not 0.1 exactly
    assert shifted["t"] is None and shifted["p"] == 0.0 and shifted["mdd"] == 0.0
    assert shifted["std"] == 0.0 and shifted["ci95"] == [0.1, 0.1]
    json.dumps(shifted, allow_nan=False)


def test_corrected_ttest_result_is_json_safe_plain_numbers():
    out = corrected_resampled_ttest(np.array([0.1, 0.3, 0.2]), n_test=10, n_fit=90)
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    for key in ("mean", "std", "ratio", "se", "t", "p", "mdd", "alpha", "power"):
        assert type(out[key]) is float
    assert type(out["n"]) is int and type(out["df"]) is int


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_corrected_ttest_rejects_non_finite_differences(bad):
    with pytest.raises(DataError, match="NaN or infinite"):
        corrected_resampled_ttest([0.1, bad, 0.2], n_test=10, n_fit=90)


@pytest.mark.parametrize(
    "kw",
    [
        {"n_test": 10, "n_fit": 0},
        {"n_test": -1, "n_fit": 90},
        {"n_test": None, "n_fit": 90},
        {"n_test": 10, "n_fit": 90, "alpha": 0.0},
        {"n_test": 10, "n_fit": 90, "power": 1.0},
    ],
)
def test_corrected_ttest_rejects_bad_settings(kw):
    with pytest.raises(DataError):
        corrected_resampled_ttest([0.1, 0.2], **kw)


def test_corrected_ttest_rejects_empty():
    with pytest.raises(DataError):
        corrected_resampled_ttest([], n_test=10, n_fit=90)


# --- Holm -----------------------------------------------------------------------------------------


def test_holm_textbook_example():
    # sorted: 0.005 * 4 = 0.02, 0.01 * 3 = 0.03, 0.03 * 2 = 0.06, 0.04 * 1 = 0.04 -> max(0.06, 0.04)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_is_monotone_in_the_raw_order_and_never_below_raw():
    rng = np.random.default_rng(1)
    raw = list(rng.random(12) ** 3)
    adj = holm(raw)
    order = np.argsort(raw, kind="stable")
    assert all(adj[i] <= adj[j] for i, j in zip(order[:-1], order[1:], strict=True))
    assert all(a >= p for a, p in zip(adj, raw, strict=True))


def test_holm_caps_at_one_and_single_value_is_unchanged():
    assert holm([0.4, 0.6, 0.9]) == [1.0, 1.0, 1.0]
    assert holm([0.037]) == [0.037]
    assert holm([]) == []


def test_holm_passes_none_through_without_counting_it():
    assert holm([None, 0.01, None, 0.04]) == pytest.approx([None, 0.02, None, 0.04])
    assert holm([None]) == [None]


@pytest.mark.parametrize("bad", [float("nan"), -0.1, 1.5])
def test_holm_rejects_invalid_p(bad):
    with pytest.raises(DataError, match="position 1"):
        holm([0.1, bad])


# --- median and range -----------------------------------------------------------------------------


def test_median_range_odd_and_even():
    assert median_range([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}
    assert median_range([4, 1, 10, 2]) == {"median": 3.0, "min": 1.0, "max": 10.0, "n": 4}


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")]])
def test_median_range_rejects_empty_or_non_finite(bad):
    with pytest.raises(DataError):
        median_range(bad)
