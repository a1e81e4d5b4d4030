"""The report: a self-contained report.html, its figures and the rich table, from a hand-made
results document (no training)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import re
from html import escape

import numpy as np
import pytest
from rich.console import Console

from neurotwin import kinds
from neurotwin.experiment.store import validate_results
from neurotwin.report import (
    figures,
    print_summary,
    receptive_fields_png,
    summary_table,
    write_report,
)
from neurotwin.report.html import render_report
from neurotwin.report.terminal import MEDIUM_COLUMNS, NARROW_COLUMNS, SUMMARY_NOTE
from neurotwin.report.verdicts import headline

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FRACTIONS = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]
SEEDS = (0, 1, 2)
MLP = {"model": "mlp", "variant": None}
HEB = {"model": "hebbian", "variant": None}
RFL = {"model": "hebbian", "variant": "random_first_layer"}
# model, variant, paradigm, rule, score, energy (nJ), learned and fixed parameters, stage
MODELS = [
    ("mlp", None, "artificial", "backprop", 0.9763, 60.0, 26506, 0, "train"),
    ("hebbian", None, "brain", "krotov_hopfield", 0.9723, 39.3, 2010, 12800, "readout"),
    ("hebbian", "random_first_layer", "brain", "none", 0.9012, 39.3, 2010, 12800, "readout"),
]


def _row(model, variant, paradigm, rule, seed, score, energy, metric, stage, figures=None):
    rng = np.random.default_rng(seed)
    curve = [score - 0.3 / (e + 1) + 0.01 * rng.standard_normal() for e in range(5)]
    zero = [score * (1 - f) ** 2 + 0.1 * f for f in FRACTIONS]
    mean = [score * (1 - f) + 0.1 * f for f in FRACTIONS]
    metrics = {
        f"test_{metric}": score,
        f"test_{metric}_std": 0.0,
        "train_seconds": 2.0 + seed,
        "params": 14810,
        "ops_per_inference": {
            "dense_mac": 14800,
            "effective_mac": energy / 4.6e-3,
            "dense_ac": 0,
            "ac": 0,
            "neuron_updates": 210,
        },
        "energy_nj_per_inference": energy,
        "lesion": {"fraction": FRACTIONS, f"test_{metric}": zero, "mode": "zero"},
        "lesion_mean": {"fraction": FRACTIONS, f"test_{metric}": mean, "mode": "mean"},
        "extra": {"first_layer_converged_fraction": 0.93} if model == "hebbian" else {},
    }
    if metric == "r2":
        metrics["test_mse"] = 3000.0 * (1 - score)
    row = {
        "model": model,
        "variant": variant,
        "paradigm": paradigm,
        "rule": rule,
        "seed": seed,
        "config": {},
        "metrics": metrics,
        "history": {
            "epoch": list(range(1, 6)),
            "train_loss": [1.0 / (e + 1) for e in range(5)],
            f"val_{metric}": curve,
            "stage": stage,
        },
        "figures": figures or {},
    }
    if model == "hebbian" and variant is None:
        row["control"] = RFL
    return row


def _stats(mean, half, n=3):
    return {
        "mean": mean,
        "std": half,
        "ci95": [mean - half, mean + half],
        "n": n,
        "correction": "nadeau_bengio",
    }


def _verdict(a, b, relation, mean, detected, p_holm, metric, mdd=0.012):
    return {
        "a": a,
        "b": b,
        "relation": relation,
        "metric": f"test_{metric}",
        "seeds": list(SEEDS),
        "n_test": 450,
        "test": "corrected_resampled_t",
        "mean": mean,
        "ci95": [mean - 0.012, mean + 0.012],
        "p": p_holm / 2,
        "t": mean / 0.005,
        "df": 2,
        "se": 0.005,
        "mdd": mdd,
        "ratio": 450 / 1212,
        "correction": "nadeau_bengio",
        "p_holm": p_holm,
        "detected": detected,
    }


def make_doc(kind="classification", figures=None):
    """A document shaped like merge's output: mlp first, hebbian and its control."""
    metric = "accuracy" if kind == "classification" else "r2"
    test = "mcnemar_exact" if metric == "accuracy" else "wilcoxon"
    results, summary = [], []
    for model, variant, paradigm, rule, score, energy, learned, fixed, stage in MODELS:
        for seed in SEEDS:
            figs = figures if model == "hebbian" and variant is None else None
            results.append(
                _row(model, variant, paradigm, rule, seed, score, energy, metric, stage, figs)
            )
        entry = {
            "model": model,
            "variant": variant,
            "paradigm": paradigm,
            "rule": rule,
            "seeds": list(SEEDS),
            f"test_{metric}": _stats(score, 0.0042),
            "energy_nj_per_inference": _stats(energy, 0.0),
            "params_learned": _stats(learned, 0.0),
            "params_fixed": _stats(fixed, 0.0),
            "train_seconds": {"median": 3.0, "min": 2.0, "max": 4.0, "n": 3},
        }
        if metric == "r2":
            entry["test_mse"] = _stats(3000.0 * (1 - score), 10.0)
        summary.append(entry)
    pairs = [  # a, b, relation, raw p per seed, Holm-adjusted p per seed
        (MLP, HEB, "vs_first", 0.42, 0.84),
        (MLP, RFL, "vs_first", 0.001, 0.003),
        (RFL, HEB, "vs_control", 0.002, 0.006),
    ]
    comparisons = [
        {"a": a, "b": b, "relation": rel, "test": test, "seed": s, "p": p, "p_holm": ph}
        for a, b, rel, p, ph in pairs
        for s in SEEDS
    ]
    verdicts = [
        _verdict(MLP, HEB, "vs_first", -0.004, False, 0.62, metric),
        _verdict(MLP, RFL, "vs_first", -0.0751, True, 0.002, metric),
        _verdict(RFL, HEB, "vs_control", 0.0711, True, 0.004, metric),
    ]
    return {
        "schema_version": 1,
        "neurotwin_version": "0.1.0",
        "task": {
            "name": "digits" if kind == "classification" else "diabetes",
            "kind": kind,
            "n_train": 1347,
            "n_test": 450,
            "metric": metric,
            "n_fit": 1212,
            "fixed_split": False,
            "n_features": 64,
            **({"n_classes": 10} if kind == "classification" else {}),
            "input_shape": [8, 8] if kind == "classification" else [10],
            "class_names": None,
        },
        "manifest": {
            "command": "neurotwin compare --models mlp,hebbian <script>",
            "python": "3.11.7",
            "torch": "2.3.0",
            "numpy": "1.26.4",
            "threads": 2,
            "device": "cpu",
            "started": "2025-01-01T00:00:00",
            "finished": "2025-01-01T00:01:00",
        },
        "results": results,
        "summary": summary,
        "comparisons": comparisons,
        "verdicts": verdicts,
    }


@pytest.fixture
def run_dir(tmp_path):
    weights = np.random.default_rng(0).standard_normal((20, 64))
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "hebbian-s0-receptive_fields.png").write_bytes(
        receptive_fields_png(weights, (8, 8), n_show=16)
    )
    return tmp_path


def _img_sources(html):
    return re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", html)


def _section(html, title):
    """The HTML from the <h2> titled ``title`` to the next <h2> (or the footer)."""
    start = html.index(f"<h2>{title}</h2>")
    ends = [i for i in (html.find("<h2>", start + 4), html.find("<footer>", start)) if i > 0]
    return html[start : min(ends)]


def test_hand_made_documents_are_valid_results():
    validate_results(make_doc())
    validate_results(make_doc("regression"))


def test_report_is_self_contained_with_decodable_pngs(run_dir):
    doc = make_doc(figures={"receptive_fields": "figures/hebbian-s0-receptive_fields.png"})
    path = write_report(doc, run_dir)
    assert path == run_dir / "report.html" and path.is_file()
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", html)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html and "@import" not in html
    sources = _img_sources(html)
    # validation curves, accuracy vs energy, lesion curves, the learner's receptive fields
    assert len(sources) == 4
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert not list(run_dir.glob(".report.html.*"))  # no temp file left behind


def test_report_opens_with_the_verdict_before_the_summary(run_dir):
    doc = make_doc()
    html = write_report(doc, run_dir).read_text(encoding="utf-8")
    order = [html.index(s) for s in ("<h1>", "<h2>Verdict</h2>", "<h2>Summary</h2>")]
    assert order == sorted(order)
    assert html.index("<h2>Verdict</h2>") < html.index('<table class="summary"')
    verdict = _section(html, "Verdict")
    lines = headline(doc)
    assert len(lines) == 4  # the best model, then the three tested pairs
    for line in lines:
        assert f"<li>{escape(line)}</li>" in verdict
    assert "hebbian is higher than hebbian (random_first_layer) by 7.1 points" in verdict


def test_report_summary_shows_the_numbers_of_the_document(run_dir):
    html = write_report(make_doc(), run_dir).read_text(encoding="utf-8")
    summary = _section(html, "Summary")
    assert "0.976 ± 0.004" in summary and "0.972 ± 0.004" in summary
    assert "39.3" in summary and "60.0" in summary
    assert "26,506" in summary and "2,010 + 12,800 fixed" in summary
    assert "3.0 (2.0–4.0)" in summary  # median (min–max) training seconds
    # per-seed p against the first model, Holm-adjusted
    assert "0.840 · 0.840 · 0.840" in summary and "0.003 · 0.003 · 0.003" in summary
    badges = re.findall(r'<tr><td>([^<]*)</td>.*?<span class="badge (\w+)">([^<]*)<', summary)
    assert ("mlp", "reference", "reference") in badges
    assert ("hebbian", "noise", "-0.4 not detected") in badges
    assert ("hebbian (random_first_layer)", "differs", "-7.5 detected") in badges
    assert "+7.1 detected" in summary  # hebbian against its control
    assert "Nadeau" in summary


def test_report_lists_every_tested_pair(run_dir):
    tests = _section(write_report(make_doc(), run_dir).read_text(encoding="utf-8"), "Tests")
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td>", tests)
    assert rows == [
        ("hebbian", "mlp (against the first)"),
        ("hebbian (random_first_layer)", "mlp (against the first)"),
        ("hebbian", "hebbian (random_first_layer) (against its control)"),
    ]
    assert "seed 2: p = 0.002 (Holm 0.006)" in tests
    assert "McNemar" in tests


def test_report_task_section_names_the_split(run_dir):
    task = _section(write_report(make_doc(), run_dir).read_text(encoding="utf-8"), "Task")
    assert "1212 samples" in task and "new train/test split" in task
    doc = make_doc()
    doc["task"]["fixed_split"] = True
    task = _section(write_report(doc, run_dir).read_text(encoding="utf-8"), "Task")
    assert "initialisation only" in task


def test_report_footer_says_what_energy_leaves_out(run_dir):
    html = write_report(make_doc(), run_dir).read_text(encoding="utf-8")
    footer = html[html.index("<footer>") :]
    text = " ".join(re.sub(r"<[^>]+>", " ", footer).split())
    assert "Neuron state updates are counted but not costed" in text
    assert "memory traffic is neither counted nor costed" in text
    assert "Horowitz" in text and "4.6 pJ" in text


def test_report_lesion_caption_names_both_ablation_modes(run_dir):
    lesion = _section(
        write_report(make_doc(), run_dir).read_text(encoding="utf-8"), "Lesion curves"
    )
    (caption,) = re.findall(r"<figcaption>(.*?)</figcaption>", lesion, re.S)
    assert "zero-ablation" in caption and "mean-ablation" in caption
    assert "chance (1/10)" in caption


def test_report_escapes_document_text(run_dir):
    doc = make_doc()
    doc["task"]["name"] = "digits <b>bold</b>"
    for row in doc["results"]:
        if row["model"] == "hebbian" and row["variant"] is None:
            row["metrics"]["extra"] = {"a<i>b": 1.0}
    html = write_report(doc, run_dir).read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html  # the manifest's command
    assert "<b>bold</b>" not in html and "digits &lt;b&gt;bold&lt;/b&gt;" in html
    assert "a<i>b" not in html and "a&lt;i&gt;b" in html


def test_missing_learner_figure_is_skipped_with_a_note(run_dir):
    doc = make_doc(figures={"rasters": "figures/missing.png", "escape": "../../etc/passwd"})
    html = write_report(doc, run_dir).read_text(encoding="utf-8")
    notes = re.findall(r'<p class="note">(.*?)</p>', html)
    assert any("figures/missing.png" in n and "was skipped" in n for n in notes)
    assert any("../../etc/passwd" in n and "outside the run folder" in n for n in notes)
    assert len(_img_sources(html)) == 3  # the three comparison figures only


def test_regression_report_uses_r2_mse_and_wilcoxon(tmp_path):
    html = write_report(make_doc("regression"), tmp_path).read_text(encoding="utf-8")
    assert "Test R²" in html and "Test MSE" in html and "Wilcoxon" in html
    assert "0.976 ± 0.004" in html
    assert "R² = 0 (predict the mean)" in html
    assert len(_img_sources(html)) == 3


def test_report_draws_only_the_figures_of_the_task_kind(tmp_path, monkeypatch):
    monkeypatch.setattr(kinds, "_KINDS", dict(kinds._KINDS))
    kinds.register(
        dataclasses.replace(kinds.CLASSIFICATION, name="only_lesions", figures=("lesion_curves",))
    )
    doc = make_doc()
    doc["task"]["kind"] = "only_lesions"
    html = write_report(doc, tmp_path).read_text(encoding="utf-8")
    assert "<h2>Lesion curves</h2>" in html
    assert "<h2>Validation curves</h2>" not in html and "vs energy</h2>" not in html
    assert len(_img_sources(html)) == 1


# --- figures ------------------------------------------------------------------------------------


@pytest.fixture
def drawn(monkeypatch):
    """The matplotlib figures the report draws, kept instead of (as well as) rendered."""
    kept = []
    real = figures.png_bytes

    def keep(fig):
        kept.append(fig)
        return real(fig)

    monkeypatch.setattr(figures, "png_bytes", keep)
    return kept


def test_learning_curves_are_labelled_with_each_models_stage(drawn):
    assert figures.learning_curves_png(make_doc()).startswith(PNG_MAGIC)
    (fig,) = drawn
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == [
        "mlp: train epochs (n=3)",
        "hebbian: readout epochs (n=3)",
        "hebbian (random_first_layer): readout epochs (n=3)",
    ]


def test_lesion_figure_has_one_panel_per_ablation_mode(drawn):
    doc = make_doc()
    figures.lesion_curves_png(doc)
    titles = [ax.get_title() for ax in drawn[0].axes]
    assert len(titles) == 2
    assert "zero-ablation" in titles[0] and "mean-ablation" in titles[1]
    # rows with the zero-ablation sweep only: one panel
    for row in doc["results"]:
        del row["metrics"]["lesion_mean"]
    figures.lesion_curves_png(doc)
    assert [ax.get_title() for ax in drawn[1].axes] == [titles[0]]


def test_no_lesion_sweep_gives_no_figure():
    doc = make_doc()
    for row in doc["results"]:
        del row["metrics"]["lesion"], row["metrics"]["lesion_mean"]
    assert figures.lesion_curves_png(doc) is None


def test_receptive_fields_png_checks_shapes():
    png = receptive_fields_png(np.zeros((3, 64)), (8, 8))
    assert png.startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="n_units, 64"):
        receptive_fields_png(np.zeros((3, 63)), (8, 8))


# --- terminal -----------------------------------------------------------------------------------


def _long_names_doc():
    """Five models, three with a variant, so the model column has to wrap on narrow consoles."""
    doc = make_doc()
    extra = [
        ("stdp", "no_plasticity", "brain", "none"),
        ("mlp", "unit_encoding", "artificial", "backprop"),
    ]
    for model, variant, paradigm, rule in extra:
        entry = copy.deepcopy(doc["summary"][1])
        entry.update(model=model, variant=variant, paradigm=paradigm, rule=rule)
        doc["summary"].append(entry)
    return doc


def _render(doc, width):
    """The table as a console of ``width`` prints it, without cropping what does not fit."""
    console = Console(width=width, record=True, color_system=None)
    console.print(summary_table(doc, width=width), crop=False)
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 100, 120, 125, 140, 170, 180, 200])
@pytest.mark.parametrize("doc", [make_doc(), _long_names_doc()], ids=["3 models", "5 models"])
def test_summary_table_fits_the_console_and_never_breaks_a_word(doc, width):
    lines = _render(doc, width)
    headers = [str(c.header) for c in summary_table(doc, width=width).columns]
    assert max(len(line) for line in lines) <= width
    words = set()
    for entry in doc["summary"]:
        words |= {entry["model"]} | ({f"({entry['variant']})"} if entry["variant"] else set())
        if "Rule" in headers:
            words.add(entry["rule"])
    words |= {"-0.4", "-7.5", "detected", "reference"}  # the verdicts against the first model
    if any("control" in h for h in headers):
        words |= {"+7.1", "control"}  # the verdict against its control, and its header
    for word in words:
        assert any(word in line.split() for line in lines), f"{word!r} broken or missing"


@pytest.mark.parametrize(("width", "columns"), [(80, NARROW_COLUMNS), (150, MEDIUM_COLUMNS)])
def test_summary_table_columns_grow_with_the_width(width, columns):
    table = summary_table(make_doc(), width=width)
    headers = [str(c.header) for c in table.columns]
    assert len(headers) == len([c for c in columns if c != "mse"])
    assert table.row_count == 3
    wide = [str(c.header) for c in summary_table(make_doc(), width=250).columns]
    assert {"Paradigm", "Rule"} <= set(wide) and any("Holm" in h for h in wide)


def test_paired_test_is_named_as_its_author_spelled_it(run_dir):
    headers = [str(c.header) for c in summary_table(make_doc(), width=250).columns]
    assert "p (McNemar, Holm)" in headers
    html = write_report(make_doc(), run_dir).read_text(encoding="utf-8")
    assert "Mcnemar" not in html


def test_print_summary_prints_the_verdicts_under_the_table():
    doc = make_doc()
    console = Console(record=True, width=100, color_system=None)
    print_summary(doc, console=console)
    text = " ".join(console.export_text().split())
    table_end = text.index("hebbian (random_first_layer)")
    lines = headline(doc)
    assert len(lines) == 4
    for line in lines:
        assert f"• {line}" in text
        assert text.index(line) > table_end
    assert text.endswith(" ".join(SUMMARY_NOTE.split()))
    assert "-0.4 not detected" in text and "-7.5 detected" in text


def test_a_row_warning_is_shown_beside_the_learner_figures(run_dir):
    doc = make_doc()
    row = next(r for r in doc["results"] if r["seed"] == 0)
    row["warnings"] = ["figures: RuntimeError: cannot draw"]
    validate_results(doc)
    html = write_report(doc, run_dir).read_text(encoding="utf-8")
    assert "figures: RuntimeError: cannot draw" in html


def test_alignment_section_only_where_a_learner_records_the_angle(run_dir):
    doc = make_doc()
    assert figures.alignment_curves_png(doc) is None
    assert "<h2>Feedback alignment</h2>" not in render_report(doc, run_dir)
    for row in doc["results"]:
        angles = [90.0 - 2.0 * e for e in range(1, 6)]
        row["metrics"]["alignment"] = {"epoch": [1, 2, 3, 4, 5], "angle_deg": angles}
    png = figures.alignment_curves_png(doc)
    assert png is not None and png.startswith(b"\x89PNG")
    section = _section(render_report(doc, run_dir), "Feedback alignment")
    assert len(_img_sources(section)) == 1 and "Lillicrap" in section
