"""Workforce overview: headline numbers, risk tables and charts from the API's aggregate.

Every number shown comes from ``GET /v1/workforce/summary``; nothing is recomputed from
individual predictions. Pure functions (tables and plotly figures), no Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from attrition.dashboard.api.responses import RiskGroup, RiskPeriod, WorkforceSummary
from attrition.dashboard.panels.figures import compact, percent_format
from attrition.risk import RISK_BANDS
from attrition.schema import categories_of

# The groupings the overview shows, in order, by the API's name (``by_<name>``).
GROUPINGS: dict[str, str] = {
    "department": "Department",
    "job_role": "Job role",
    "job_level": "Job level",
    "tenure_band": "Tenure band",
    "overtime": "Overtime",
    "band": "Risk band",
}
BAND_ORDER = RISK_BANDS
RISK_COLOR = "#c0392b"
NEUTRAL_COLOR = "#2c7fb8"
EVERYONE = "All"  # the filter choice that does not filter


def filter_choices(feature: str) -> list[str]:
    """A filter's options: everyone, then the feature's categories."""
    return [EVERYONE, *categories_of(feature)]


def filter_value(choice: str) -> str | None:
    """The API's filter for a choice (None for everyone)."""
    return None if choice == EVERYONE else choice


@dataclass(frozen=True, slots=True)
class Headline:
    headcount: int
    at_risk: int
    share_at_risk: float
    expected_leavers: float | None


def headline(summary: WorkforceSummary) -> Headline:
    """Headcount, at risk and their share, and expected leavers (the sum of probabilities:
    the API's figure when it sends one, else from its per-department means and counts)."""
    share = summary.at_risk / summary.employees if summary.employees else 0.0
    expected = summary.expected_leavers
    departments = summary.groupings.get("department")
    if expected is None and departments is not None:
        expected = sum(g.mean_probability * g.employees for g in departments)
    return Headline(summary.employees, summary.at_risk, share, expected)


def missing_groupings(summary: WorkforceSummary) -> list[str]:
    """Labels of the groupings this overview wants but the API does not provide."""
    return [label for name, label in GROUPINGS.items() if name not in summary.groupings]


def group_table(
    groups: Sequence[RiskGroup], *, min_employees: int = 1, selected: Sequence[str] = ()
) -> pd.DataFrame:
    """One row per group (at least ``min_employees``; only ``selected`` ones if given),
    highest at-risk share first."""
    rows = [
        g for g in groups if g.employees >= min_employees and (not selected or g.group in selected)
    ]
    frame = pd.DataFrame(
        {
            "group": [g.group for g in rows],
            "employees": [g.employees for g in rows],
            "at_risk": [g.at_risk for g in rows],
            "at_risk_share": [g.at_risk_share for g in rows],
            "mean_probability": [g.mean_probability for g in rows],
            "expected_leavers": [g.mean_probability * g.employees for g in rows],
        }
    )
    return frame.sort_values(
        ["at_risk_share", "group"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def _risk_bars(ordered: pd.DataFrame) -> list[go.Bar]:
    groups = ordered["group"].astype(str)
    counts = zip(ordered["at_risk"], ordered["employees"], strict=True)
    return [
        go.Bar(
            x=ordered["at_risk_share"], y=groups, orientation="h", name="share at risk",
            marker_color=RISK_COLOR, text=[f"{a} of {n}" for a, n in counts],
            textposition="outside", cliponaxis=False, textfont={"size": 12},
            hovertemplate="%{y}: %{x:.0%} at risk<extra></extra>",
        ),
        go.Bar(
            x=ordered["mean_probability"], y=groups, orientation="h", name="mean risk",
            marker_color=NEUTRAL_COLOR,
            hovertemplate="%{y}: mean risk %{x:.1%}<extra></extra>",
        ),
    ]  # fmt: skip


def risk_bar(table: pd.DataFrame, title: str) -> go.Figure:
    """Per group, the share at risk (labelled "at risk of employees") and the mean risk."""
    ordered = table.iloc[::-1]
    figure = go.Figure(_risk_bars(ordered))
    figure.update_layout(barmode="group")
    values = [*ordered["at_risk_share"], *ordered["mean_probability"]]
    top = max(values, default=0.0) or 1.0
    # Room on the right for the "a of n" labels outside the bars, even on a phone.
    figure.update_xaxes(tickformat=percent_format(values), range=[0, top * 1.4])
    figure.update_yaxes(automargin=True)
    return compact(figure, title, height=max(240, 80 + 48 * len(table)))


def trend_table(periods: Sequence[RiskPeriod]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": [p.period for p in periods],
            "predictions": [p.predictions for p in periods],
            "at_risk_share": [p.at_risk_share for p in periods],
            "mean_probability": [p.mean_probability for p in periods],
        }
    )


def _trend_line(table: pd.DataFrame, column: str, name: str, color: str) -> go.Scatter:
    return go.Scatter(
        x=table["period"], y=table[column], name=name, mode="lines+markers", line_color=color
    )


def trend_figure(periods: Sequence[RiskPeriod]) -> go.Figure:
    """Daily share at risk and mean probability from the prediction log."""
    table = trend_table(periods)
    figure = go.Figure(
        [
            _trend_line(table, "at_risk_share", "share at risk", RISK_COLOR),
            _trend_line(table, "mean_probability", "mean probability", NEUTRAL_COLOR),
        ]
    )
    values = [*table["at_risk_share"], *table["mean_probability"]]
    figure.update_yaxes(tickformat=percent_format(values), range=[0, max(values) * 1.15 or 1])
    figure.update_xaxes(type="date", tickformat="%b %d")
    if len(table) == 1:  # a single day: show it with a day either side, not milliseconds
        day = pd.Timestamp(table["period"].iloc[0])
        figure.update_xaxes(
            range=[day - pd.Timedelta(days=1), day + pd.Timedelta(days=1)], dtick=86_400_000
        )
    return compact(figure, "Risk over time (predictions logged per day)", height=320)
