"""The Monitoring page's fairness and data-quality tables and figures, from the stored
reports' ``summary`` (``fairness``, ``data_quality``, ``findings``; see
``monitoring/fairness.py`` and ``monitoring/quality.py``). Pure functions, no Streamlit.
Reports written before these checks existed simply have none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

from attrition.dashboard.api.responses import ReportDetail
from attrition.dashboard.panels.figures import compact

TOO_FEW: Final = "too few to judge"
FAIRNESS_METRICS: Final = ("recall", "selection_rate")
GROUP_COLUMNS: Final = (
    "attribute", "group", "people", "leavers", "recall", "training_recall",
    "selection_rate", "training_selection_rate", "verdict",
)  # fmt: skip
HISTORY_COLUMNS: Final = ("when", "report", "attribute", "group", "people", *FAIRNESS_METRICS)
QUALITY_COLUMNS: Final = ("when", "report", "share", "refused_requests", "rows_quarantined")


def _part(summary: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    found = summary.get(name)
    return found if isinstance(found, Mapping) else None


def findings_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """The report's fairness and data-quality findings: kind and message."""
    rows = [
        {"kind": f.get("kind"), "finding": f.get("message")}
        for f in summary.get("findings") or []
        if isinstance(f, Mapping)
    ]
    return pd.DataFrame(rows, columns=["kind", "finding"])


def _groups(fairness: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        group
        for attribute in fairness.get("attributes") or []
        for group in attribute.get("groups") or []
        if isinstance(group, Mapping)
    ]


def _verdict(status: Any) -> str:
    return TOO_FEW if status == "too_few" else str(status)


def fairness_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Per group: people, leavers, recall and selection rate now and at training, verdict."""
    fairness = _part(summary, "fairness") or {}
    rows = [
        {**{c: g.get(c) for c in GROUP_COLUMNS[:-1]}, "verdict": _verdict(g.get("status"))}
        for g in _groups(fairness)
    ]
    return pd.DataFrame(rows, columns=list(GROUP_COLUMNS))


def fairness_history(details: Sequence[ReportDetail]) -> pd.DataFrame:
    """Per report and group (groups large enough to judge), oldest first."""
    rows = []
    for detail in details:
        fairness = _part(detail.summary, "fairness")
        for group in _groups(fairness or {}):
            if group.get("status") == "too_few":
                continue
            rows.append(
                {
                    "when": detail.created_at,
                    "report": detail.id,
                    **{c: group.get(c) for c in HISTORY_COLUMNS[2:]},
                }
            )
    table = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))
    return table.sort_values("when").reset_index(drop=True) if rows else table


def fairness_figure(history: pd.DataFrame, attribute: str, metric: str) -> go.Figure:
    """One line per group of ``attribute``: ``metric`` per check."""
    figure = go.Figure()
    chosen = history.loc[history["attribute"] == attribute]
    for group, rows in chosen.groupby("group", sort=True):
        figure.add_trace(
            go.Scatter(x=rows["when"], y=rows[metric], name=str(group), mode="lines+markers")
        )
    figure.update_yaxes(range=[0, 1], tickformat=".0%")
    label = metric.replace("_", " ")
    return compact(figure, f"{label.capitalize()} by {attribute}, per check", 320)


def quality_history(details: Sequence[ReportDetail]) -> pd.DataFrame:
    """Per report: share of bad inputs, refused requests and quarantined rows, oldest first."""
    rows = []
    for detail in details:
        quality = _part(detail.summary, "data_quality")
        current = (quality or {}).get("current")
        if not isinstance(current, Mapping):
            continue
        rows.append(
            {"when": detail.created_at, "report": detail.id}
            | {c: current.get(c) for c in QUALITY_COLUMNS[2:]}
        )
    table = pd.DataFrame(rows, columns=list(QUALITY_COLUMNS))
    return table.sort_values("when").reset_index(drop=True) if rows else table


def quality_figure(history: pd.DataFrame) -> go.Figure:
    """Share of bad inputs per check (refused by the API plus quarantined at ingest)."""
    figure = go.Figure(
        go.Scatter(x=history["when"], y=history["share"], name="bad inputs", mode="lines+markers")
    )
    figure.update_yaxes(rangemode="tozero", tickformat=".1%")
    return compact(figure, "Share of bad inputs per check", 280)


def top_fields_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """The fields failing most in the report's period, refused and quarantined."""
    quality = _part(summary, "data_quality") or {}
    current = quality.get("current") or {}
    rows = [
        {
            "field": item.get("field"),
            "failures": item.get("count"),
            "refused (API)": (current.get("refused_fields") or {}).get(item.get("field"), 0),
            "quarantined (ingest)": (current.get("quarantined_fields") or {}).get(
                item.get("field"), 0
            ),
        }
        for item in quality.get("top_fields") or []
        if isinstance(item, Mapping)
    ]
    columns = ["field", "failures", "refused (API)", "quarantined (ingest)"]
    return pd.DataFrame(rows, columns=columns)


def unseen_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Categories of the current rows never seen in training, per feature."""
    quality = _part(summary, "data_quality") or {}
    unseen = quality.get("unseen_categories") or {}
    rows = [
        {"feature": feature, "category": category, "rows": count}
        for feature, values in unseen.items()
        for category, count in (values or {}).items()
    ]
    return pd.DataFrame(rows, columns=["feature", "category", "rows"])
