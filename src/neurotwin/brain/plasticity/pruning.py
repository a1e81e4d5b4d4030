"""Synaptic pruning and regrowth on a :class:`~neurotwin.core.Synapses`' ``mask``.

A pruning step removes ``n_remove = round(f × N)`` of the N currently unmasked synapses (f the
``fraction``; Python's ``round``, as the lesion probe), so exactly N − n_remove are left, chosen
by a score, lowest first:

- **magnitude** (:func:`prune_by_magnitude_`): |w_ij|, the weakest go first (Han et al. 2015,
  "Learning both weights and connections for efficient neural networks");
- **activity** (:func:`prune_by_activity_`): a recorded mean activity, the least used go first —
  per synapse (post, pre) (e.g. the mean of |x_j y_i|), or per presynaptic neuron (pre,) (e.g.
  ``record_presynaptic_means().mean(layer)``), with ties broken by |w|, the weakest first;
- **random** (:func:`prune_random_`): uniform scores from a ``torch.Generator``.

Remaining ties are broken by position (the lower row-major index goes first), so a step is
deterministic. Only the mask changes; the weights of pruned synapses are kept (a pruned synapse
contributes nothing, and ``apply_dw_`` never changes it), so regrowth can revive them.

**Development** (:class:`DevelopmentalPruning`): brains over-produce synapses and then eliminate many
of them (Huttenlocher 1979; at a decreasing rate, which Navlakha, Barth & Bar-Joseph 2015, PLoS
Comput. Biol. 11:e1004347, found builds more efficient and robust networks than a constant rate).
Step 0 regrows a fraction of the masked synapses at random (the over-growth, to the peak count P);
steps 1…n prune to ``P − round((1 − keep) · P · g(k/n))`` with g(u) = u (``"linear"``) or
g(u) = 1 − (1 − u)³ (``"decreasing"``, the cubic schedule of Zhu & Gupta 2017), so after step n
exactly ``P − round((1 − keep) · P)`` synapses are left.
"""

from __future__ import annotations

import math

import torch

from neurotwin.brain.plasticity._checks import check_fraction, positive_int, vector
from neurotwin.core.synapses import Synapses
from neurotwin.errors import ConfigError, DataError, shown

CRITERIA = ("magnitude", "activity", "random")
SCHEDULES = ("linear", "decreasing")


def _order(keys: list[torch.Tensor]) -> torch.Tensor:
    """Flat indices sorted by ``keys`` (first key most significant), ties by index (stable sorts)."""
    order = torch.arange(keys[0].numel(), device=keys[0].device)
    for key in reversed(keys):
        order = order[torch.sort(key.reshape(-1)[order], stable=True).indices]
    return order


def _prune_mask_count(mask: torch.Tensor, n_remove: int, keys: list[torch.Tensor]) -> torch.Tensor:
    """A copy of ``mask`` with the ``n_remove`` unmasked entries of lowest ``keys`` set False.

    ``keys`` are tensors of the mask's shape, the first the most significant; ties go to the lower
    row-major index.
    """
    flat = mask.reshape(-1)
    candidates = flat.nonzero().squeeze(1)
    if not 0 <= n_remove <= candidates.numel():
        raise ConfigError(f"cannot remove {n_remove} of {candidates.numel()} unmasked synapses")
    for key in keys:
        if bool(torch.isnan(key).any()):
            raise DataError("pruning scores contain NaN; check the weights or recorded activity")
    order = _order([key.reshape(-1)[candidates] for key in keys])
    out = flat.clone()
    out[candidates[order[:n_remove]]] = False
    return out.reshape(mask.shape)


def prune_mask(mask: torch.Tensor, scores: torch.Tensor, fraction: float) -> torch.Tensor:
    """A copy of ``mask`` with round(``fraction`` × N) of its N unmasked entries removed, those of
    lowest ``scores`` (same shape) first, ties by position."""
    return _prune_mask_count(mask, _n_remove(fraction, int(mask.sum())), [scores])


def _n_remove(fraction: float, n: int) -> int:
    """round(fraction × n): Python's round (half to even), as the lesion probe."""
    check_fraction("fraction", fraction)
    return int(round(fraction * n))


def _activity_scores(synapses: Synapses, activity: torch.Tensor) -> torch.Tensor:
    shape = (synapses.post, synapses.pre)
    if isinstance(activity, torch.Tensor) and activity.ndim == 1:
        activity = vector("activity", activity, synapses.pre, "pre")
        return activity.abs().to(synapses.mask.device).expand(shape)
    if not isinstance(activity, torch.Tensor) or tuple(activity.shape) != shape:
        got = (
            tuple(activity.shape) if isinstance(activity, torch.Tensor) else type(activity).__name__
        )
        raise DataError(f"activity has shape {got}; expected (pre,) = ({synapses.pre},) or {shape}")
    return activity.abs().to(synapses.mask.device)


def _uniform(shape, generator: torch.Generator | None, device) -> torch.Tensor:
    gen_device = generator.device if generator is not None else "cpu"
    return torch.rand(shape, generator=generator, device=gen_device).to(device)


@torch.no_grad()
def _prune_count_(
    synapses: Synapses,
    n_remove: int,
    criterion: str,
    activity: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> int:
    """Remove ``n_remove`` unmasked synapses by ``criterion``; returns the number removed."""
    magnitude = synapses.weight.detach().abs()
    if criterion == "magnitude":
        keys = [magnitude]
    elif criterion == "activity":
        keys = [_activity_scores(synapses, activity), magnitude]
    else:
        keys = [_uniform(synapses.mask.shape, generator, synapses.mask.device)]
    mask = _prune_mask_count(synapses.mask, n_remove, keys)
    removed = int((synapses.mask & ~mask).sum())
    synapses.mask.copy_(mask)  # in place: the version counter tells caches the mask changed
    return removed


def prune_by_magnitude_(synapses: Synapses, fraction: float) -> int:
    """Remove round(``fraction`` × N) of the N unmasked synapses, smallest |w| first; returns the
    number removed."""
    return _prune_count_(synapses, _n_remove(fraction, synapses.n_synapses), "magnitude")


def prune_by_activity_(synapses: Synapses, activity: torch.Tensor, fraction: float) -> int:
    """Remove round(``fraction`` × N) of the N unmasked synapses, lowest |activity| first, ties by
    |w|; ``activity`` is (post, pre) per synapse or (pre,) per presynaptic neuron. Returns the
    number removed."""
    return _prune_count_(synapses, _n_remove(fraction, synapses.n_synapses), "activity", activity)


def prune_random_(
    synapses: Synapses, fraction: float, generator: torch.Generator | None = None
) -> int:
    """Remove round(``fraction`` × N) of the N unmasked synapses uniformly at random, drawn from
    ``generator``; returns the number removed."""
    return _prune_count_(
        synapses, _n_remove(fraction, synapses.n_synapses), "random", generator=generator
    )


@torch.no_grad()
def regrow_random_(
    synapses: Synapses,
    n_regrow: int,
    generator: torch.Generator | None = None,
    *,
    weight: float | tuple[float, float] = 0.0,
) -> int:
    """Unmask ``n_regrow`` of the masked synapses uniformly at random (from ``generator``) and set
    their weights to ``weight`` (one value, or ``(low, high)`` for a uniform draw) through
    ``apply_dw_`` (so the bounds hold). Returns the number regrown."""
    mask = synapses.mask
    n_masked = mask.numel() - int(mask.sum())
    if isinstance(n_regrow, bool) or not isinstance(n_regrow, int) or not 0 <= n_regrow <= n_masked:
        raise ConfigError(f"n_regrow must be an integer in [0, {n_masked}], got {shown(n_regrow)}")
    scores = _uniform(mask.shape, generator, mask.device)
    # regrowing k masked synapses is "pruning" k entries of the complement mask
    grown = ~_prune_mask_count(~mask, n_regrow, [scores]) & ~mask
    low, high = weight if isinstance(weight, tuple) else (weight, weight)
    numbers = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (low, high))
    if not numbers or low > high:
        raise ConfigError(f"weight must be a finite number or (low, high), got {shown(weight)}")
    new_w = _uniform(mask.shape, generator, mask.device) * (high - low) + low
    w = synapses.weight
    mask.copy_(mask | grown)
    synapses.apply_dw_(torch.where(grown, new_w.to(w.dtype) - w, torch.zeros_like(w)))
    return int(grown.sum())


class DevelopmentalPruning:
    """Over-grow, then prune on a schedule (module docstring).

    Args:
        regrow_fraction: the fraction of the masked synapses regrown at random at step 0.
        keep_fraction: the fraction of the peak count left after the last step.
        n_steps: the pruning steps n after the over-growth (>= 1).
        criterion: ``"magnitude"``, ``"activity"`` (each step then takes ``activity``) or
            ``"random"``.
        schedule: ``"decreasing"`` (cubic, most pruning early) or ``"linear"``.
        regrow_weight: the weight of a regrown synapse, or ``(low, high)`` for a uniform draw.
        generator: the ``torch.Generator`` of the regrowth and of random pruning.

    Call :meth:`step_` n + 1 times (with learning in between); :attr:`done` is then True.
    """

    def __init__(
        self,
        *,
        regrow_fraction: float,
        keep_fraction: float,
        n_steps: int,
        criterion: str = "magnitude",
        schedule: str = "decreasing",
        regrow_weight: float | tuple[float, float] = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        check_fraction("regrow_fraction", regrow_fraction)
        check_fraction("keep_fraction", keep_fraction)
        if criterion not in CRITERIA:
            raise ConfigError(
                f"unknown criterion {shown(criterion)}; choose one of: {', '.join(CRITERIA)}"
            )
        if schedule not in SCHEDULES:
            raise ConfigError(
                f"unknown schedule {shown(schedule)}; choose one of: {', '.join(SCHEDULES)}"
            )
        self.regrow_fraction, self.keep_fraction = float(regrow_fraction), float(keep_fraction)
        self.n_steps = positive_int("n_steps", n_steps)
        self.criterion, self.schedule = criterion, schedule
        self.regrow_weight, self.generator = regrow_weight, generator
        self.k = 0
        self.peak: int | None = None

    @property
    def done(self) -> bool:
        """Whether every step has been taken."""
        return self.k > self.n_steps

    def target(self, k: int) -> int:
        """The number of unmasked synapses after pruning step ``k`` (1…n) of the schedule."""
        u = k / self.n_steps
        g = u if self.schedule == "linear" else 1.0 - (1.0 - u) ** 3
        return self.peak - int(round((1.0 - self.keep_fraction) * self.peak * g))

    @torch.no_grad()
    def step_(self, synapses: Synapses, activity: torch.Tensor | None = None) -> int:
        """Take the next step on ``synapses`` (0: over-growth, then pruning); returns the number of
        unmasked synapses after it."""
        if self.done:
            raise ConfigError(f"the schedule is finished: all {self.n_steps + 1} steps were taken")
        if self.k == 0:
            n_masked = synapses.mask.numel() - synapses.n_synapses
            n_regrow = int(round(self.regrow_fraction * n_masked))
            regrow_random_(synapses, n_regrow, self.generator, weight=self.regrow_weight)
            self.peak = synapses.n_synapses
        else:
            n_remove = synapses.n_synapses - self.target(self.k)
            if n_remove < 0:
                raise ConfigError(
                    f"the synapses have {synapses.n_synapses} unmasked synapses, fewer than this "
                    f"step's target {self.target(self.k)}; was the mask changed between steps?"
                )
            if self.criterion == "activity" and activity is None:
                raise ConfigError("criterion 'activity' needs the recorded activity at each step")
            _prune_count_(synapses, n_remove, self.criterion, activity, self.generator)
        self.k += 1
        return synapses.n_synapses
