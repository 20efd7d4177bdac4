"""Small plotly figures shared by pages: top factors and risk gauges.

Pure functions: data in, ``plotly.graph_objects.Figure`` out.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from attrition.dashboard.api.responses import Factor, Prediction

RAISES = "#c0392b"
LOWERS = "#27ae60"


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


def factor_label(factor: Factor) -> str:
    return f"{factor.feature} = {factor.value}" if factor.value is not None else factor.feature


def factors_figure(factors: Sequence[Factor], title: str = "Top factors") -> go.Figure:
    """Signed contributions as horizontal bars: red raises the risk, green lowers it."""
    ordered = sorted(factors, key=lambda f: abs(f.contribution))
    figure = go.Figure(
        go.Bar(
            x=[f.contribution for f in ordered],
            y=[factor_label(f) for f in ordered],
            orientation="h",
            marker_color=[RAISES if f.contribution > 0 else LOWERS for f in ordered],
            hovertemplate="%{y}: %{x:+.3f}<extra></extra>",
        )
    )
    figure.update_xaxes(title="effect on risk (log-odds; + raises, - lowers)", zeroline=True)
    figure.update_yaxes(automargin=True)
    return compact(figure, title, height=max(200, 60 + 34 * len(ordered)))


def scenario_figure(current: Prediction, scenario: Prediction) -> go.Figure:
    """Current and what-if probabilities side by side, with the decision threshold."""
    names = ["Current", "What-if"]
    values = [current.attrition_probability, scenario.attrition_probability]
    figure = go.Figure(
        go.Bar(
            x=names,
            y=values,
            marker_color=[RAISES if v >= current.threshold else LOWERS for v in values],
            text=[f"{v:.0%}" for v in values],
            textposition="auto",
        )
    )
    figure.add_hline(
        y=current.threshold, line_dash="dash", annotation_text=f"threshold {current.threshold:.0%}"
    )
    figure.update_yaxes(range=[0, 1], tickformat=".0%", title="attrition risk")
    return compact(figure, "Risk: current vs what-if", height=300)
