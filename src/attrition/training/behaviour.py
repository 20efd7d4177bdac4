"""Behavioural tests of a fitted model (invariance, direction, score range), run by the gate.

Each check perturbs real rows and compares the model's calibrated probabilities, in the
style of "Made With ML" behavioural testing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from attrition.schema import IDENTIFIER

INVARIANCE_TOLERANCE: Final = 1e-9
DIRECTION_MIN_SHARE: Final = 0.9


class Scorer(Protocol):
    """Anything with calibrated ``predict_proba`` and its input ``feature_names``."""

    feature_names: tuple[str, ...]

    def predict_proba(self, X: pd.DataFrame) -> NDArray[np.float64]: ...  # noqa: N803


@dataclass(frozen=True, slots=True)
class BehaviourCheck:
    """One behavioural test: its name, verdict and what was observed."""

    name: str
    passed: bool
    skipped: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _risk(model: Scorer, frame: pd.DataFrame) -> NDArray[np.float64]:
    return np.asarray(model.predict_proba(frame)[:, 1], dtype=np.float64)


def identifier_invariance(model: Scorer, frame: pd.DataFrame) -> BehaviourCheck:
    """Changing EmployeeNumber must not change any score."""
    changed = frame.copy()
    changed[IDENTIFIER] = np.arange(len(frame)) + 1_000_000
    delta = float(np.max(np.abs(_risk(model, frame) - _risk(model, changed))))
    passed = delta <= INVARIANCE_TOLERANCE
    return BehaviourCheck(
        "invariance_employee_number",
        passed,
        False,
        f"largest score change after renumbering {len(frame)} employees: {delta:.2e}",
    )


def gender_invariance(model: Scorer, frame: pd.DataFrame) -> BehaviourCheck:
    """Flipping Gender must not change any score when Gender is not a model feature."""
    name = "invariance_gender"
    if "Gender" in model.feature_names:
        return BehaviourCheck(name, True, True, "skipped: Gender is a model feature in this run")
    changed = frame.copy()
    changed["Gender"] = np.where(frame["Gender"] == "Male", "Female", "Male")
    delta = float(np.max(np.abs(_risk(model, frame) - _risk(model, changed))))
    passed = delta <= INVARIANCE_TOLERANCE
    return BehaviourCheck(
        name, passed, False, f"largest score change after flipping Gender: {delta:.2e}"
    )


def overtime_direction(model: Scorer, frame: pd.DataFrame) -> BehaviourCheck:
    """Working overtime must raise risk, all else equal, for (nearly) every employee."""
    with_overtime, without = frame.copy(), frame.copy()
    with_overtime["OverTime"], without["OverTime"] = "Yes", "No"
    difference = _risk(model, with_overtime) - _risk(model, without)
    share = float(np.mean(difference > 0))
    mean = float(np.mean(difference))
    passed = mean > 0 and share >= DIRECTION_MIN_SHARE
    return BehaviourCheck(
        "direction_overtime",
        passed,
        False,
        f"OverTime Yes raised risk for {share:.0%} of {len(frame)} employees "
        f"(need {DIRECTION_MIN_SHARE:.0%}), by {mean:+.3f} on average",
    )


def score_range(model: Scorer, frame: pd.DataFrame) -> BehaviourCheck:
    """Probabilities are finite, within [0, 1], sum to one per row and are not constant."""
    proba = np.asarray(model.predict_proba(frame), dtype=np.float64)
    finite = bool(np.isfinite(proba).all())
    in_range = finite and bool(((proba >= 0) & (proba <= 1)).all())
    sums_to_one = finite and bool(np.allclose(proba.sum(axis=1), 1.0))
    spread = float(np.ptp(proba[:, 1])) if finite else 0.0
    passed = in_range and sums_to_one and spread > 0
    low, high = (float(proba[:, 1].min()), float(proba[:, 1].max())) if finite else (0.0, 0.0)
    return BehaviourCheck(
        "score_range",
        passed,
        False,
        f"scores in [{low:.3f}, {high:.3f}], finite={finite}, rows sum to 1={sums_to_one}",
    )


def run_behaviour_checks(model: Scorer, frame: pd.DataFrame) -> list[BehaviourCheck]:
    """Every behavioural test on ``frame`` (real rows with all schema columns)."""
    checks = (identifier_invariance, gender_invariance, overtime_direction, score_range)
    return [check(model, frame) for check in checks]
