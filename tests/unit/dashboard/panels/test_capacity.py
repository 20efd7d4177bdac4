"""The capacity panels: the trade-off chart with the served point, its table and sentences."""

from __future__ import annotations

import numpy as np
import pytest

from attrition.capacity import tradeoff_curve
from attrition.dashboard.panels.capacity import (
    capacity_caption,
    capacity_figure,
    capacity_table,
    workforce_capacity_line,
)


@pytest.fixture(scope="module")
def curve() -> dict:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.clip(rng.normal(0.3 + 0.3 * y, 0.15), 0, 1)
    return tradeoff_curve(y, p, chosen_threshold=0.5, policy="f2")


def test_the_chart_draws_leavers_caught_and_precision_and_marks_the_served_point(curve):
    figure = capacity_figure(curve)
    names = [trace.name for trace in figure.data]
    assert names == ["Leavers caught", "Precision", "random order", "served threshold (f2)"]
    caught = figure.data[0]
    assert list(caught.x) == curve["share_flagged"] and list(caught.y) == curve["recall"]
    marker = figure.data[3]
    assert (marker.x[0], marker.y[0]) == (
        curve["chosen"]["share_flagged"],
        curve["chosen"]["recall"],
    )
    assert "expected leavers caught" in caught.hovertemplate


def test_the_table_lists_a_few_capacities_and_the_caption_the_served_point(curve):
    table = capacity_table(curve)
    assert list(table["capacity"]) == ["5%", "10%", "20%", "30%", "40%", "50%"]
    row = table.set_index("capacity").loc["20%"]
    assert row["leavers caught"] == curve["recall"][19]
    assert row["people flagged"] == pytest.approx(100)
    text = capacity_caption(curve)
    assert f"flags {curve['chosen']['share_flagged']:.1%} of people" in text
    assert "500 people" in text


def test_the_workforce_line_says_how_many_expected_leavers_the_capacity_reaches():
    plan = {"capacity": "20%", "people": 12, "share": 0.2, "expected_leavers_caught": 4.26,
            "share_of_expected_leavers": 0.43}  # fmt: skip
    assert workforce_capacity_line(plan) == (
        "At capacity 20%: talking to the 12 highest-risk employees would reach 4.3 expected "
        "leavers (43% of all expected leavers)."
    )
    assert workforce_capacity_line(None) is None
