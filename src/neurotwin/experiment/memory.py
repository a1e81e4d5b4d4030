"""Associative long-term memory experiments: the Python API behind ``neurotwin memory capacity``.

>>> from neurotwin.experiment.memory import capacity
>>> result = capacity("hebbian", n=200, trials=3, seed=0)
>>> result.summary["critical_alpha"]["value"]          # ≈ 0.18 at N = 200 (0.138 as N → ∞)
>>> result.save("runs/memory-capacity-hebbian")     # summary.json, figures/*.png, memory.html

**Capacity sweep** (:func:`capacity`). For each load α = P/N of ``loads`` and each of ``trials``
trials, P random patterns ξ^μ ∈ {−1, +1}^N (each bit ±1 with probability ½) are stored with
``rule`` (``hebbian``, ``storkey`` — :class:`~neurotwin.brain.memory.Hopfield` — or ``modern``
— :class:`~neurotwin.brain.memory.ModernHopfield` with inverse temperature ``beta``). Every
stored pattern is then used as a cue twice: as it is (*clean*), and with ``round(noise·N)`` of
its bits flipped at random (*noisy*). The classical networks run asynchronously (a fresh random
order each sweep) until no unit changes, at most ``max_sweeps`` sweeps; the modern one takes
:data:`MODERN_STEPS` steps and its state is read out as its sign. For each cue the overlap
m = (1/N) s · ξ with the pattern it came from measures the recall:

- ``exact``: the fraction of cues that end on their pattern exactly (m = 1);
- ``overlap ≥ 0.95``: the fraction that end within 5 % of their bits of it.

The **critical load** α_c is where the clean cues' ``overlap ≥ 0.95`` fraction first falls below
½, interpolated linearly between the two loads around it. The theory: α_c = 0.138 for Hebb's rule
as N → ∞ (Amit, Gutfreund & Sompolinsky 1985; at finite N the transition is smeared and sits
higher), P ≈ N / √(2 ln N) for Storkey's (Storkey 1997), and exponentially many patterns in N for
the modern network (Ramsauer et al. 2020). Patterns and noise are drawn from ``seed`` alone (not
the rule), so every rule sees the same patterns at the same (n, P, trial).

**Pattern completion** (:func:`completion`): the 8×8 scikit-learn digits, binarised (pixel > 7 of
0–16 → +1, else −1), give one prototype per class in ``digits`` (the sign of the class's mean
binarised image). The prototypes are stored and cued with noisy versions (a fraction
``noise`` of bits flipped), with partial ones (the bottom half unknown, 0) and with every real
binarised image of those classes; the recall is scored against the cue's own prototype.
Prototypes of digits share their background, so they are correlated, not random: Hebb's rule,
whose capacity assumes uncorrelated patterns, fails on them where Storkey's rule and the modern
network succeed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurotwin import __version__
from neurotwin.brain.memory import Hopfield, ModernHopfield, overlap
from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError, shown
from neurotwin.experiment.simulate import check_out, check_seed

RULES = ("hebbian", "storkey", "modern")
#: Units at most: the weights are N × N and the asynchronous sweeps cost O(P·N²) each.
MAX_N = 1000
MAX_TRIALS = 100
#: The largest load α = P/N accepted: past 1 the classical networks store nothing; the modern
#: network's capacity is exponential, so it gets a wider range.
MAX_LOAD = {"hebbian": 1.0, "storkey": 1.0, "modern": 8.0}
DEFAULT_LOADS = {
    "hebbian": tuple(round(0.02 * k, 2) for k in range(1, 16)),  # 0.02 … 0.30
    "storkey": tuple(round(0.05 * k, 2) for k in range(1, 13)),  # 0.05 … 0.60
    "modern": (0.1, 0.25, 0.5, 1.0, 2.0, 4.0),
}
#: α_c of Hebb's rule as N → ∞ (Amit, Gutfreund & Sompolinsky 1985).
HEBBIAN_ALPHA_C = 0.138
MODERN_STEPS = 3
RECALL_OVERLAP = 0.95
DIGIT_CLASSES = (0, 1, 7)
ENERGY_CUES = 8  # noisy cues whose energy the figure draws, per load shown


def theory_alpha(rule: str, n: int) -> float | None:
    """The critical load the literature gives: 0.138 (Hebb), 1/√(2 ln N) (Storkey), None
    (modern: exponential in N, no finite α)."""
    if rule == "hebbian":
        return HEBBIAN_ALPHA_C
    if rule == "storkey":
        return 1.0 / math.sqrt(2.0 * math.log(n))
    return None


# --- checks -----------------------------------------------------------------------------------


def _whole(name: str, value: Any, low: int, high: int, why: str = "") -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not (low <= value <= high)
    ):
        raise ConfigError(
            f"{name} must be a whole number from {low} to {high}{why}, got {shown(value)}"
        )
    return int(value)


def _fraction(name: str, value: Any, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a number from 0 to {high:g}, got {shown(value)}")
    value = float(value)
    if not (math.isfinite(value) and 0.0 <= value <= high):
        raise ConfigError(f"{name} must be a number from 0 to {high:g}, got {value}")
    return value


def check_rule(rule: Any) -> str:
    if rule not in RULES:
        raise ConfigError(f"unknown rule {shown(rule)}; choose one of: {', '.join(RULES)}")
    return rule


def check_n(n: Any) -> int:
    """N from 2 to :data:`MAX_N` (the weights are N × N; sweeps cost O(P·N²))."""
    return _whole("n", n, 2, MAX_N, " (the weights are N x N; larger runs take too long)")


def _check_loads(loads: Any, rule: str, n: int) -> tuple[float, ...]:
    if loads is None:
        loads = DEFAULT_LOADS[rule]
    if isinstance(loads, (str, bytes)) or not isinstance(loads, Sequence) or not loads:
        raise ConfigError(f"loads must be a non-empty list of numbers, got {shown(loads)}")
    top = MAX_LOAD[rule]
    out = []
    for alpha in loads:
        alpha = _fraction("each load", alpha, top)
        if round(alpha * n) < 1:
            raise ConfigError(f"load {alpha:g} stores no pattern at n = {n} (P = round(alpha*n))")
        out.append(alpha)
    if sorted(set(out)) != out:
        raise ConfigError("loads must be increasing, each given once")
    return tuple(out)


def _check_beta(beta: Any) -> float:
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)):
        raise ConfigError(f"beta must be a number > 0, got {shown(beta)}")
    if not (math.isfinite(float(beta)) and beta > 0):
        raise ConfigError(f"beta must be a finite number > 0, got {beta}")
    return float(beta)


# --- the result -------------------------------------------------------------------------------


@dataclass
class MemoryResult:
    """What :func:`capacity` measured.

    Attributes:
        summary: a JSON-able dict: rule, n, loads, trials, seed, noise, the recall fractions per
            load, the critical load with its theory, the completion results on digits and the
            figures' file names.
        arrays: numpy arrays: ``alpha`` and ``patterns`` (loads,); ``recall_exact``,
            ``recall_overlap``, ``noisy_exact``, ``noisy_overlap``, ``mean_overlap``,
            ``noisy_mean_overlap`` (loads,); ``energy`` (shown loads, steps + 1, cues) E/N along
            the recall of a few noisy cues, with ``energy_alpha`` (shown loads,); and, with the
            completion, ``digit_prototypes``, ``digit_noisy_cue``, ``digit_noisy_recall``,
            ``digit_partial_cue``, ``digit_partial_recall`` (classes, 8, 8).
    """

    summary: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def save(self, out: str | os.PathLike) -> Path:
        """Write ``out/summary.json``, ``out/figures/*.png`` and ``out/memory.html``, each
        atomically; returns ``out``."""
        from neurotwin.report.memory import write_memory

        path = check_out(out)
        write_memory(self, path)
        return path


def default_out(rule: str) -> Path:
    """``runs/memory-capacity-<rule>``, the CLI's folder when ``--out`` is not given."""
    return Path("runs") / f"memory-capacity-{rule}"


# --- recall -----------------------------------------------------------------------------------


def _flip(patterns: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """``patterns`` with exactly ``k`` bits of each row flipped, chosen at random."""
    if k == 0:
        return patterns.clone()
    scores = torch.rand(patterns.shape, generator=generator)
    chosen = scores.argsort(-1)[:, :k]
    sign = torch.ones_like(patterns).scatter_(1, chosen, -1.0)
    return patterns * sign


def _recall(
    rule: str, stored: torch.Tensor, cues: torch.Tensor, *, beta, max_sweeps, generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(final ±1 states (batch, N), energy (steps + 1, batch)) of ``cues`` after storing."""
    if rule == "modern":
        out = ModernHopfield(stored.shape[1], beta).store(stored).recall(cues, steps=MODERN_STEPS)
        states = torch.where(out.states >= 0, 1.0, -1.0)  # the sign; 0 (a tie) read as +1
        return states, out.energy
    out = (
        Hopfield(stored.shape[1], rule)
        .store(stored)
        .recall(cues, max_steps=max_sweeps, generator=generator)
    )
    return out.states, out.energy


def critical_load(alpha: np.ndarray, recall: np.ndarray, level: float = 0.5) -> float | None:
    """The load where ``recall`` first falls below ``level``, linear between the loads around
    it; None when it never does in range, or already does at the first load."""
    below = np.flatnonzero(recall < level)
    if len(below) == 0 or below[0] == 0:
        return None
    i = below[0]
    a0, a1, r0, r1 = alpha[i - 1], alpha[i], recall[i - 1], recall[i]
    return float(a0 + (r0 - level) / (r0 - r1) * (a1 - a0))


def capacity(
    rule: str = "hebbian",
    n: int = 200,
    loads: Sequence[float] | None = None,
    trials: int = 3,
    seed: int = 0,
    *,
    noise: float = 0.1,
    max_sweeps: int = 20,
    beta: float = 1.0,
    digits: bool = True,
    out: str | os.PathLike | None = None,
) -> MemoryResult:
    """Recall against load for ``rule`` at ``n`` units (see the module docstring); with
    ``digits`` also :func:`completion` on the digits; with ``out`` the result is saved there.
    Every input is checked before anything runs or is written."""
    rule, n = check_rule(rule), check_n(n)
    loads = _check_loads(loads, rule, n)
    trials = _whole("trials", trials, 1, MAX_TRIALS)
    seed = check_seed(seed)
    noise = _fraction("noise", noise, 0.5)
    max_sweeps = _whole("max_sweeps", max_sweeps, 1, 1000)
    beta = _check_beta(beta)
    if out is not None:
        check_out(out)
    theory = theory_alpha(rule, n)
    shown_loads = _energy_loads(loads, theory)
    keys = ("recall_exact", "recall_overlap", "noisy_exact", "noisy_overlap")
    sums = {k: np.zeros(len(loads)) for k in (*keys, "mean_overlap", "noisy_mean_overlap")}
    energy = []
    n_flip = round(noise * n)
    for li, alpha in enumerate(loads):
        p = round(alpha * n)
        for trial in range(trials):
            gen = torch_generator(seed, "memory", "patterns", n, p, trial)
            xi = torch.randint(0, 2, (p, n), generator=gen, dtype=torch.float32) * 2 - 1
            noisy = _flip(xi, n_flip, torch_generator(seed, "memory", "noise", n, p, trial))
            order = torch_generator(seed, "memory", "order", rule, n, p, trial)
            states, e = _recall(
                rule,
                xi,
                torch.cat([xi, noisy]),
                beta=beta,
                max_sweeps=max_sweeps,
                generator=order,
            )
            m = overlap(states, torch.cat([xi, xi])).numpy()
            clean, dirty = m[:p], m[p:]
            sums["recall_exact"][li] += (clean == 1).mean()
            sums["recall_overlap"][li] += (clean >= RECALL_OVERLAP).mean()
            sums["noisy_exact"][li] += (dirty == 1).mean()
            sums["noisy_overlap"][li] += (dirty >= RECALL_OVERLAP).mean()
            sums["mean_overlap"][li] += clean.mean()
            sums["noisy_mean_overlap"][li] += dirty.mean()
            if trial == 0 and alpha in shown_loads:
                steps = MODERN_STEPS if rule == "modern" else max_sweeps
                energy.append(_pad(e[:, p : p + ENERGY_CUES].numpy() / n, steps))
    arrays = {k: v / trials for k, v in sums.items()}
    alpha_arr = np.asarray(loads)
    arrays.update(
        alpha=alpha_arr,
        patterns=np.array([round(a * n) for a in loads]),
        energy=np.stack(energy),
        energy_alpha=np.asarray(shown_loads),
    )
    summary = {
        "kind": "memory_capacity",
        "neurotwin_version": __version__,
        "rule": rule,
        "n": n,
        "trials": trials,
        "seed": seed,
        "noise": noise,
        "flipped_bits": n_flip,
        "max_sweeps": max_sweeps if rule != "modern" else None,
        "modern_steps": MODERN_STEPS if rule == "modern" else None,
        "beta": beta if rule == "modern" else None,
        "recall_overlap_threshold": RECALL_OVERLAP,
        "loads": {
            "alpha": list(loads),
            "patterns": arrays["patterns"].tolist(),
            **{k: arrays[k].tolist() for k in sums},
        },
        "critical_alpha": {
            "value": critical_load(alpha_arr, arrays["recall_overlap"]),
            "exact_value": critical_load(alpha_arr, arrays["recall_exact"]),
            "criterion": "the load at which the fraction of clean cues recalled with overlap "
            ">= 0.95 (exact_value: exactly) falls below 0.5, linear between loads; null when "
            "it does not within the loads",
            "theory": theory,
            "theory_source": {
                "hebbian": "0.138 as N -> infinity (Amit, Gutfreund & Sompolinsky 1985)",
                "storkey": "N / sqrt(2 ln N) patterns (Storkey 1997)",
                "modern": "exponential in N (Ramsauer et al. 2020): no finite critical load",
            }[rule],
        },
    }
    result = MemoryResult(summary, arrays)
    if digits:
        done = completion(rule, seed=seed, noise=0.2, beta=beta, max_sweeps=max_sweeps)
        summary["completion"] = done.summary
        result.arrays.update(done.arrays)
    if out is not None:
        result.save(out)
    return result


def _energy_loads(loads: tuple[float, ...], theory: float | None) -> tuple[float, ...]:
    """The loads whose energy descent is drawn: the lowest, the one nearest the theory's α_c
    (or the middle one), the highest."""
    mid = (
        min(loads, key=lambda a: abs(a - theory)) if theory is not None else loads[len(loads) // 2]
    )
    return tuple(sorted({loads[0], mid, loads[-1]}))


def _pad(energy: np.ndarray, steps: int) -> np.ndarray:
    """``energy`` (k + 1, cues) padded to (steps + 1, :data:`ENERGY_CUES`): with its last row
    (a fixed point) down, with NaN (no such cue: P was smaller) across."""
    rows = max(steps, energy.shape[0] - 1) + 1
    energy = np.concatenate([energy, np.repeat(energy[-1:], rows - energy.shape[0], 0)])
    return np.pad(energy, ((0, 0), (0, ENERGY_CUES - energy.shape[1])), constant_values=np.nan)


# --- pattern completion on digits -------------------------------------------------------------


def binarised_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 digits as ±1 images (pixel > 7 of 0–16 → +1), (1797, 64), and labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return np.where(data.images > 7, 1.0, -1.0).reshape(-1, 64), data.target


def completion(
    rule: str = "hebbian",
    digits: Sequence[int] = DIGIT_CLASSES,
    *,
    seed: int = 0,
    noise: float = 0.2,
    beta: float = 1.0,
    max_sweeps: int = 20,
) -> MemoryResult:
    """Store one binarised prototype per class of ``digits`` and recall it from noisy, partial
    (bottom half 0) and real cues (see the module docstring)."""
    rule, seed = check_rule(rule), check_seed(seed)
    noise = _fraction("noise", noise, 0.5)
    classes = sorted({_whole("digit", d, 0, 9) for d in digits})
    images, labels = binarised_digits()
    proto = np.stack([np.where(images[labels == c].mean(0) > 0, 1.0, -1.0) for c in classes])
    xi = torch.tensor(proto, dtype=torch.float32)
    k = len(classes)
    noisy = _flip(xi, round(noise * 64), torch_generator(seed, "memory", "digits", "noise"))
    partial = xi.clone()
    partial[:, 32:] = 0.0
    real_mask = np.isin(labels, classes)
    real = torch.tensor(images[real_mask], dtype=torch.float32)
    real_target = np.searchsorted(classes, labels[real_mask])
    cues = torch.cat([noisy, partial, real])
    gen = torch_generator(seed, "memory", "digits", "order", rule)
    states, _ = _recall(rule, xi, cues, beta=beta, max_sweeps=max_sweeps, generator=gen)
    m_all = (states @ xi.T / 64).numpy()  # overlap of each final state with each prototype
    targets = np.concatenate([np.arange(k), np.arange(k), real_target])
    before = (cues @ xi.T / 64).numpy()[np.arange(len(cues)), targets]
    after = m_all[np.arange(len(cues)), targets]
    nearest = m_all.argmax(1) == targets

    def scores(rows: slice) -> dict[str, Any]:
        return {
            "cues": int(len(targets[rows])),
            "exact": float((after[rows] == 1).mean()),
            "nearest_prototype": float(nearest[rows].mean()),
            "overlap_before": float(before[rows].mean()),
            "overlap_after": float(after[rows].mean()),
        }

    summary = {
        "rule": rule,
        "digits": classes,
        "noise": noise,
        "flipped_bits": round(noise * 64),
        "prototype_overlaps": (xi @ xi.T / 64).numpy().round(4).tolist(),
        "noisy": scores(slice(0, k)),
        "partial": scores(slice(k, 2 * k)),
        "real": scores(slice(2 * k, None)),
    }
    img = lambda t: t.reshape(-1, 8, 8).numpy()  # noqa: E731
    arrays = {
        "digit_prototypes": proto.reshape(-1, 8, 8),
        "digit_noisy_cue": img(noisy),
        "digit_noisy_recall": img(states[:k]),
        "digit_partial_cue": img(partial),
        "digit_partial_recall": img(states[k : 2 * k]),
    }
    return MemoryResult(summary, arrays)
