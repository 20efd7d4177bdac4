"""The ranked action list: the one rule behind the Batch page's list and
``attrition predict --top N / --capacity C``.

HR plans by capacity ("we can talk to 40 people this quarter", read by
``attrition.capacity.Capacity``). The list holds that many employees, ranked by predicted
risk alone (highest first; ties by employee number), with the top factors and the best
retention lever of each. Nothing else is used to rank: no protected attribute, no
department. The list carries no protected attribute either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from attrition.schema import IDENTIFIER

if TYPE_CHECKING:
    import pandas as pd

SCORE: Final = "attrition_probability"
ACTION_COLUMNS: Final = (
    "rank",
    IDENTIFIER,
    SCORE,
    "risk_band",
    "best_lever",
    "risk_after_lever",
    "top_factors",
)
NO_LEVER: Final = "none lowers the risk"
TOP_FACTORS: Final = 5  # per employee, as the API returns them
LEVERS_NOTE: Final = (
    "Levers are the model's associations, not causal promises: each risk is what the model "
    "predicts for the same employee with that one change (or pair), everything else equal. "
    "Whether the change would make this person stay is for HR and the employee to judge."
)


def ranked(frame: pd.DataFrame, count: int) -> pd.DataFrame:
    """The ``count`` highest-risk rows of ``frame`` (risk in ``attrition_probability``),
    highest first, ties by employee number; a ``rank`` column from 1."""
    order = frame.sort_values([SCORE, IDENTIFIER], ascending=[False, True], kind="stable")
    top = order.head(max(count, 0)).reset_index(drop=True)
    top.insert(0, "rank", range(1, len(top) + 1))
    return top


def factors_text(factors: Sequence[tuple[str, Any, float]]) -> str:
    """``feature=value (+0.42); ...`` from (feature, value, contribution) triples."""
    return "; ".join(
        f"{name}={value} ({contribution:+.2f})" for name, value, contribution in factors
    )


def lever_text(lever: Mapping[str, Any] | None) -> str:
    """A lever as the list shows it: ``end regular overtime (OverTime Yes -> No)``; a pair
    joins its two changes with `` + ``."""
    if not lever:
        return NO_LEVER
    return " + ".join(
        f"{c['action']} ({c['feature']} {c['value']} -> {c['new_value']})" for c in lever["changes"]
    )


def risk_after(lever: Mapping[str, Any] | None) -> float | None:
    return None if not lever else float(lever["attrition_probability"])
