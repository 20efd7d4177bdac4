"""The Monitoring page's tables and figures, from the API's drift reports.

A report's ``summary`` carries the drift engine's result (``features`` with per-feature
tests, effects and reference/current distributions, ``prediction``) either at the top level
or under ``drift``, and realised performance under ``performance`` when outcomes exist.
Pure functions, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from attrition.dashboard.api.responses import ReportDetail, ReportSummary
from attrition.dashboard.panels.figures import compact

REFERENCE_COLOR = "#7f8c8d"
CURRENT_COLOR = "#e67e22"
PERFORMANCE_METRICS = ("roc_auc", "pr_auc", "recall", "precision", "f2", "brier")
REPORT_COLUMNS = (
    "id", "created_at", "model_version", "current_rows", "dataset_drift", "drift_share",
    "prediction_drift", "performance_decay", "drifted_features", "alert_sent", "retrained",
    "new_version",
)  # fmt: skip
# Per-feature results shown as the drift engine reports them (besides name, verdict, reasons).
FEATURE_FIELDS = (
    "kind", "test", "p_adjusted", "effect", "effect_name", "threshold",
    "missing_rate_current", "unseen_rate",
)  # fmt: skip
FEATURE_COLUMNS = ("feature", "drifted", *FEATURE_FIELDS, "reasons")


def window_caption(summary: Mapping[str, Any], current_rows: int, source: str) -> str:
    """Which rows a report checked: for the prediction log, the people counted (the latest
    real prediction per person, ``attrition.workforce``) and the rows left out."""
    window = summary.get("window")
    if not isinstance(window, Mapping) or "people" not in window:
        return f"{current_rows:,} current rows from {source}"
    return (
        f"{int(window['people']):,} people ({int(window['employees']):,} employees, "
        f"{int(window['unidentified']):,} without an employee number) from "
        f"{int(window['raw_rows']):,} prediction-log rows; left out: "
        f"{int(window['what_if_rows']):,} what-if, {int(window['repeat_rows']):,} repeats"
    )


def reports_table(reports: Sequence[ReportSummary]) -> pd.DataFrame:
    """Newest first: when, model, sizes, verdicts, drifted features, actions taken."""
    rows = [
        {
            **{name: getattr(r, name) for name in REPORT_COLUMNS},
            "drifted_features": ", ".join(r.drifted_features),
        }
        for r in reports
    ]
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


def alert_history(reports: Sequence[ReportSummary]) -> pd.DataFrame:
    """Checks that raised an alert, with what was found and what happened next."""
    rows = []
    for r in reports:
        if not r.alert_sent:
            continue
        found = [
            label
            for flag, label in (
                (r.dataset_drift, "dataset drift"),
                (r.prediction_drift, "prediction drift"),
                (r.performance_decay, "performance decay"),
            )
            if flag
        ]
        action = f"retrained: v{r.new_version}" if r.retrained else "no retraining"
        rows.append(
            {
                "report": r.id,
                "created_at": r.created_at,
                "found": ", ".join(found) or "drift",
                "action": action,
            }
        )
    return pd.DataFrame(rows, columns=["report", "created_at", "found", "action"])


def drift_result(summary: Mapping[str, Any]) -> Mapping[str, Any]:
    """The drift engine's part of a report summary."""
    inner = summary.get("drift")
    return inner if isinstance(inner, Mapping) else summary


def features_of(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    features = drift_result(summary).get("features") or []
    return [f for f in features if isinstance(f, Mapping)]


def _feature_row(feature: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "feature": feature.get("name"),
        "drifted": bool(feature.get("drifted")),
        **{name: feature.get(name) for name in FEATURE_FIELDS},
        "reasons": "; ".join(feature.get("reasons") or []),
    }


def feature_drift_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """One row per feature, drifted first, then by effect size (largest first)."""
    rows = [_feature_row(f) for f in features_of(summary)]
    table = pd.DataFrame(rows, columns=list(FEATURE_COLUMNS))
    effect = pd.to_numeric(table["effect"], errors="coerce").fillna(-1.0)
    order = table.assign(_effect=effect).sort_values(
        ["drifted", "_effect", "feature"], ascending=[False, False, True], kind="stable"
    )
    return order.drop(columns="_effect").reset_index(drop=True)


def find_feature(summary: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    return next((f for f in features_of(summary) if f.get("name") == name), None)


def prediction_drift(summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
    found = drift_result(summary).get("prediction")
    return found if isinstance(found, Mapping) else None


def _bar_labels(distribution: Mapping[str, Any]) -> list[str]:
    labels = list(distribution.get("labels") or [])
    if labels:
        return [str(label) for label in labels]
    edges = list(distribution.get("edges") or [])
    return [f"{low:.3g} to {high:.3g}" for low, high in pairwise(edges)]


def distribution_figure(feature: Mapping[str, Any]) -> go.Figure:
    """Reference vs current proportions per category, level or histogram bin."""
    figure = go.Figure()
    for side, color in (("reference", REFERENCE_COLOR), ("current", CURRENT_COLOR)):
        distribution = feature.get(side) or {}
        figure.add_trace(
            go.Bar(
                x=_bar_labels(distribution),
                y=list(distribution.get("proportions") or []),
                name=side,
                marker_color=color,
            )
        )
    figure.update_layout(barmode="group")
    figure.update_yaxes(tickformat=".0%", title="share of rows")
    verdict = "drifted" if feature.get("drifted") else "no drift"
    return compact(figure, f"{feature.get('name')}: reference vs current ({verdict})", 320)


def performance_of(summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
    found = summary.get("performance")
    return found if isinstance(found, Mapping) else None


def _metrics(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Metric values of a performance block: its ``overall`` window, ``metrics``, or itself."""
    inner = entry.get("overall", entry.get("metrics", entry))
    source = inner if isinstance(inner, Mapping) else entry
    return {m: source[m] for m in PERFORMANCE_METRICS if source.get(m) is not None}


def performance_rows(details: Sequence[ReportDetail]) -> pd.DataFrame:
    """Realised performance per report that had outcomes, oldest first."""
    rows = []
    for detail in details:
        performance = performance_of(detail.summary)
        if performance is None or not _metrics(performance):
            continue
        rows.append(
            {
                "when": detail.created_at,
                "report": detail.id,
                "status": performance.get("status"),
                **_metrics(performance),
            }
        )
    if not rows:
        return pd.DataFrame(columns=["when", "report", "status"])
    return pd.DataFrame(rows).sort_values("when").reset_index(drop=True)


def window_rows(summary: Mapping[str, Any]) -> pd.DataFrame:
    """One report's realised performance per time window (window end), oldest first."""
    performance = performance_of(summary) or {}
    windows = [w for w in performance.get("windows") or [] if isinstance(w, Mapping)]
    rows = [
        {
            "when": w.get("end"),
            "outcomes": w.get("outcomes"),
            "status": w.get("status"),
            **_metrics(w),
        }
        for w in windows
        if _metrics(w)
    ]
    return pd.DataFrame(rows, columns=None if rows else ["when", "outcomes", "status"])


def performance_figure(table: pd.DataFrame, title: str) -> go.Figure:
    figure = go.Figure()
    for metric in PERFORMANCE_METRICS:
        if metric in table.columns:
            figure.add_trace(
                go.Scatter(x=table["when"], y=table[metric], name=metric, mode="lines+markers")
            )
    figure.update_yaxes(range=[0, 1])
    return compact(figure, title, 320)
