"""Behavioural tests catch models that use identifiers, ignore direction or misbehave."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from attrition.training.behaviour import run_behaviour_checks


def by_name(checks: list[Any]) -> dict[str, Any]:
    return {c.name: c for c in checks}


def test_a_sound_model_passes_every_check(logistic_model, dev_frame):
    checks = by_name(run_behaviour_checks(logistic_model, dev_frame.iloc[:150]))
    assert all(c.passed for c in checks.values()), checks
    assert not checks["invariance_gender"].skipped


class LeakyScorer:
    """Scores from EmployeeNumber and Gender, lowers risk with overtime: fails everything."""

    feature_names = ("EmployeeNumber", "OverTime")

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        p = (X["EmployeeNumber"].to_numpy() % 7) / 10 + 0.05 * (X["Gender"] == "Male")
        p = p - 0.04 * (X["OverTime"] == "Yes").to_numpy()
        p = np.clip(p, 0.01, 0.99)
        return np.column_stack([1 - p, p])


def test_a_leaky_model_fails_with_details(dev_frame):
    checks = by_name(run_behaviour_checks(LeakyScorer(), dev_frame.iloc[:100]))
    assert not checks["invariance_employee_number"].passed
    assert not checks["invariance_gender"].passed
    assert not checks["direction_overtime"].passed
    assert "OverTime Yes raised risk for 0%" in checks["direction_overtime"].detail


class GenderFeatureScorer(LeakyScorer):
    feature_names = ("Gender",)


def test_gender_invariance_is_skipped_when_gender_is_a_feature(dev_frame):
    checks = by_name(run_behaviour_checks(GenderFeatureScorer(), dev_frame.iloc[:20]))
    assert checks["invariance_gender"].skipped and checks["invariance_gender"].passed


class BrokenScorer(LeakyScorer):
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        p = np.full(len(X), 1.3)
        return np.column_stack([1 - p, p])


def test_out_of_range_scores_fail(dev_frame):
    assert not by_name(run_behaviour_checks(BrokenScorer(), dev_frame.iloc[:10]))[
        "score_range"
    ].passed
