"""Capacity: the Model page's trade-off chart (share flagged -> leavers caught, precision,
expected leavers caught, with the served threshold's point) from ``GET /v1/model``'s
``capacity``, and the Workforce page's line from the summary's ``capacity``.

Pure functions (tables, plotly figures, sentences), no Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from attrition.dashboard.panels.figures import compact

TABLE_CAPACITIES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
CAUGHT_COLOR = "#c0392b"
PRECISION_COLOR = "#2c7fb8"


def _line(curve: Mapping[str, Any], key: str, name: str, color: str) -> go.Scatter:
    return go.Scatter(
        x=list(curve["share_flagged"]), y=list(curve[key]), name=name, mode="lines",
        line_color=color, customdata=list(curve["expected_leavers_caught"]),
        hovertemplate=f"%{{x:.0%}} flagged: %{{y:.0%}} {name.lower()}, "
        "%{customdata:.1f} expected leavers caught<extra></extra>",
    )  # fmt: skip


def capacity_figure(curve: Mapping[str, Any]) -> go.Figure:
    """Share of leavers caught and precision against the share flagged, the random-order
    diagonal, and the served threshold's point marked."""
    chosen = curve["chosen"]
    figure = go.Figure(
        [
            _line(curve, "recall", "Leavers caught", CAUGHT_COLOR),
            _line(curve, "precision", "Precision", PRECISION_COLOR),
            go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="random order",
                       line={"dash": "dash", "color": "grey"}),
            go.Scatter(
                x=[chosen["share_flagged"]], y=[chosen["recall"]], mode="markers+text",
                name=f"served threshold ({chosen['policy']})",
                marker={"size": 13, "color": "black", "symbol": "diamond"},
                text=[f"{chosen['share_flagged']:.0%} flagged"], textposition="bottom right",
            ),
        ]
    )  # fmt: skip
    figure.update_xaxes(title="Share of people flagged (highest risk first)", range=[0, 1],
                        tickformat=".0%")  # fmt: skip
    figure.update_yaxes(title="Share", range=[0, 1.02], tickformat=".0%")
    return compact(figure, "Capacity trade-off (out-of-fold)", height=360)


def capacity_table(curve: Mapping[str, Any]) -> pd.DataFrame:
    """A few capacities: flagged, leavers caught, precision, expected leavers caught (per
    ``population`` people)."""
    capacities = list(curve["capacity"])
    rows = []
    for share in TABLE_CAPACITIES:
        if share in capacities:
            i = capacities.index(share)
            rows.append(
                {
                    "capacity": f"{share:.0%}",
                    "people flagged": curve["flagged"][i],
                    "leavers caught": curve["recall"][i],
                    "precision": curve["precision"][i],
                    "expected leavers caught": curve["expected_leavers_caught"][i],
                }
            )
    return pd.DataFrame(rows)


def capacity_caption(curve: Mapping[str, Any]) -> str:
    """What the served threshold does, in words."""
    chosen = curve["chosen"]
    return (
        f"The served threshold ({chosen['policy']}, {chosen['threshold']:.3f}) flags "
        f"{chosen['share_flagged']:.1%} of people and catches {chosen['recall']:.0%} of "
        f"leavers at precision {chosen['precision']:.0%}: on {curve['population']} people "
        f"({curve['leavers']} leavers) of the training data, out-of-fold, about "
        f"{chosen['expected_leavers_caught']:.1f} expected leavers among "
        f"{chosen['flagged']:.0f} people flagged."
    )


def workforce_capacity_line(plan: Mapping[str, Any] | None) -> str | None:
    """The Workforce page's sentence on the capacity; None when the API sends none."""
    if not plan:
        return None
    return (
        f"At capacity {plan['capacity']}: talking to the {plan['people']:,} highest-risk "
        f"employees would reach {plan['expected_leavers_caught']:,.1f} expected leavers "
        f"({plan['share_of_expected_leavers']:.0%} of all expected leavers)."
    )
