"""Poisson input spikes drawn as events: only the spikes are made, never a dense draw per step.

An input j of sample b fires in each step independently with probability p_bj = rate_bj · dt / 1000
(rate in Hz, dt in ms), as Brian2's ``PoissonGroup``. At about 1 % activity a dense
``rand(batch, n_in) < p`` per step costs a hundred draws per spike; :class:`PoissonEvents` draws
the gaps between spikes instead (and thins them to each input's own probability), so its work is
proportional to the spikes. The spikes equal a dense draw's in distribution, not draw for draw.
"""

from __future__ import annotations

import math

import torch


class PoissonEvents:
    """Independent Bernoulli spikes (probability ``p`` (batch, n_in) per step), drawn as events.

    :meth:`draw` returns the spikes of the next ``n_steps`` steps as two int64 tensors sorted by
    (step, sample, input): ``rows`` = step_in_chunk · batch + sample and ``inputs``. Candidates
    are the successes of Bernoulli(p_max) trials over every (step, sample, input) with p > 0, found
    by geometric gaps G = ⌊ln U / ln(1 − p_max)⌋ + 1, U ~ U(0, 1]; each is kept with probability
    p_bj / p_max. Both draws come from ``generator`` (on ``p``'s device).
    """

    def __init__(self, p: torch.Tensor, generator: torch.Generator) -> None:
        self.batch, self.n_in = p.shape
        self.generator, self.device = generator, p.device
        flat = p.reshape(-1).to(torch.float64)
        active = flat.nonzero().squeeze(1)
        self.n_active = active.numel()
        self.sample_of, self.input_of = active // self.n_in, active % self.n_in
        self.p_max = float(flat.max()) if self.n_active else 0.0
        accept = flat[active] / self.p_max if self.n_active else flat[:0]
        self.accept = None if bool((accept == 1.0).all()) else accept  # all at p_max: keep all
        self.log_q = math.log1p(-self.p_max) if self.p_max < 1.0 else -math.inf

    def _rand(self, n: int) -> torch.Tensor:
        return torch.rand(n, dtype=torch.float64, generator=self.generator, device=self.device)

    def _candidates(self, n_trials: int) -> torch.Tensor:
        """Sorted positions in [0, n_trials) of the successes of Bernoulli(p_max) trials."""
        found, base = [], -1
        mean = n_trials * self.p_max
        while base < n_trials - 1:
            n = int(mean + 6.0 * math.sqrt(mean) + 16)
            # U ~ U(0, 1] drawn in float64 (no cut tail); its log in float32 (vectorised)
            u = (1.0 - self._rand(n)).to(torch.float32)
            gaps = torch.log(u).div_(self.log_q).floor_().clamp_(max=n_trials)
            pos = gaps.to(torch.int64).add_(1).cumsum_(0).add_(base)
            found.append(pos)
            base = int(pos[-1])
        pos = torch.cat(found) if len(found) > 1 else found[0]
        return pos[: int(torch.searchsorted(pos, n_trials))]

    def draw(self, n_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(rows, inputs)`` of every spike in the next ``n_steps`` steps (class docstring)."""
        if self.n_active == 0:
            empty = torch.empty(0, dtype=torch.long, device=self.device)
            return empty, empty
        pos = self._candidates(n_steps * self.n_active)
        if self.accept is not None:
            pair = pos.remainder(self.n_active)
            kept = self._rand(pos.numel()) < self.accept.index_select(0, pair)
            pos = pos.index_select(0, kept.nonzero().squeeze(1))
        step, pair = pos.div(self.n_active, rounding_mode="floor"), pos.remainder(self.n_active)
        rows = step.mul_(self.batch).add_(self.sample_of.index_select(0, pair))
        return rows, self.input_of.index_select(0, pair)
