"""``neurotwin.experiment.simulate``: each model runs, its numbers agree with facts from outside the code
(closed forms, an independent integration, published properties), the files are written, and bad
input raises ConfigError with nothing written."""

import json

import numpy as np
import pytest

from neurotwin.brain.neurons import LIFParams
from neurotwin.errors import ConfigError
from neurotwin.experiment import simulate as sim
from neurotwin.experiment.runner import MAX_SEED

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def lif():
    """LIF, 2 nA for 200 ms at dt 0.1 ms, the f–I curve on 21 levels from 0 to 5 nA."""
    return sim.simulate("lif", current=2.0, duration_ms=200.0, fi_levels=21)


# --- LIF against its closed form --------------------------------------------------------------


def test_lif_rate_matches_the_closed_form_within_1_percent(lif):
    expected = LIFParams().rate_hz(2.0)  # 63.0 Hz
    assert lif.summary["spikes"]["isi_rate_hz"] == pytest.approx(expected, rel=0.01)


def test_lif_fi_intervals_match_the_closed_form_to_one_step(lif):
    fi, p, dt = lif.summary["f_i"], LIFParams(), lif.summary["dt_ms"]
    checked = 0
    for current, isi_rate in zip(fi["current"], fi["isi_rate_hz"], strict=True):
        if isi_rate is None:
            continue
        # the simulated interval is the true one rounded up to whole steps
        assert 1000.0 / isi_rate == pytest.approx(1000.0 / p.rate_hz(current), abs=dt + 1e-9)
        checked += 1
    assert checked >= 10


def test_lif_onset_current_is_the_first_level_above_the_rheobase(lif):
    p, fi = LIFParams(), lif.summary["f_i"]
    rheobase = (p.v_thresh_mV - p.v_rest_mV) / p.r_m_Mohm  # v_inf = v_thresh: 1.5 nA
    assert 0 < fi["onset_current"] - rheobase <= fi["resolution"] + 1e-12
    assert fi["resolution"] == pytest.approx(5.0 / 20)


def test_lif_below_threshold_relaxes_as_the_exponential_closed_form():
    r = sim.simulate("lif", current=1.0, duration_ms=100.0, fi_levels=2)
    p, s = LIFParams(), r.summary
    assert s["spikes"]["count"] == 0
    t, v, onset = r.arrays["time_ms"], r.arrays["v_mV"], s["stimulus"]["onset_ms"]
    v_inf = p.v_rest_mV + p.r_m_Mohm * 1.0
    after = t >= onset
    expected = v_inf + (p.v_rest_mV - v_inf) * np.exp(-(t[after] - onset) / p.tau_m_ms)
    assert v[after] == pytest.approx(expected, abs=1e-9)
    assert v[~after] == pytest.approx(np.full((~after).sum(), p.v_rest_mV))


def test_the_fi_sweep_is_one_batch_whose_row_for_the_step_current_matches_the_step(lif):
    s, a = lif.summary, lif.arrays
    level = int(np.flatnonzero(np.isclose(a["fi_current"], 2.0))[0])
    assert s["f_i"]["rate_hz"][level] == pytest.approx(s["spikes"]["rate_hz"])
    assert np.sum(a["raster_row"] == level) == s["spikes"]["count"]


# --- Izhikevich against an independent integration --------------------------------------------


def _izhikevich_euler(a, b, c, d, current, t_on_ms, t_end_ms, dt=0.002):
    """Spike times (ms) of Izhikevich (2003)'s equations by forward Euler at a fine step."""
    v, u, spikes = -65.0, b * -65.0, []
    for k in range(round(t_end_ms / dt)):
        i = current if k * dt >= t_on_ms else 0.0
        v, u = v + dt * (0.04 * v * v + 5 * v + 140 - u + i), u + dt * a * (b * v - u)
        if v >= 30.0:
            spikes.append(k * dt)
            v, u = c, u + d
    return np.array(spikes)


def test_izhikevich_regular_spiking_matches_an_independent_integration():
    r = sim.simulate("izhikevich", current=10.0, duration_ms=150.0, fi_levels=2)
    s = r.summary
    assert s["preset"] == "regular_spiking"
    ref = _izhikevich_euler(0.02, 0.2, -65.0, 8.0, 10.0, s["stimulus"]["onset_ms"], 150.0)
    got = r.arrays["spike_times_ms"]
    assert abs(len(got) - len(ref)) <= 1
    assert got[0] == pytest.approx(ref[0], abs=0.3)


def test_izhikevich_fast_spiking_fires_faster_than_regular_spiking():
    rates = {
        name: sim.simulate("izhikevich", preset=name, duration_ms=100.0, fi_levels=2).summary[
            "spikes"
        ]["rate_hz"]
        for name in ("regular_spiking", "fast_spiking")
    }
    assert rates["fast_spiking"] > 1.5 * rates["regular_spiking"] > 0


# --- Hodgkin–Huxley against its published behaviour -------------------------------------------


@pytest.fixture(scope="module")
def hh():
    return sim.simulate("hh", current=10.0, duration_ms=60.0, fi_levels=9)


def test_hh_rests_at_minus_65_mv_and_spikes_overshoot_zero(hh):
    a, s = hh.arrays, hh.summary
    before = a["v_mV"][a["time_ms"] < s["stimulus"]["onset_ms"]]
    assert np.abs(before + 65.0).max() < 0.1  # E_L = -54.387 mV puts rest at -65 mV
    assert s["v_mV"]["max"] > 30.0  # the action potential overshoots to about +40 mV


def test_hh_fires_near_68_hz_at_10_ua_per_cm2(hh):
    # the squid-axon model's repetitive rate at 10 µA/cm² is about 68 Hz (6.3 °C)
    assert 60.0 < hh.summary["spikes"]["isi_rate_hz"] < 75.0


def test_hh_fi_curve_jumps_from_zero_to_a_high_rate(hh):
    # class-2 excitability (Hodgkin 1948): no arbitrarily slow repetitive firing
    isi = [x for x in hh.summary["f_i"]["isi_rate_hz"] if x is not None]
    assert isi and min(isi) > 40.0


# --- the E/I network --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def network():
    return sim.simulate("network", duration_ms=60.0, seed=1)


def test_network_is_w1_sized_and_its_counts_agree_across_monitors(network):
    s, a = network.summary, network.arrays
    exc, inh = s["populations"]["exc"], s["populations"]["inh"]
    assert (s["preset"], exc["n"], inh["n"], s["stimulus"]["n"]) == ("w1", 400, 400, 784)
    assert (s["dt_ms"], s["n_steps"]) == (0.5, 120)
    assert exc["spikes"] > 0
    for name, pop in (("exc", exc), ("inh", inh)):
        assert len(a[f"{name}_spike_times_ms"]) == pop["spikes"]  # the raster holds every spike
        assert pop["rate_hz"] == pytest.approx(pop["spikes"] / (pop["n"] * 0.060))
        # the population rate integrated over time is the spikes per cell
        per_cell = a[f"{name}_rate_hz"].sum() * s["rate_bin_ms"] / 1000.0
        assert per_cell == pytest.approx(pop["spikes"] / pop["n"])


def test_network_inhibitory_cells_follow_their_excitatory_partners(network):
    # E → I is one-to-one with g = 10.4: v_inf of the I cell jumps to (−60 mV)/11.4 ≈ −5 mV, far
    # above its −40 mV threshold, and its 2 ms refractory period is shorter than E's 5 ms, so each
    # E spike makes its partner fire once (a spike in the last step lands after the run ends)
    exc, inh = network.summary["populations"]["exc"], network.summary["populations"]["inh"]
    assert 0 <= exc["spikes"] - inh["spikes"] <= 2
    assert exc["active_cells"] >= inh["active_cells"] > 0


def test_network_depends_on_the_seed_only():
    a, b, c = (sim.simulate("network", duration_ms=20.0, seed=seed) for seed in (1, 1, 2))
    assert a.summary == b.summary
    assert np.array_equal(a.arrays["exc_spike_times_ms"], b.arrays["exc_spike_times_ms"])
    assert not np.array_equal(a.arrays["exc_spike_neuron"], c.arrays["exc_spike_neuron"])


def test_network_saves_its_three_figures(network, tmp_path):
    network.save(tmp_path)
    assert sorted(network.summary["figures"]) == ["membrane", "population_rate", "raster"]
    for rel in network.summary["figures"].values():
        assert (tmp_path / rel).read_bytes().startswith(PNG)


# --- the result and its files -----------------------------------------------------------------


def test_summary_states_units_dt_duration_and_is_json(lif):
    s = lif.summary
    assert json.loads(json.dumps(s, allow_nan=False)) == s
    assert s["model"] == "lif" and s["preset"] is None
    assert s["parameters"]["tau_m_ms"] == {"value": 10.0, "unit": "ms"}
    assert s["parameters"]["r_m_Mohm"]["unit"] == "MΩ"
    assert s["stimulus"]["unit"] == "nA" and s["f_i"]["unit"] == "nA"
    assert (s["dt_ms"], s["duration_ms"], s["n_steps"]) == (0.1, 200.0, 2000)


def test_save_writes_summary_figures_and_a_self_contained_page(lif, tmp_path):
    out = tmp_path / "run"
    assert lif.save(out) == out
    assert json.loads((out / "summary.json").read_text(encoding="utf-8")) == lif.summary
    for rel in lif.summary["figures"].values():
        assert (out / rel).read_bytes().startswith(PNG)
    page = (out / "simulation.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(lif.summary["figures"])
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


def test_simulate_with_out_writes_the_files(tmp_path):
    out = tmp_path / "a" / "b"
    r = sim.simulate("hh", duration_ms=5.0, fi_levels=2, out=out)
    assert sorted(p.name for p in out.iterdir()) == ["figures", "simulation.html", "summary.json"]
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["model"] == r.model


def test_default_out_names_the_model_and_preset():
    assert str(sim.default_out("lif")) == "runs/simulate-lif"
    assert str(sim.default_out("izhikevich", "chattering")) == "runs/simulate-izhikevich-chattering"


# --- bad input: ConfigError, nothing written --------------------------------------------------


@pytest.mark.parametrize(
    "model, options, words",
    [
        ("bogus", {}, ["unknown model", "lif, izhikevich, hh, network"]),
        ("izhikevich", {"preset": "bogus"}, ["unknown preset", "regular_spiking", "chattering"]),
        ("lif", {"preset": "fast"}, ["no presets", "izhikevich"]),
        ("lif", {"dt_ms": 0.0}, ["dt_ms", "> 0"]),
        ("lif", {"dt_ms": -0.1}, ["dt_ms", "> 0"]),
        ("lif", {"dt_ms": 20.0}, ["too large", "tau_m_ms"]),
        ("izhikevich", {"dt_ms": 1.0}, ["too large", "dt_ms <= 0.5"]),
        ("hh", {"dt_ms": 0.1}, ["too large", "dt_ms <= 0.05"]),
        ("lif", {"dt_ms": float("nan")}, ["dt_ms", "finite"]),
        ("lif", {"duration_ms": -5.0}, ["duration_ms", "> 0"]),
        ("lif", {"duration_ms": 0.0}, ["duration_ms", "> 0"]),
        ("lif", {"duration_ms": float("nan")}, ["duration_ms", "finite"]),
        ("lif", {"duration_ms": float("inf")}, ["duration_ms", "finite"]),
        ("lif", {"duration_ms": 0.01}, ["shorter than one step"]),
        ("lif", {"duration_ms": 1e6}, ["at most 100,000 steps", "duration_ms <= 10000"]),
        ("lif", {"current": -1.0}, ["current", "give 0 to"]),
        ("lif", {"current": float("nan")}, ["current", "finite"]),
        ("lif", {"current": float("inf")}, ["current", "finite"]),
        ("lif", {"current": "2"}, ["current", "number"]),
        ("lif", {"current": 1e9}, ["current", "give 0 to 1000 nA"]),
        ("lif", {"seed": -1}, ["seed", str(MAX_SEED)]),
        ("lif", {"seed": "x"}, ["seed", str(MAX_SEED)]),
        ("lif", {"fi_levels": 1}, ["fi_levels"]),
        ("network", {"current": 1.0}, ["takes no current"]),
        ("network", {"preset": "small"}, ["unknown preset", "w1"]),
        ("network", {"dt_ms": 3.0}, ["refractory_ms", "dt_ms = 3"]),
        ("network", {"dt_ms": 0.0}, ["dt_ms", "> 0"]),
        ("network", {"duration_ms": -1.0}, ["duration_ms", "> 0"]),
        ("network", {"duration_ms": 1e6}, ["at most 100,000 steps"]),
    ],
)
def test_bad_input_raises_config_error_and_writes_nothing(tmp_path, model, options, words):
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as err:
        sim.simulate(model, out=out, **options)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)
    assert not out.exists()


def test_out_that_is_a_file_is_refused_before_running(tmp_path):
    out = tmp_path / "file"
    out.write_text("keep")
    with pytest.raises(ConfigError, match="existing file"):
        sim.simulate("lif", out=out)
    with pytest.raises(ConfigError, match="is a file"):
        sim.simulate("lif", out=out / "below")
    assert out.read_text() == "keep"
