"""The report: a self-contained report.html and a rich table, from a synthetic results document."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from rich.console import Console

from neurotwin.report import print_summary, receptive_fields_png, summary_table, write_report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FRACTIONS = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]


def _row(model, variant, paradigm, rule, seed, score, energy, metric, figures=None):
    rng = np.random.default_rng(seed)
    curve = [score - 0.3 / (e + 1) + 0.01 * rng.standard_normal() for e in range(5)]
    lesion = [score * (1 - f) ** 2 + 0.1 * f for f in FRACTIONS]
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
        "lesion": {
            "fraction": FRACTIONS,
            f"test_{metric}": lesion,
            f"test_{metric}_std": [0.0] * len(FRACTIONS),
        },
        "extra": {"first_layer_converged_fraction": 0.93} if model == "hebbian" else {},
    }
    if metric == "r2":
        metrics["test_mse"] = 3000.0 * (1 - score)
    return {
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
        },
        "figures": figures or {},
    }


def _stats(mean, half):
    return {"mean": mean, "std": half, "ci95": [mean - half, mean + half], "n": 2}


def make_doc(kind="classification", figures=None):
    metric = "accuracy" if kind == "classification" else "r2"
    models = [
        ("mlp", None, "artificial", "backprop", 0.9763, 60.0, None),
        ("hebbian", None, "brain", "krotov_hopfield", 0.9612, 39.3, True),
        ("hebbian", "random_first_layer", "brain", "none", 0.9012, 39.3, False),
    ]
    results, summary, comparisons = [], [], []
    for model, variant, paradigm, rule, score, energy, noise in models:
        for seed in (0, 1):
            figs = figures if model == "hebbian" and variant is None else None
            results.append(_row(model, variant, paradigm, rule, seed, score, energy, metric, figs))
            if noise is not None:
                comparisons.append(
                    {
                        "a": {"model": "mlp", "variant": None},
                        "b": {"model": model, "variant": variant},
                        "test": "mcnemar_exact" if metric == "accuracy" else "wilcoxon",
                        "seed": seed,
                        "p": 0.42 if noise else 0.003,
                        "n01": 3,
                        "n10": 5,
                    }
                )
        entry = {
            "model": model,
            "variant": variant,
            "paradigm": paradigm,
            "rule": rule,
            f"test_{metric}": _stats(score, 0.0042),
            "energy_nj_per_inference": _stats(energy, 0.0),
            "train_seconds": _stats(2.5, 0.5),
            "within_noise_vs_first": noise,
        }
        if metric == "r2":
            entry["test_mse"] = _stats(3000.0 * (1 - score), 10.0)
        summary.append(entry)
    return {
        "schema_version": 1,
        "neurotwin_version": "0.1.0",
        "task": {
            "name": "digits" if kind == "classification" else "diabetes",
            "kind": kind,
            "n_train": 1347,
            "n_test": 450,
            "metric": metric,
            "n_features": 64,
            "n_classes": 10 if kind == "classification" else None,
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


def test_report_is_self_contained_with_decodable_pngs(run_dir):
    doc = make_doc(figures={"receptive_fields": "figures/hebbian-s0-receptive_fields.png"})
    path = write_report(doc, run_dir)
    assert path == run_dir / "report.html" and path.is_file()
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    sources = _img_sources(html)
    # validation curves, accuracy vs energy, lesion curves, the learner's receptive fields
    assert len(sources) == 4
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert not list(run_dir.glob(".report.html.*"))  # no temp file left behind


def test_report_shows_summary_numbers_and_within_noise_badge(run_dir):
    html = write_report(make_doc(), run_dir).read_text(encoding="utf-8")
    assert "0.976 ± 0.004" in html and "0.961 ± 0.004" in html
    assert "39.3" in html and "14,810" in html
    assert "0.420 · 0.420" in html and "0.003 · 0.003" in html
    badges = re.findall(r'<tr><td>([^<]*)</td>.*?<span class="badge (\w+)">', html)
    assert ("hebbian", "noise") in badges
    assert ("hebbian (random_first_layer)", "differs") in badges
    assert ("mlp", "reference") in badges
    assert "p ≥ 0.05 on every seed" in html
    assert "first layer converged fraction" in html and "0.93" in html
    assert "Horowitz" in html and "4.6 pJ" in html


def test_report_escapes_document_text(run_dir):
    html = write_report(make_doc(), run_dir).read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_missing_figure_file_is_skipped_with_a_note(run_dir):
    doc = make_doc(figures={"rasters": "figures/missing.png", "escape": "../../etc/passwd"})
    html = write_report(doc, run_dir).read_text(encoding="utf-8")
    assert "figures/missing.png" in html and "was skipped" in html
    assert len(_img_sources(html)) == 3


def test_regression_report_uses_r2_and_mse(tmp_path):
    html = write_report(make_doc("regression"), tmp_path).read_text(encoding="utf-8")
    assert "Test R²" in html and "Test MSE" in html and "Wilcoxon" in html
    assert "0.976 ± 0.004" in html
    assert len(_img_sources(html)) == 3


def test_print_summary_lists_models_and_marks_within_noise():
    console = Console(record=True, width=200)
    print_summary(make_doc(), console=console)
    text = console.export_text()
    for name in ("mlp", "hebbian", "hebbian (random_first_layer)", "within noise", "differs"):
        assert name in text
    assert summary_table(make_doc()).row_count == 3


def test_receptive_fields_png_checks_shapes():
    png = receptive_fields_png(np.zeros((3, 64)), (8, 8))
    assert png.startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="n_units, 64"):
        receptive_fields_png(np.zeros((3, 63)), (8, 8))
