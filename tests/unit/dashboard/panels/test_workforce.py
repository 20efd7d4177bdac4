"""Headline numbers, risk tables and figures of the Workforce page (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from attrition.dashboard.api.responses import WorkforceSummary
from attrition.dashboard.panels.workforce import (
    filter_choices,
    filter_value,
    group_table,
    headline,
    missing_groupings,
    risk_bar,
    trend_figure,
)

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _summary(**extra: Any) -> WorkforceSummary:
    groups = [
        {
            "group": "Sales",
            "employees": 4,
            "at_risk": 2,
            "at_risk_share": 0.5,
            "mean_probability": 0.4,
        },
        {
            "group": "Research & Development",
            "employees": 6,
            "at_risk": 1,
            "at_risk_share": 1 / 6,
            "mean_probability": 0.2,
        },
    ]
    body = {
        "since": NOW.isoformat(),
        "employees": 10,
        "at_risk": 3,
        "by_department": groups,
        "by_band": groups[:1],
        "over_time": [
            {
                "period": "2026-01-04",
                "predictions": 7,
                "at_risk_share": 0.3,
                "mean_probability": 0.25,
            }
        ],
        **extra,
    }
    return WorkforceSummary.from_api(body)


def test_headline_from_api_aggregates() -> None:
    summary = _summary()
    numbers = headline(summary)
    assert (numbers.headcount, numbers.at_risk) == (10, 3)
    assert numbers.share_at_risk == pytest.approx(0.3)
    assert numbers.expected_leavers == pytest.approx(4 * 0.4 + 6 * 0.2)
    assert headline(_summary(expected_leavers=2.5)).expected_leavers == 2.5
    assert missing_groupings(summary) == ["Job role", "Job level", "Tenure band", "Overtime"]
    assert set(_summary(by_overtime=[]).groupings) == {"department", "band", "overtime"}


def test_group_table_filters_and_orders() -> None:
    groups = _summary().groupings["department"]
    table = group_table(groups)
    assert list(table["group"]) == ["Sales", "Research & Development"]
    assert table.loc[0, "expected_leavers"] == pytest.approx(1.6)
    assert list(group_table(groups, min_employees=5)["group"]) == ["Research & Development"]
    assert list(group_table(groups, selected=["Sales"])["group"]) == ["Sales"]
    figure = risk_bar(table, "t")
    assert list(figure.data[0].y) == ["Research & Development", "Sales"]
    assert list(figure.data[0].text) == ["1 of 6", "2 of 4"]
    assert list(figure.data[1].x) == [0.2, 0.4]  # mean risk per group
    assert list(figure.data[1].x) == [0.2, 0.4]  # mean risk per group
    assert trend_figure(_summary().over_time).data[0].x[0] == date(2026, 1, 4)


def test_filters_offer_everyone_first_and_send_nothing_for_it() -> None:
    choices = filter_choices("Department")
    assert choices[0] == "All" and "Sales" in choices
    assert filter_value("All") is None and filter_value("Sales") == "Sales"
