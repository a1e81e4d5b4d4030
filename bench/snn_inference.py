"""W1 benchmark: neurotwin's EINetwork against the plain PyTorch loop and Brian2, in one process on the
same inputs (``shared/peers/w1_lif_inference.py`` defines the workload).

784 Poisson inputs (sklearn digits upsampled to 28×28, rate = intensity · 63.75 Hz) → 400 E / 400 I
conductance LIF cells (Diehl & Cook 2015), E → I one-to-one 10.4, I → all other E 17.0, 350 ms at
dt = 0.5 ms, exponential Euler, W_in ~ U(0, 0.3) from ``np.random.default_rng(0)``.

Equivalence comes first, on the first ``--eq-inputs`` (10) digits: the E spikes per sample, averaged
over the inputs and over repeated runs of each (``--repeats`` for the two PyTorch loops,
``--brian-samples`` runs in all for Brian2), must agree within ``--tolerance`` (10 %) between
neurotwin and the plain loop and between neurotwin and Brian2; compiled and eager neurotwin must give
identical counts from the same generator. A single run's count varies by ~40 % (the I → E
inhibition makes the E cells compete), hence the repeats; the standard error of each mean is
printed beside it. Only then are samples/s and their ratios printed, as a table and one JSON line
(the compile time apart). Exit status 1 when equivalence fails. Brian2's samples/s is timed on its
equivalence runs (its build excluded); without brian2 installed it is skipped.

usage: python bench/snn_inference.py [--batch 100] [--samples 200] [--brian-samples 100]
       [--device cpu] [--threads 2] [--no-compile]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from neurotwin.brain.network import W1_DURATION_MS, EINetwork
from neurotwin.core.device import resolve_device

N_IN, N, T_MS, DT = 784, 400, 350.0, 0.5
STEPS = int(T_MS / DT)
W_EI, W_IE = 10.4, 17.0
RATE_SCALE_HZ = 63.75


def w1_inputs(n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """W1's data: rates (n_samples, 784) in Hz and W_IN (784, 400), float32, as the peer script."""
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(0)
    w_in = rng.uniform(0, 0.3, (N_IN, N)).astype(np.float32)
    x = load_digits().images / 16.0
    x = np.kron(x, np.ones((4, 4)))[:, 2:30, 2:30].reshape(len(x), -1)[:, :N_IN]
    if n_samples > len(x):
        raise SystemExit(f"--samples {n_samples}: the digits set has {len(x)} images")
    return (x[:n_samples] * RATE_SCALE_HZ).astype(np.float32), w_in


def plain_loop(rates: torch.Tensor, w_in: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """W1's ``torch_loop`` (the plain PyTorch loop), on ``rates``' device: E spike counts (B, N)."""
    dev = rates.device
    batch = rates.shape[0]
    p_in = rates * DT / 1000.0
    w = w_in
    ve = torch.full((batch, N), -65.0, device=dev)
    vi = torch.full((batch, N), -60.0, device=dev)
    ge = torch.zeros(batch, N, device=dev)
    gi = torch.zeros(batch, N, device=dev)
    gei = torch.zeros(batch, N, device=dev)
    refe = torch.zeros(batch, N, device=dev)
    refi = torch.zeros(batch, N, device=dev)
    count = torch.zeros(batch, N, device=dev)
    dge, dgi = float(np.exp(-DT / 1.0)), float(np.exp(-DT / 2.0))
    for _ in range(STEPS):
        gt = 1.0 + ge + gi
        vinf = (-65.0 - 100.0 * gi) / gt
        ve = torch.where(refe > 0, ve, vinf + (ve - vinf) * torch.exp(-DT * gt / 100.0))
        gti = 1.0 + gei
        vinfi = -60.0 / gti
        vi = torch.where(refi > 0, vi, vinfi + (vi - vinfi) * torch.exp(-DT * gti / 10.0))
        ge = ge * dge
        gi = gi * dgi
        gei = gei * dge
        refe = (refe - DT).clamp_min(0)
        refi = (refi - DT).clamp_min(0)
        se = (ve > -52.0) & (refe <= 0)
        si = (vi > -40.0) & (refi <= 0)
        ve = torch.where(se, torch.full_like(ve, -65.0), ve)
        refe = torch.where(se, torch.full_like(refe, 5.0), refe)
        vi = torch.where(si, torch.full_like(vi, -45.0), vi)
        refi = torch.where(si, torch.full_like(refi, 2.0), refi)
        sef, sif = se.float(), si.float()
        count += sef
        s_in = (torch.rand(p_in.shape, generator=generator, device=dev) < p_in).float()
        ge = ge + s_in @ w
        gei = gei + W_EI * sef
        gi = gi + W_IE * (sif.sum(1, keepdim=True) - sif)
    return count


def brian2_run(sample_rates: np.ndarray, w_in: np.ndarray, target: str = "numpy"):
    """W1's ``brian()`` over the rows of ``sample_rates`` (Hz): (seconds, E spikes per sample), or
    None without brian2. (Brian2 resolves names in its caller's namespace: no local is called
    ``rates``, the PoissonGroup's own variable.)"""
    try:
        import brian2 as b2
    except ImportError:
        return None
    b2.prefs.codegen.target = target
    b2.seed(0)
    b2.defaultclock.dt = DT * b2.ms
    eqs_e = """dv/dt = ((-65*mV - v) + ge*(0*mV - v) + gi*(-100*mV - v)) / (100*ms) : volt (unless refractory)
               dge/dt = -ge/(1*ms) : 1
               dgi/dt = -gi/(2*ms) : 1"""
    eqs_i = """dv/dt = ((-60*mV - v) + ge*(0*mV - v)) / (10*ms) : volt (unless refractory)
               dge/dt = -ge/(1*ms) : 1"""
    inp = b2.PoissonGroup(N_IN, rates=np.zeros(N_IN) * b2.Hz)
    exc = b2.NeuronGroup(
        N, eqs_e, threshold="v > -52*mV", reset="v = -65*mV", refractory=5 * b2.ms,
        method="exponential_euler",
    )  # fmt: skip
    inh = b2.NeuronGroup(
        N, eqs_i, threshold="v > -40*mV", reset="v = -45*mV", refractory=2 * b2.ms,
        method="exponential_euler",
    )  # fmt: skip
    exc.v = -65 * b2.mV
    inh.v = -60 * b2.mV
    s_in = b2.Synapses(inp, exc, "w : 1", on_pre="ge_post += w")
    s_in.connect()
    s_in.w = w_in.flatten()
    s_ei = b2.Synapses(exc, inh, on_pre="ge_post += 10.4")
    s_ei.connect(j="i")
    s_ie = b2.Synapses(inh, exc, on_pre="gi_post += 17.0")
    s_ie.connect(condition="i != j")
    mon = b2.SpikeMonitor(exc)
    net = b2.Network(inp, exc, inh, s_in, s_ei, s_ie, mon)
    net.run(1 * b2.ms)  # build outside the timing
    spikes = []
    start = time.perf_counter()
    for k in range(sample_rates.shape[0]):
        before = mon.num_spikes
        inp.rates = sample_rates[k] * b2.Hz
        net.run(T_MS * b2.ms)
        spikes.append(mon.num_spikes - before)
        exc.v = -65 * b2.mV
        inh.v = -60 * b2.mV
        exc.ge = 0
        exc.gi = 0
        inh.ge = 0
    return time.perf_counter() - start, np.array(spikes, dtype=float)


def _generator(device: torch.device, seed: int) -> torch.Generator:
    return torch.Generator(device=device.type).manual_seed(seed)


def _mean_and_se(counts: np.ndarray, n_inputs: int) -> tuple[float, float | None]:
    """E spikes per sample (runs cycling through ``n_inputs`` inputs): the mean over inputs of
    each input's mean, and its standard error from the spread of runs of the same input (None
    with a single run per input)."""
    per_input = counts.reshape(-1, n_inputs)
    if per_input.shape[0] < 2:
        return float(per_input.mean()), None
    var = per_input.var(0, ddof=1) / per_input.shape[0]
    return float(per_input.mean()), float(np.sqrt(var.sum()) / n_inputs)


def _timed(fn, rates: torch.Tensor, batch: int, rounds: int) -> float:
    """The median over ``rounds`` of the seconds ``fn`` takes over ``rates`` in batches."""
    times = []
    for _ in range(rounds):
        if rates.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for i in range(0, rates.shape[0], batch):
            fn(rates[i : i + batch])
        if rates.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=100, help="samples per batch (default 100)")
    ap.add_argument("--samples", type=int, default=200, help="samples timed (default 200)")
    ap.add_argument("--brian-samples", type=int, default=100, help="Brian2 runs (default 100)")
    ap.add_argument("--eq-inputs", type=int, default=10, help="inputs of the equivalence runs")
    ap.add_argument("--repeats", type=int, default=50, help="runs per input of the torch loops")
    ap.add_argument("--rounds", type=int, default=3, help="timings per method (median)")
    ap.add_argument("--tolerance", type=float, default=0.10, help="relative, default 0.10")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile run")
    args = ap.parse_args(argv)
    sizes = (
        args.batch,
        args.samples,
        args.brian_samples,
        args.eq_inputs,
        args.repeats,
        args.rounds,
    )
    if min(sizes) < 1:
        ap.error("every count (--batch, --samples, --brian-samples, ...) must be >= 1")
    if args.samples % args.batch:
        ap.error("--samples must be a multiple of --batch (every timed batch has one shape)")
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    n_eq = args.eq_inputs
    rates_np, w_in_np = w1_inputs(max(args.samples, n_eq))
    rates = torch.from_numpy(rates_np).to(device)
    w_in = torch.from_numpy(w_in_np).to(device)
    net = EINetwork.w1(w_in=w_in_np).to(device)
    do_compile = not args.no_compile

    def nt(r, seed=1, compile=False):
        return net.run(r, W1_DURATION_MS, generator=_generator(device, seed), compile=compile).exc

    def plain(r, seed=2):
        return plain_loop(r, w_in, _generator(device, seed))

    # --- equivalence, on the first n_eq inputs ---------------------------------------------------
    tiled = rates[:n_eq].repeat(args.repeats, 1)
    means = {
        "neurotwin": _mean_and_se(nt(tiled).sum(1).double().cpu().numpy(), n_eq),
        "plain_torch": _mean_and_se(plain(tiled).sum(1).double().cpu().numpy(), n_eq),
    }
    brian_runs = np.resize(np.arange(n_eq), args.brian_samples)  # inputs 0..n_eq-1, cycled
    brian = brian2_run(rates_np[brian_runs], w_in_np) if args.brian_samples >= n_eq else None
    if brian is not None:
        means["brian2_numpy"] = _mean_and_se(brian[1][: len(brian_runs) // n_eq * n_eq], n_eq)
    ref, ref_se = means["neurotwin"]
    checks, rel = {}, {}
    for key in ("plain_torch", "brian2_numpy"):
        if key in means:
            m, se = means[key]
            rel[key] = abs(ref - m) / m
            checks[f"neurotwin_vs_{key}_within_tolerance"] = bool(rel[key] <= args.tolerance)
    compile_s = None
    if do_compile:
        first = rates[: args.batch]
        nt(first, compile=True)  # compiles for this batch shape
        compile_s = net.compile_seconds
        same = [torch.equal(nt(first, s), nt(first, s, compile=True)) for s in (5, 6)]
        checks["compiled_equals_eager"] = all(same)
    equivalence = {
        "inputs": n_eq,
        "tolerance": args.tolerance,
        "E_spikes_per_sample": {k: round(m, 2) for k, (m, _) in means.items()},
        "standard_error": {k: se and round(se, 2) for k, (_, se) in means.items()},
        "runs": {"neurotwin": len(tiled), "plain_torch": len(tiled)},
        "rel_diff_neurotwin_vs": {k: round(v, 4) for k, v in rel.items()},
        "checks": checks,
    }
    if brian is not None:
        equivalence["runs"]["brian2_numpy"] = args.brian_samples
    print(f"equivalence: E spikes per sample on the same {n_eq} inputs (mean ± standard error)")
    for key, (m, se) in means.items():
        runs = equivalence["runs"][key]
        shown_se = "n/a" if se is None else f"{se:4.1f}"
        print(f"  {key:14s} {m:8.1f} ± {shown_se:>4s}   ({runs} runs)" + (
            f"   neurotwin differs by {100 * rel[key]:.1f} %" if key in rel else ""))  # fmt: skip
    if brian is None:
        print(
            "  brian2_numpy   skipped (brian2 is not installed, or --brian-samples < --eq-inputs)"
        )
    for key, ok in checks.items():
        print(f"  {key:48s} {'ok' if ok else 'FAILED'}")
    if not all(checks.values()):
        print(
            "EQUIVALENCE FAILED: no speed figures are reported (a difference within ~3 standard "
            "errors is noise: raise --repeats / --brian-samples)",
            file=sys.stderr,
        )
        print(json.dumps({"workload": "W1", "equivalence": equivalence, "ok": False}))
        return 1

    # --- speed ------------------------------------------------------------------------------------
    timed = rates[: args.samples]
    nt(timed[: args.batch])  # warm-up
    plain(timed[: min(10, args.batch)])
    seconds = {
        "neurotwin": _timed(nt, timed, args.batch, args.rounds),
        "plain_torch": _timed(plain, timed, args.batch, args.rounds),
    }
    if do_compile:
        seconds["neurotwin_compiled"] = _timed(
            lambda r: nt(r, compile=True), timed, args.batch, args.rounds
        )
    per_s = {k: args.samples / v for k, v in seconds.items()}
    if brian is not None:
        per_s["brian2_numpy"] = args.brian_samples / brian[0]
    ratios = {f"{k}_over_plain": per_s[k] / per_s["plain_torch"] for k in per_s if "neurotwin" in k}
    if brian is not None:
        ratios.update(
            {
                f"{k}_over_brian2": per_s[k] / per_s["brian2_numpy"]
                for k in per_s
                if "neurotwin" in k
            }
        )
    print(f"\nspeed: {args.samples} samples, batch {args.batch}, {device}, {args.threads} threads")
    print(f"  {'method':22s} {'samples/s':>10s}")
    for key, value in per_s.items():
        print(f"  {key:22s} {value:10.1f}")
    if brian is None:
        print("  brian2_numpy            skipped (brian2 is not installed)")
    for key, value in ratios.items():
        print(f"  {key:34s} {value:8.2f}x")
    if compile_s is not None:
        print(f"  compile time (once per batch shape)  {compile_s:.1f} s")
    result = {
        "workload": "W1 LIF inference, 784->400E/400I, 350 ms @ 0.5 ms, exponential Euler",
        "device": str(device),
        "threads": args.threads,
        "batch": args.batch,
        "samples": args.samples,
        "samples_per_s": per_s,
        "ratios": ratios,
        "compile_seconds": compile_s,
        "equivalence": equivalence,
        "load_average_1min": os.getloadavg()[0],
        "ok": True,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
