"""EINetwork.w1 against Brian2 on the W1 workload: E spikes per sample on the same 10 digits.

A single run's count varies by ~40 % (the I → E inhibition makes the E cells compete), so both sides
are averaged over repeated runs of every input: Brian2 10 runs per input (~40 s with the numpy
target), neurotwin 50. Both seeds are fixed, so the outcome is deterministic. The Brian2 model and
the W1 data are the benchmark's (``bench/snn_inference.py``), so there is one copy of each.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from neurotwin.brain.network import W1_DURATION_MS, EINetwork

brian2 = pytest.importorskip("brian2")

pytestmark = pytest.mark.peers

N_INPUTS, BRIAN_REPEATS, NT_REPEATS, TOLERANCE = 10, 10, 50, 0.10


def _bench():
    path = Path(__file__).resolve().parents[2] / "bench" / "snn_inference.py"
    spec = importlib.util.spec_from_file_location("snn_inference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_w1_e_spikes_per_sample_are_within_10_percent_of_brian2():
    bench = _bench()
    rates, w_in = bench.w1_inputs(N_INPUTS)
    _, brian_spikes = bench.brian2_run(np.tile(rates, (BRIAN_REPEATS, 1)), w_in)
    net = EINetwork.w1(w_in=w_in)
    counts = net.run(
        torch.from_numpy(np.tile(rates, (NT_REPEATS, 1))),
        W1_DURATION_MS,
        generator=torch.Generator().manual_seed(0),
    )
    ours, our_se = bench._mean_and_se(counts.exc.sum(1).double().numpy(), N_INPUTS)
    theirs, their_se = bench._mean_and_se(brian_spikes, N_INPUTS)
    assert abs(ours - theirs) <= TOLERANCE * theirs, (
        f"E spikes per sample: neurotwin {ours:.1f} ± {our_se:.1f}, "
        f"Brian2 {theirs:.1f} ± {their_se:.1f} (mean ± standard error)"
    )
