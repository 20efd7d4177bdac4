"""The plotly layout every page's figures share (title, margins, legend, percent ticks).

Pure functions: a figure in, the same figure laid out.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go


def compact(figure: go.Figure, title: str, height: int) -> go.Figure:
    """Shared layout: left-aligned title, tight margins, responsive width."""
    figure.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        autosize=True,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def percent_format(values: Sequence[float]) -> str:
    """Axis tick format: one decimal when every value is small, so ticks stay distinct."""
    top = max((abs(v) for v in values), default=0.0)
    return ".1%" if top < 0.1 else ".0%"
