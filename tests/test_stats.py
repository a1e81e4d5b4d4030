"""Checks of the comparison statistics against scipy's own implementations and hand counts."""

import numpy as np
import pytest
from scipy import stats

from neurotwin.errors import DataError
from neurotwin.stats import mcnemar_exact, mean_ci95, wilcoxon_paired, within_noise


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


def test_within_noise_needs_every_seed_above_alpha():
    assert within_noise([0.2, 0.05, 0.9]) is True
    assert within_noise([0.2, 0.049, 0.9]) is False
    assert within_noise([0.02], alpha=0.01) is True
    assert within_noise([]) is None
