"""The capacity trade-off of a trained model: share flagged -> share of leavers caught,
precision and expected leavers caught, on the calibrated out-of-fold predictions the
threshold was chosen on, with the chosen point. Logged with every run (JSON artifact read
by ``GET /v1/model``, a plot) and summarised on the model card.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from attrition.capacity import tradeoff_curve
from attrition.registry.artifacts import CAPACITY_ARTIFACT

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from attrition.training.pipeline import Evaluation, PreparedData

CAPACITY_PLOT = "plots/capacity_tradeoff.png"
CARD_SHARES = (0.05, 0.1, 0.2, 0.3, 0.4)


def evaluation_curve(evaluation: Evaluation, data: PreparedData) -> dict[str, Any]:
    """The trade-off on the out-of-fold predictions (repeats stacked, counts per person)."""
    repeats = evaluation.oof_probabilities.shape[0]
    return tradeoff_curve(
        np.tile(data.y_train, repeats),
        evaluation.oof_probabilities.ravel(),
        chosen_threshold=evaluation.threshold.threshold,
        policy=evaluation.threshold.policy,
        repeats=repeats,
    )


def tradeoff_figure(curve: dict[str, Any]) -> Figure:
    """Share of leavers caught and precision against the share flagged; the chosen point."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4.5), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(f"Capacity trade-off ({curve['basis']}, {curve['population']} people)")
    axes.plot(curve["share_flagged"], curve["recall"], label="share of leavers caught")
    axes.plot(curve["share_flagged"], curve["precision"], label="precision")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random order")
    chosen = curve["chosen"]
    label = f"chosen ({chosen['policy']}): {chosen['share_flagged']:.0%} flagged"
    axes.scatter([chosen["share_flagged"]], [chosen["recall"]], color="red", zorder=3, label=label)
    axes.set_xlabel("Share of people flagged")
    axes.set_ylabel("Share")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.legend(loc="lower right")
    return figure


def _row(curve: dict[str, Any], index: int) -> str:
    return (
        f"| {curve['capacity'][index]:.0%} | {curve['share_flagged'][index]:.1%} "
        f"| {curve['recall'][index]:.0%} | {curve['precision'][index]:.0%} "
        f"| {curve['expected_leavers_caught'][index]:.1f} |"
    )


def tradeoff_markdown(curve: dict[str, Any]) -> str:
    """The model card's section: a few capacities and the chosen point."""
    chosen = curve["chosen"]
    indexes = [curve["capacity"].index(share) for share in CARD_SHARES]
    lines = [
        "",
        "## Capacity trade-off",
        f"Flagging the highest-risk share of the {curve['population']} training people "
        f"({curve['leavers']} leavers; {curve['basis']} calibrated predictions). Expected",
        "leavers caught is the sum of the calibrated risk of the people flagged.",
        "",
        "| capacity | flagged | leavers caught | precision | expected leavers caught |",
        "|---|---|---|---|---|",
        *[_row(curve, i) for i in indexes],
        "",
        f"Chosen ({chosen['policy']}, threshold {chosen['threshold']:.3f}): flags "
        f"{chosen['share_flagged']:.1%}, catches {chosen['recall']:.0%} of leavers at "
        f"precision {chosen['precision']:.0%}.",
    ]
    return "\n".join(lines) + "\n"


def log_tradeoff(evaluation: Evaluation, data: PreparedData) -> dict[str, Any]:
    """Log the curve (JSON) and its plot to the active MLflow run; returns the curve."""
    import mlflow

    curve = evaluation_curve(evaluation, data)
    mlflow.log_dict(curve, CAPACITY_ARTIFACT)
    mlflow.log_figure(tradeoff_figure(curve), CAPACITY_PLOT)
    return curve
