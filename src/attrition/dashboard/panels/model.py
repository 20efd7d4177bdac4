"""The Model page's tables and figures, from ``GET /v1/model`` (and ``GET /v1/models``).

The API sends the champion's run metrics (``holdout_*``, ``oof_*``, ...). Richer parts
(fairness report, global importance, curves, version history) are read when the API sends
them and reported as missing otherwise. Pure functions, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from attrition.dashboard.api.responses import ModelVersion
from attrition.dashboard.panels.figures import compact

FOUR_FIFTHS = 0.8
METRIC_LABELS: dict[str, str] = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "f1": "F1",
    "f2": "F2",
    "precision": "Precision",
    "recall": "Recall",
    "brier": "Brier score",
    "ece": "Calibration error (ECE)",
    "selection_rate": "Share flagged at risk",
    "base_rate": "Share who left",
}
SOURCES = {"holdout": "holdout_", "out-of-fold": "oof_"}
CONFUSION = ("tn", "fp", "fn", "tp")


def metric_table(metrics: Mapping[str, float]) -> pd.DataFrame:
    """Known metrics by source (holdout, out-of-fold; bare names count as holdout); a
    source column the API does not send is left out."""
    rows = []
    for key, label in METRIC_LABELS.items():
        row: dict[str, Any] = {"metric": label}
        for source, prefix in SOURCES.items():
            bare = metrics.get(key) if source == "holdout" else None
            row[source] = metrics.get(prefix + key, bare)
        if row["holdout"] is not None or row["out-of-fold"] is not None:
            rows.append(row)
    table = pd.DataFrame(rows, columns=["metric", *SOURCES])
    return table.dropna(axis="columns", how="all")


def auc_interval(metrics: Mapping[str, float]) -> tuple[float, float] | None:
    """The holdout ROC-AUC's bootstrap interval, when the API sends it."""
    for prefix in ("holdout_", ""):
        low, high = metrics.get(f"{prefix}roc_auc_ci_low"), metrics.get(f"{prefix}roc_auc_ci_high")
        if low is not None and high is not None:
            return float(low), float(high)
    return None


def confusion_counts(
    metrics: Mapping[str, float], prefix: str = "holdout_"
) -> dict[str, int] | None:
    """tn/fp/fn/tp at the threshold, or None when the metrics lack them."""
    found = {name: metrics.get(prefix + name, metrics.get(name)) for name in CONFUSION}
    if any(value is None for value in found.values()):
        return None
    return {name: int(value) for name, value in found.items() if value is not None}


def confusion_figure(counts: Mapping[str, int], threshold: float) -> go.Figure:
    """The 2x2 matrix (rows: what happened, columns: what the model said)."""
    z = [[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=["predicted stay", "predicted leave"],
            y=["stayed", "left"],
            colorscale="Blues",
            showscale=False,
            text=z,
            texttemplate="%{text}",
            hovertemplate="%{y}, %{x}: %{z}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    return compact(figure, f"Confusion matrix at threshold {threshold:.2f} (holdout)", 300)


FAIRNESS_SECTIONS = ("out_of_sample", "holdout")


def fairness_section(report: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """The per-attribute part of the run's fairness report: the section its ``basis``
    names (else the first present), or the report itself when it has no sections."""
    basis = report.get("basis")
    names = [basis, *FAIRNESS_SECTIONS] if isinstance(basis, str) else list(FAIRNESS_SECTIONS)
    for name in names:
        section = report.get(name)
        if isinstance(section, Mapping):
            return name, section
    return None, report


def fairness_caption(report: Mapping[str, Any]) -> str | None:
    """Which decisions the fairness table is about, when the report has sections."""
    section, _ = fairness_section(report)
    if not section:
        return None
    basis = report.get("basis")
    detail = f" ({basis})." if isinstance(basis, str) else "."
    return f"Fairness of the {section.replace('_', '-')} decisions{detail}"


def fairness_table(report: Mapping[str, Any]) -> pd.DataFrame:
    """One row per attribute and group, with the attribute's parity ratio and whether it
    meets the four-fifths rule (selection-rate ratio of at least 0.8)."""
    rows = []
    _, attributes = fairness_section(report)
    for attribute, entry in attributes.items():
        if not isinstance(entry, Mapping):
            continue
        ratio = entry.get("parity_ratio")
        ok = entry.get("four_fifths_ok", ratio is not None and ratio >= FOUR_FIFTHS)
        for group, values in (entry.get("by_group") or {}).items():
            rows.append(
                {
                    "attribute": attribute,
                    "group": group,
                    **values,
                    "parity_ratio": ratio,
                    "four_fifths": "meets 4/5 rule" if ok else "below 4/5 rule",
                }
            )
    return pd.DataFrame(rows)


def importance_figure(importance: Mapping[str, float], top: int = 15) -> go.Figure:
    """Global importance (mean absolute contribution), largest at the top."""
    items = sorted(importance.items(), key=lambda kv: abs(kv[1]), reverse=True)[:top][::-1]
    figure = go.Figure(
        go.Bar(
            x=[v for _, v in items],
            y=[k for k, _ in items],
            orientation="h",
            marker_color="#2c7fb8",
        )
    )
    figure.update_yaxes(automargin=True)
    figure.update_xaxes(title="mean |contribution|")
    return compact(figure, "Global feature importance", height=60 + 26 * len(items))


# Per curve kind: x and y keys of the API's point lists, axis titles, figure title.
CURVE_AXES = {
    "roc": ("fpr", "tpr", "False positive rate", "True positive rate", "ROC curve"),
    "pr": ("recall", "precision", "Recall", "Precision", "Precision-recall curve"),
    "calibration": (
        "predicted", "observed", "Predicted probability", "Observed share who left", "Calibration",
    ),
}  # fmt: skip
DIAGONAL = {"x": [0, 1], "y": [0, 1], "mode": "lines", "name": "reference",
            "line": {"dash": "dash", "color": "grey"}}  # fmt: skip


def curve_figure(curve: Mapping[str, Sequence[float]], kind: str) -> go.Figure:
    """ROC, precision-recall or calibration curve from the API's point lists."""
    x_key, y_key, x_title, y_title, title = CURVE_AXES[kind]
    mode = "lines+markers" if kind == "calibration" else "lines"
    figure = go.Figure(
        go.Scatter(x=list(curve[x_key]), y=list(curve[y_key]), mode=mode, name=title)
    )
    if kind in ("roc", "calibration"):  # chance and perfect calibration lie on the diagonal
        figure.add_trace(go.Scatter(**DIAGONAL))
    figure.update_xaxes(title=x_title, range=[0, 1])
    figure.update_yaxes(title=y_title, range=[0, 1])
    return compact(figure, title, height=320)


def versions_table(versions: Sequence[ModelVersion]) -> pd.DataFrame:
    """Version history: version, aliases, creation time, holdout ROC-AUC, gate verdict."""
    rows = [
        {
            "version": v.version,
            "aliases": ", ".join(v.aliases),
            "created_at": v.created_at,
            "roc_auc": v.metrics.get("holdout_roc_auc", v.metrics.get("roc_auc")),
            "gate_passed": v.gate_passed,
        }
        for v in versions
    ]
    return pd.DataFrame(
        rows, columns=["version", "aliases", "created_at", "roc_auc", "gate_passed"]
    )
