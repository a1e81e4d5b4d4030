"""Report sections for the medical-data analyst: diagnosis metrics, calibration, prediction
intervals and the features that drive each model (from the ``diagnosis``, ``intervals`` and
``explanations`` probes; see :mod:`neurotwin.probes`).

Every number is the mean over seeds with its 95 % CI (the summary's correction for overlapping
splits); the reliability diagram averages each equal-mass bin over seeds, and the confusion matrix
sums the seeds' test parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

import numpy as np

from neurotwin.report.document import display_name, rows_by_model
from neurotwin.report.html import figure, note
from neurotwin.report.terminal import format_stat

#: Diagnosis columns of the table: summary key → header.
DIAGNOSIS_COLUMNS = {
    "roc_auc": "ROC-AUC",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "balanced_accuracy": "Balanced accuracy",
    "log_loss": "Log-loss",
    "brier": "Brier",
    "calibration_ece": "ECE (15 equal-mass bins)",
    "calibration_floor": "ECE of a calibrated model (floor)",
}
#: Interval columns of the table: summary key → header.
INTERVAL_COLUMNS = {
    "coverage": "Coverage of the test part",
    "mean_width": "Mean width",
    "reference_width": "Width ignoring inputs",
    "width_ratio": "Width ratio",
}
#: Features shown per model in the explanations table.
TOP_FEATURES = 8


def _table(headers: list[str], rows: list[list[str]], caption: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    num = ' class="num"'
    body = "".join(
        "<tr>"
        + "".join(f"<td{'' if j == 0 else num}>{escape(c)}</td>" for j, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return (
        f'<div class="scroll"><table class="summary"><thead><tr>{head}</tr></thead>'
        f'<tbody>{body}</tbody></table></div><p class="caption">{escape(caption)}</p>'
    )


def _stat_table(doc: Mapping[str, Any], block: str, columns: Mapping[str, str]) -> str | None:
    entries = [e for e in doc.get("summary", []) if e.get(block)]
    if not entries:
        return None
    shown = [k for k in columns if any(k in e[block] for e in entries)]
    rows = [
        [display_name(e)] + [format_stat(e[block].get(k), digits=3) for k in shown] for e in entries
    ]
    return _table(["Model"] + [columns[k] for k in shown], rows, "Mean ± 95 % CI over seeds.")


def diagnosis_section(doc: Mapping[str, Any]) -> str:
    """Diagnosis metrics per model, the reliability diagram and the confusion matrices."""
    table = _stat_table(doc, "diagnosis", DIAGNOSIS_COLUMNS)
    if table is None:
        return ""
    groups = rows_by_model(doc)
    task = doc.get("task", {})
    first = next(r for rows in groups.values() for r in rows if "diagnosis" in r["metrics"])
    d = first["metrics"]["diagnosis"]
    threshold = d.get("threshold")
    positive = task.get("positive_class") or d.get("positive_class")
    said = []
    if positive is not None:
        said.append(
            f"Sensitivity and specificity are for the positive class {positive!r}, a sample "
            f"being called positive when P({positive}) ≥ {threshold if threshold else 0.5}"
            " (argmax for a learner without probabilities)."
        )
    said.append(
        "ROC-AUC is one-vs-rest, macro-averaged, for more than two classes. Log-loss is natural; "
        "the Brier score of two classes is mean (p − y)² of the positive class, of more the sum "
        "over classes. ECE is top-label over 15 equal-mass bins; its floor is the ECE a perfectly "
        "calibrated model would show on a test part of this size, so an ECE near the floor "
        "shows no miscalibration this test part can detect."
    )
    no_proba = [name for name, rows in groups.items() if rows and _lacks_proba(rows)]
    if no_proba:
        said.append(
            f"{', '.join(no_proba)} give no class probabilities: only the label metrics apply."
        )
    html = ["<h2>Diagnosis</h2>", table, note(" ".join(said))]
    png = _reliability_png(groups)
    if png is not None:
        html.append(
            figure(
                png,
                "reliability diagram",
                "Reliability diagram: accuracy against confidence in 15 equal-mass bins of the top "
                "class's probability, each bin averaged over seeds; the diagonal is perfect "
                "calibration.",
            )
        )
    html.append(_confusions(groups, task.get("class_names")))
    return "".join(html)


def _lacks_proba(rows: list[dict]) -> bool:
    return any(r["metrics"].get("diagnosis", {}).get("probabilities") is False for r in rows)


def _reliability_png(groups: Mapping[str, list[dict]]) -> bytes | None:
    from neurotwin.evaluation.calibration import reliability_png

    curves = {}
    for name, rows in groups.items():
        bins = [r["metrics"].get("diagnosis", {}).get("reliability") for r in rows]
        bins = [b for b in bins if b]
        if not bins:
            continue
        keys = [k for k in bins[0] if isinstance(bins[0][k], list)]
        length = min(len(b[keys[0]]) for b in bins) if keys else 0
        if length == 0:
            continue
        curves[name] = {
            k: np.mean([b[k][:length] for b in bins], axis=0).tolist()
            for k in keys
            if all(isinstance(b.get(k), list) for b in bins)
        }
    if not curves:
        return None
    return reliability_png(curves, title="Reliability (mean over seeds)")


def _confusions(groups: Mapping[str, list[dict]], class_names) -> str:
    parts = []
    for name, rows in groups.items():
        mats = [r["metrics"].get("diagnosis", {}).get("confusion_matrix") for r in rows]
        mats = [np.asarray(m) for m in mats if m]
        if not mats or len({m.shape for m in mats}) != 1:
            continue
        total = np.sum(mats, axis=0)
        labels = class_names or [str(i) for i in range(len(total))]
        head = "".join(f"<th>{escape(str(c))}</th>" for c in labels)
        body = "".join(
            f"<tr><th>{escape(str(labels[i]))}</th>"
            + "".join(f'<td class="num">{int(v)}</td>' for v in row)
            + "</tr>"
            for i, row in enumerate(total)
        )
        parts.append(
            f"<details><summary>{escape(name)}: confusion matrix (rows true, columns "
            f"predicted; {len(mats)} seed{'s' if len(mats) > 1 else ''} summed)</summary>"
            f'<div class="scroll"><table class="summary"><thead><tr><th></th>{head}</tr>'
            f"</thead><tbody>{body}</tbody></table></div></details>"
        )
    return "".join(parts)


def intervals_section(doc: Mapping[str, Any]) -> str:
    """Prediction intervals per model: coverage and width."""
    table = _stat_table(doc, "intervals", INTERVAL_COLUMNS)
    if table is None:
        return ""
    first = next(
        (r["metrics"]["intervals"] for r in doc.get("results", []) if "intervals" in r["metrics"]),
        {},
    )
    level = first.get("level", 0.9)
    text = (
        f"Split-conformal {level:.0%} prediction intervals: the absolute residuals of the "
        f"validation slice ({first.get('n_calibration', '?')} samples, never trained on) set one "
        "half-width for every test prediction. Coverage should be near the nominal level; the "
        "width ratio compares the mean width with that of the training targets' central "
        f"{level:.0%} range (an interval that ignores the inputs): below 1 the inputs narrow "
        "the interval. The same slice chose the stopping epoch, a mild selection that can make "
        "coverage slightly low."
    )
    return "<h2>Prediction intervals</h2>" + table + note(text)


def explanations_section(doc: Mapping[str, Any]) -> str:
    """The top features of every model side by side (permutation importance, mean over seeds),
    with integrated gradients' top three."""
    groups = rows_by_model(doc)
    columns = []
    skipped = None
    for name, rows in groups.items():
        blocks = [r["metrics"].get("explanations") for r in rows]
        blocks = [b for b in blocks if b]
        if not blocks:
            continue
        if "skipped" in blocks[0]:
            skipped = blocks[0]["skipped"]
            continue
        names = blocks[0]["feature_names"]
        perm = np.array([b["permutation"]["mean"] for b in blocks])
        mean = perm.mean(0)
        sd = perm.std(0, ddof=1) if len(perm) > 1 else np.zeros_like(mean)
        order = np.argsort(-mean, kind="stable")[:TOP_FEATURES]
        cells = [
            f"{names[i]} {mean[i]:.3f}" + (f" ± {1.96 * sd[i] / np.sqrt(len(perm)):.3f}")
            for i in order
        ]
        igs = [b["integrated_gradients"]["mean_abs"] for b in blocks if b["integrated_gradients"]]
        ig_top = "—"
        if igs:
            ig_mean = np.mean(igs, axis=0)
            ig_top = ", ".join(names[i] for i in np.argsort(-ig_mean, kind="stable")[:3])
        columns.append((name, cells, ig_top))
    if not columns:
        return "" if skipped is None else "<h2>Explanations</h2>" + note(f"Skipped: {skipped}.")
    headers = ["Rank"] + [name for name, _, _ in columns]
    rows = [
        [str(r + 1)] + [cells[r] if r < len(cells) else "" for _, cells, _ in columns]
        for r in range(max(len(c) for _, c, _ in columns))
    ]
    rows.append(["IG top 3"] + [ig for _, _, ig in columns])
    score = next(
        (
            r["metrics"]["explanations"].get("score")
            for r in doc.get("results", [])
            if r["metrics"].get("explanations", {}).get("score")
        ),
        "metric",
    )
    caption = (
        f"Permutation importance: the drop in test {score} when one feature is shuffled (mean over "
        "seeds ± 95 % CI over seeds); the last row gives the top three features by integrated "
        "gradients (mean |attribution| from the training mean to each test sample), for "
        "differentiable learners."
    )
    return "<h2>Explanations</h2>" + _table(headers, rows, caption)


def medical_sections(doc: Mapping[str, Any]) -> str:
    """Every section of this module that the document has data for, in order."""
    return diagnosis_section(doc) + intervals_section(doc) + explanations_section(doc)
