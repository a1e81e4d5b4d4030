"""Calibration of predicted probabilities: top-label expected calibration error (ECE) with
equal-mass bins, its bootstrap interval and the floor a perfect model would show, reliability
diagrams.

Every function is pure and returns plain Python numbers and lists (the figure returns PNG bytes).

References: Naeini, Cooper & Hauskrecht (2015), AAAI (ECE); Guo et al. (2017), ICML (top-label
ECE and reliability diagrams of neural networks); Nixon et al. (2019), CVPR Workshops and
Roelofs et al. (2022), AISTATS (equal-mass bins, the bias of binned ECE at finite sample sizes).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from neurotwin.errors import ConfigError, DataError, open_unit, shown
from neurotwin.evaluation.diagnosis import check_labels_proba

N_BINS = 15
#: Bootstrap rows (resamples or simulated label sets) handled at once, times n, at most.
_CHUNK = 2_000_000


def expected_calibration_error(
    y_true: ArrayLike, proba: ArrayLike, *, n_bins: int = N_BINS
) -> float:
    """Top-label expected calibration error with ``n_bins`` equal-mass bins.

    Each test sample i has a confidence c_i = max_k p_ik (the probability of the predicted class
    ŷ_i = argmax_k p_ik) and is correct when ŷ_i = y_i. The n samples are sorted by confidence
    (a stable sort, so ties keep their input order) and cut into ``n_bins`` consecutive bins of
    nearly equal count, as ``np.array_split`` does (the first n mod n_bins bins hold one sample
    more; with n < n_bins the bins past the n-th are empty and ignored). For bin b with n_b
    samples, accuracy acc_b = mean of 1[ŷ_i = y_i] and confidence conf_b = mean of c_i over it:

        ECE = Σ_b (n_b / n) · |acc_b − conf_b|

    0 is perfect; the ECE of a finite test set is positive even for a perfectly calibrated model
    (see :func:`ece_with_ci` for that floor).
    """
    conf, correct = _sorted_confidence(y_true, proba, what="expected_calibration_error")
    edges = _edges(conf.size, _bins(n_bins))
    return float(_ece_rows(conf[None, :], correct[None, :].astype(float), edges)[0])


def ece_with_ci(
    y_true: ArrayLike,
    proba: ArrayLike,
    *,
    n_bins: int = N_BINS,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    n_sim: int = 200,
) -> dict:
    """Top-label ECE (:func:`expected_calibration_error`) with a bootstrap interval and the floor
    that a perfectly calibrated model would show on a test set of this size.

    - ``ece``: the ECE of the test set.
    - ``ci95``: percentile bootstrap interval [q_{(1−level)/2}, q_{(1+level)/2}] of the ECE over
      ``n_boot`` resamples of the n test samples with replacement (bins re-cut on each resample);
      the key says 95 because that is the default ``level``. The ECE is a sum of absolute
      values, so resampling adds its own noise on top and the bootstrap distribution sits above
      the estimate; for a model near the floor the interval can lie wholly above ``ece``. It
      shows the spread due to the test set for clearly miscalibrated models; for well-calibrated
      ones compare ``ece`` with ``floor`` / ``floor_ci95`` instead.
    - ``floor``: the mean ECE of a perfectly calibrated model with these same confidences. A
      finite test set gives a positive ECE even to a perfect model — within a bin the accuracy is
      an average of n_b coin flips and |acc_b − conf_b| is about sqrt(conf_b(1 − conf_b)/n_b) > 0
      — so an ECE is only meaningful beside this floor, which shrinks like 1/sqrt(n). It is
      estimated by simulation: ``n_sim`` times, each sample's label is drawn from the model's own
      distribution Categorical(p_i) (for these labels the model *is* perfectly calibrated) and
      the ECE recomputed. Only whether the drawn label is the argmax matters to the top-label ECE,
      and that happens with probability c_i, so the draw is made as the equivalent
      Bernoulli(c_i) "correct" flag.
    - ``floor_ci95``: the central ``level`` range [q_{(1−level)/2}, q_{(1+level)/2}] of those
      simulated ECEs: where a perfect model's ECE falls at this test size.
    - ``n_bins``, ``n``: the bin count and the number of test samples.

    The bootstrap and the simulation draw from two independent streams of
    ``numpy.random.SeedSequence(seed)``, so the same seed gives the same result.
    """
    conf, correct = _sorted_confidence(y_true, proba, what="ece_with_ci")
    n_bins = _bins(n_bins)
    n_boot = _count(n_boot, "n_boot")
    n_sim = _count(n_sim, "n_sim")
    level = open_unit(level, "level")
    n = conf.size
    edges = _edges(n, n_bins)
    correct_f = correct.astype(float)
    ece = float(_ece_rows(conf[None, :], correct_f[None, :], edges)[0])
    boot_ss, sim_ss = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(boot_ss)
    boot = []
    for rows in _chunks(n_boot, n):
        # drawing indices into the confidence-sorted arrays and sorting them keeps each resample
        # sorted by confidence (ties in index order), so bins are cut without another argsort
        idx = np.sort(rng.integers(0, n, size=(rows, n)), axis=1)
        boot.append(_ece_rows(conf[idx], correct_f[idx], edges))
    rng = np.random.default_rng(sim_ss)
    sims = []
    for rows in _chunks(n_sim, n):
        hits = (rng.random((rows, n)) < conf).astype(float)
        sims.append(_ece_rows(np.broadcast_to(conf, (rows, n)), hits, edges))
    q = [(1 - level) / 2, (1 + level) / 2]
    boot_a, sims_a = np.concatenate(boot), np.concatenate(sims)
    return {
        "ece": ece,
        "ci95": [float(v) for v in np.quantile(boot_a, q)],
        "floor": float(sims_a.mean()),
        "floor_ci95": [float(v) for v in np.quantile(sims_a, q)],
        "n_bins": n_bins,
        "n": int(n),
    }


def reliability_diagram(y_true: ArrayLike, proba: ArrayLike, *, n_bins: int = N_BINS) -> dict:
    """Points of a reliability diagram on the equal-mass bins of
    :func:`expected_calibration_error`.

    Returns ``{"confidence": [conf_b …], "accuracy": [acc_b …], "count": [n_b …], "ece", "n_bins",
    "n"}``: per non-empty bin, in order of rising confidence, the mean confidence, the accuracy
    (fraction of correct top-label predictions) and the sample count; and the ECE they add up
    to, Σ_b (n_b / n) · |acc_b − conf_b|.
    """
    conf, correct = _sorted_confidence(y_true, proba, what="reliability_diagram")
    n_bins = _bins(n_bins)
    n = conf.size
    pieces = [
        (float(c.mean()), float(k.mean()), int(c.size))
        for c, k in zip(np.array_split(conf, n_bins), np.array_split(correct, n_bins), strict=True)
        if c.size
    ]
    ece = sum(cnt / n * abs(acc - cf) for cf, acc, cnt in pieces)
    return {
        "confidence": [p[0] for p in pieces],
        "accuracy": [p[1] for p in pieces],
        "count": [p[2] for p in pieces],
        "ece": float(ece),
        "n_bins": n_bins,
        "n": int(n),
    }


def reliability_png(curves: Mapping[str, Mapping], *, title: str) -> bytes:
    """A reliability diagram as PNG bytes (about 5 × 4 in): the diagonal accuracy = confidence
    (perfect calibration) dashed, and one line with markers per model, ``curves`` mapping each
    model name to a :func:`reliability_diagram` dict (its ``ece``, when present, is shown in the
    legend). Points below the diagonal are over-confident, above it under-confident."""
    from neurotwin.plots import new_figure, png_bytes  # matplotlib only when a figure is drawn

    if not curves:
        raise DataError("reliability_png needs at least one model's reliability curve")
    fig = new_figure(5.0, 4.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="0.5", linewidth=1, label="perfect calibration")
    for name, curve in curves.items():
        try:
            x = np.asarray(curve["confidence"], dtype=float)
            y = np.asarray(curve["accuracy"], dtype=float)
        except (KeyError, TypeError, ValueError):
            raise DataError(
                f"reliability_png needs 'confidence' and 'accuracy' lists for {shown(name)}"
            ) from None
        if x.shape != y.shape or x.ndim != 1:
            raise DataError(f"reliability_png got unequal confidence/accuracy for {shown(name)}")
        label = str(name)
        if curve.get("ece") is not None:
            label += f" (ECE {float(curve['ece']):.3f})"
        ax.plot(x, y, marker="o", markersize=4, linewidth=1.5, label=label)
    ax.set_xlim(-0.02, 1.02)  # room for the markers of bins at confidence 1
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("confidence (mean of bin)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return png_bytes(fig)


# --------------------------------------------------------------------------- helpers


def _sorted_confidence(y_true, proba, *, what: str):
    """Confidences c_i = max p_i, sorted ascending (stable), and the matching correct flags."""
    y, p = check_labels_proba(y_true, proba, what=what)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    order = np.argsort(conf, kind="stable")
    return conf[order], correct[order]


def _edges(n: int, n_bins: int) -> np.ndarray:
    """Bin boundaries 0 = e_0 ≤ … ≤ e_B = n of ``np.array_split(range(n), n_bins)``."""
    size, extra = divmod(n, n_bins)
    sizes = np.full(n_bins, size)
    sizes[:extra] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


def _ece_rows(conf: np.ndarray, correct: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """ECE of each row of ``(rows, n)`` confidence-sorted arrays, bins cut at ``edges``."""
    zeros = np.zeros((conf.shape[0], 1))
    c = np.concatenate([zeros, np.cumsum(conf, axis=1)], axis=1)
    k = np.concatenate([zeros, np.cumsum(correct, axis=1)], axis=1)
    # per bin: n_b/n · |acc_b − conf_b| = |Σ correct − Σ conf| / n
    gap = np.abs(np.diff(k[:, edges], axis=1) - np.diff(c[:, edges], axis=1))
    return gap.sum(axis=1) / conf.shape[1]


def _chunks(total: int, n: int):
    per = max(1, _CHUNK // max(n, 1))
    for start in range(0, total, per):
        yield min(per, total - start)


def _bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ConfigError(f"n_bins must be a positive integer, got {shown(n_bins)}")
    return int(n_bins)


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {shown(value)}")
    return int(value)
