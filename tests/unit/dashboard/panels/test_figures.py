"""The layout every dashboard figure shares."""

from __future__ import annotations

import plotly.graph_objects as go

from attrition.dashboard.panels.figures import compact, percent_format


def test_compact_titles_and_sizes_the_figure() -> None:
    figure = compact(go.Figure(go.Bar(x=[1], y=["a"])), "Title", 240)
    assert figure.layout.title.text == "Title" and figure.layout.title.x == 0
    assert figure.layout.height == 240 and figure.layout.legend.orientation == "h"


def test_percent_ticks_get_a_decimal_only_when_every_value_is_small() -> None:
    assert percent_format([0.02, 0.08]) == ".1%"
    assert percent_format([0.02, 0.4]) == ".0%"
    assert percent_format([]) == ".1%"
