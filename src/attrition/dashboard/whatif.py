"""What-if levers: change overtime, satisfaction, salary hike or promote, then compare risk.

Pure functions: the Predict page collects the levers and asks the API for both scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from attrition.dashboard.api.responses import Prediction
from attrition.schema import FEATURES, NumericFeature


@dataclass(frozen=True, slots=True)
class Levers:
    """The changes an HR analyst can try; ``promote`` raises the job level by one."""

    overtime: str
    job_satisfaction: int
    environment_satisfaction: int
    salary_hike: int
    promote: bool = False


def current_levers(employee: Mapping[str, Any]) -> Levers:
    """The levers as they stand for this employee (no change)."""
    return Levers(
        overtime=str(employee["OverTime"]),
        job_satisfaction=int(employee["JobSatisfaction"]),
        environment_satisfaction=int(employee["EnvironmentSatisfaction"]),
        salary_hike=int(employee["PercentSalaryHike"]),
    )


def _clamp(name: str, value: int) -> int:
    feature = FEATURES[name]
    assert isinstance(feature, NumericFeature)
    return max(feature.low, min(feature.high, value))


def apply_levers(employee: Mapping[str, Any], levers: Levers) -> dict[str, Any]:
    """A copy of ``employee`` with the levers applied (values kept inside the schema).

    A promotion raises JobLevel by one (up to the top level) and resets the years since
    the last promotion and in the current role to zero.
    """
    changed = dict(employee)
    changed["OverTime"] = levers.overtime
    changed["JobSatisfaction"] = _clamp("JobSatisfaction", levers.job_satisfaction)
    changed["EnvironmentSatisfaction"] = _clamp(
        "EnvironmentSatisfaction", levers.environment_satisfaction
    )
    changed["PercentSalaryHike"] = _clamp("PercentSalaryHike", levers.salary_hike)
    if levers.promote:
        changed["JobLevel"] = _clamp("JobLevel", int(employee["JobLevel"]) + 1)
        changed["YearsSinceLastPromotion"] = 0
        changed["YearsInCurrentRole"] = 0
    return changed


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for every field the scenario changes."""
    return [
        (name, before[name], after[name])
        for name in before
        if name in after and before[name] != after[name]
    ]


def comparison_table(current: Prediction, scenario: Prediction) -> pd.DataFrame:
    """Current vs what-if: probability, decision, and the change in percentage points."""
    rows = [("Current", current), ("What-if", scenario)]
    return pd.DataFrame(
        {
            "scenario": [name for name, _ in rows],
            "risk": [p.attrition_probability for _, p in rows],
            "at_risk": ["at risk" if p.at_risk else "not at risk" for _, p in rows],
            "change_pp": [
                0.0,
                100 * (scenario.attrition_probability - current.attrition_probability),
            ],
        }
    )
