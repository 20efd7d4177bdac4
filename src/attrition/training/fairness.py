"""Group fairness of the model's decisions with Fairlearn (pure functions).

Audited attributes and their groups come from ``attrition.fairness_groups`` (``Gender``,
``AgeBand``: under 40 / 40 and over, ``MaritalStatus``), re-exported here. Per group: count,
base rate, selection rate, recall, precision and false positive rate; per attribute: the
demographic-parity ratio (four-fifths flag at 0.8), the equal-opportunity (recall)
difference and the equalized-odds difference.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
)
from numpy.typing import NDArray
from sklearn.metrics import precision_score, recall_score

from attrition.fairness_groups import (
    AGE_BAND,
    AGE_BAND_CUTOFF,
    AUDITED_ATTRIBUTES,
    FOUR_FIFTHS,
    age_band,
    sensitive_features,
)

__all__ = [
    "AGE_BAND",
    "AGE_BAND_CUTOFF",
    "AUDITED_ATTRIBUTES",
    "FOUR_FIFTHS",
    "AttributeFairness",
    "age_band",
    "attribute_fairness",
    "fairness_report",
    "sensitive_features",
]


@dataclass(frozen=True, slots=True)
class AttributeFairness:
    """Fairness of decisions across the groups of one attribute."""

    attribute: str
    by_group: dict[str, dict[str, float]]
    parity_ratio: float | None
    equal_opportunity_difference: float | None
    equalized_odds_difference: float | None

    @property
    def four_fifths_ok(self) -> bool:
        return self.parity_ratio is not None and self.parity_ratio >= FOUR_FIFTHS

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "by_group": self.by_group,
            "parity_ratio": self.parity_ratio,
            "four_fifths_ok": self.four_fifths_ok,
            "equal_opportunity_difference": self.equal_opportunity_difference,
            "equalized_odds_difference": self.equalized_odds_difference,
        }


def _finite(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _base_rate(y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    return float(np.mean(y_true))


def _recall(y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    return float(recall_score(y_true, y_pred, zero_division=0.0))


def _precision(y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    return float(precision_score(y_true, y_pred, zero_division=0.0))


def _count(y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    return float(len(y_true))


GROUP_METRICS: Final = {
    "count": _count,
    "base_rate": _base_rate,
    "selection_rate": selection_rate,
    "recall": _recall,
    "precision": _precision,
    "false_positive_rate": false_positive_rate,
}


def attribute_fairness(
    attribute: str, y: NDArray[Any], decisions: NDArray[Any], groups: pd.Series[Any]
) -> AttributeFairness:
    """Group metrics and disparity summaries for one attribute."""
    y_true = np.asarray(y, dtype=np.int64)
    y_pred = np.asarray(decisions, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 0/0 rates in a group become NaN, reported as null
        frame = MetricFrame(
            metrics=GROUP_METRICS,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=groups.to_numpy(),
        )
        table = frame.by_group
        rates = table["selection_rate"].astype(float)
        parity = rates.min() / rates.max() if rates.max() > 0 else float("nan")
        recalls = table["recall"].astype(float)
        odds = equalized_odds_difference(y_true, y_pred, sensitive_features=groups.to_numpy())
    by_group = {
        str(group): {k: float(v) for k, v in row.items()} for group, row in table.iterrows()
    }
    return AttributeFairness(
        attribute=attribute,
        by_group=by_group,
        parity_ratio=_finite(parity),
        equal_opportunity_difference=_finite(recalls.max() - recalls.min()),
        equalized_odds_difference=_finite(odds),
    )


def fairness_report(
    frame: pd.DataFrame, y: NDArray[Any], decisions: NDArray[Any]
) -> dict[str, AttributeFairness]:
    """Fairness of ``decisions`` for every audited attribute of ``frame``'s rows."""
    return {
        name: attribute_fairness(name, y, decisions, groups)
        for name, groups in sensitive_features(frame).items()
    }
