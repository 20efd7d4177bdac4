"""The capacity trade-off of a run: the model card's table and the MLflow plot."""

from __future__ import annotations

import numpy as np

from attrition.capacity import tradeoff_curve
from attrition.training.tradeoff import tradeoff_figure, tradeoff_markdown


def curve() -> dict:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 800)
    p = np.clip(rng.normal(0.3 + 0.3 * y, 0.15), 0, 1)
    return tradeoff_curve(np.tile(y, 2), np.tile(p, 2), chosen_threshold=0.5, policy="f2",
                          repeats=2)  # fmt: skip


def test_the_card_table_lists_five_capacities_and_the_chosen_point() -> None:
    found = curve()
    text = tradeoff_markdown(found)
    assert "## Capacity trade-off" in text and "800 training people" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "%" in line]
    assert [row.split("|")[1].strip() for row in rows] == ["5%", "10%", "20%", "30%", "40%"]
    twenty = rows[2].split("|")
    assert twenty[3].strip() == f"{found['recall'][19]:.0%}"
    chosen = found["chosen"]
    assert f"Chosen (f2, threshold 0.500): flags {chosen['share_flagged']:.1%}" in text


def test_the_plot_draws_both_curves_the_diagonal_and_the_chosen_point() -> None:
    found = curve()
    axes = tradeoff_figure(found).axes[0]
    assert len(axes.lines) == 3 and len(axes.collections) == 1
    x, y = axes.collections[0].get_offsets()[0]
    assert (x, y) == (found["chosen"]["share_flagged"], found["chosen"]["recall"])
    assert "800 people" in axes.get_title()
