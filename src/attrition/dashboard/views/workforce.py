"""Workforce overview: where risk concentrates, from the API's aggregate (latest prediction
per employee over a window)."""

from __future__ import annotations

import streamlit as st

from attrition.dashboard import session
from attrition.dashboard.api.client import ApiError
from attrition.dashboard.api.responses import RiskGroup, WorkforceSummary
from attrition.dashboard.panels.capacity import workforce_capacity_line
from attrition.dashboard.panels.workforce import (
    GROUPINGS,
    filter_choices,
    filter_value,
    group_table,
    headline,
    missing_groupings,
    risk_bar,
    trend_figure,
    trend_table,
)

WINDOWS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "Last year": 365}


def show_headline(summary: WorkforceSummary) -> None:
    numbers = headline(summary)
    columns = st.columns(4)
    columns[0].metric("Headcount scored", f"{numbers.headcount:,}")
    columns[1].metric("At risk", f"{numbers.at_risk:,}")
    columns[2].metric("Share at risk", f"{numbers.share_at_risk:.1%}")
    expected = numbers.expected_leavers
    columns[3].metric(
        "Expected leavers",
        "n/a" if expected is None else f"{expected:,.1f}",
        help="Sum of the attrition probabilities over the latest prediction per employee.",
    )
    capacity = workforce_capacity_line(summary.capacity)
    if capacity:
        st.caption(capacity)


def show_group(name: str, label: str, groups: list[RiskGroup], min_employees: int) -> None:
    """One grouping's tab: a filter, the chart and the table."""
    chosen = st.multiselect(
        f"Show only these ({label.lower()})", [g.group for g in groups], key=f"wf-groups-{name}"
    )
    table = group_table(groups, min_employees=min_employees, selected=chosen)
    if table.empty:
        st.info("No group matches the filters.")
        return
    session.show_chart(risk_bar(table, f"Share at risk by {label.lower()}"), f"wf-chart-{name}")
    session.show_table(
        table,
        f"wf-table-{name}",
        {
            "at_risk_share": st.column_config.NumberColumn(format="percent"),
            "mean_probability": st.column_config.NumberColumn(format="percent"),
            "expected_leavers": st.column_config.NumberColumn(format="%.1f"),
        },
    )


def show_groupings(summary: WorkforceSummary, min_employees: int) -> None:
    present = [(name, label) for name, label in GROUPINGS.items() if name in summary.groupings]
    tabs = st.tabs([label for _, label in present])
    for tab, (name, label) in zip(tabs, present, strict=True):
        with tab:
            show_group(name, label, summary.groupings[name], min_employees)
    missing = missing_groupings(summary)
    if missing:
        st.info(
            "Not available from this API version: risk by "
            + ", ".join(m.lower() for m in missing)
            + ".",
            icon=":material/info:",
        )


def show_trend(summary: WorkforceSummary) -> None:
    st.subheader("Trend")
    if summary.over_time:
        session.show_chart(trend_figure(summary.over_time), "wf-trend")
        with st.expander("Trend data"):
            st.dataframe(trend_table(summary.over_time), hide_index=True, key="wf-trend-table")
    else:
        st.info("No prediction history in this window yet.")


def filters() -> tuple[int, str | None, str | None, int]:
    """The window (days), department, job role and smallest group size chosen."""
    columns = st.columns(4)
    window = columns[0].selectbox("Window", list(WINDOWS), index=2, key="wf-window")
    department = columns[1].selectbox("Department", filter_choices("Department"), key="wf-dept")
    job_role = columns[2].selectbox("Job role", filter_choices("JobRole"), key="wf-role")
    min_employees = columns[3].number_input(
        "Hide groups smaller than", min_value=1, value=1, step=1, key="wf-min"
    )
    return WINDOWS[window], filter_value(department), filter_value(job_role), int(min_employees)


def render() -> None:
    st.title("Workforce overview")
    days, department, job_role, min_employees = filters()
    try:
        summary = session.workforce(days, department=department, job_role=job_role)
    except ApiError as error:
        session.show_error(error)
        return
    if summary.employees == 0:
        st.info(
            "No predictions yet in this window. Score employees on the Predict or Batch "
            "page (or through the API) and they appear here.",
            icon=":material/info:",
        )
        return
    show_headline(summary)
    show_groupings(summary, min_employees)
    show_trend(summary)
    st.caption(
        f"Latest prediction per employee since {summary.since:%Y-%m-%d %H:%M} UTC. "
        + session.DISCLAIMER
    )


if __name__ == "__main__":
    render()
