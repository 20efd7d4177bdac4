"""The named drift scenarios of the synthetic workforce: what each turns, and which
schema features it shifts.

A :class:`Drift` holds the knobs of the chain of draws (``synthetic_draws.py``); the
defaults reproduce the calibrated workforce. ``label_shift`` turns only the attrition
rate, every other scenario moves features (and, through the risk model, attrition).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final

from attrition.data import _calibration as cal

JOB_LEVELS: Final = len(cal.JOB_LEVEL_SHARES)


@dataclass(frozen=True, slots=True)
class Drift:
    """The knobs a scenario turns; the defaults reproduce the calibrated workforce."""

    income_raise: tuple[float, float] = (0.0, 0.0)
    """Each person's pay rises by a share drawn uniformly from this range."""
    overtime_share: float | None = None
    """Share working overtime (None: the calibrated share)."""
    department_weights: Mapping[str, float] = field(default_factory=dict)
    """Multipliers on the chance of each department at every job level."""
    role_weights: Mapping[str, float] = field(default_factory=dict)
    """Multipliers on the chance of each role within its department and level."""
    hire_share: float = 0.0
    """Share of people replaced by recent hires (at the company for at most a year)."""
    hire_level_weights: tuple[float, ...] = (1.0,) * JOB_LEVELS
    """Multipliers on the chance of each job level (1..5) among the hires."""
    hire_experience_quantile: float = 1.0
    """Hires' experience comes from this lowest share of their level's experience range."""
    attrition_factor: float = 1.0
    """Multiplier on the attrition rate, with features unchanged."""

    @property
    def moves_features(self) -> bool:
        """Whether any feature differs from the undrifted workforce's."""
        return replace(self, attrition_factor=1.0) != Drift()


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named drift: what it does and exactly which schema features it shifts."""

    name: str
    description: str
    shifted_features: tuple[str, ...]
    drift: Drift


NO_DRIFT: Final = Drift()

SCENARIOS: Final[dict[str, Scenario]] = {
    s.name: s
    for s in (
        Scenario(
            "income_inflation",
            "Pay rises 15-35% per person (25% on average); nothing else changes.",
            ("MonthlyIncome",),
            Drift(income_raise=(0.15, 0.35)),
        ),
        Scenario(
            "overtime_surge",
            "60% of employees work overtime instead of about 29%.",
            ("OverTime",),
            Drift(overtime_share=0.60),
        ),
        Scenario(
            "new_hiring_wave",
            "40% of the workforce are recent hires: mostly entry level, less experienced, "
            "younger, at most a year at the company; departments stay as they were.",
            (
                "Age",
                "JobLevel",
                "JobRole",
                "MonthlyIncome",
                "NumCompaniesWorked",
                "TotalWorkingYears",
                "YearsAtCompany",
                "YearsInCurrentRole",
                "YearsSinceLastPromotion",
                "YearsWithCurrManager",
            ),
            Drift(
                hire_share=0.40,
                hire_level_weights=(1.0, 0.45, 0.12, 0.03, 0.01),
                hire_experience_quantile=0.5,
            ),
        ),
        Scenario(
            "reorg",
            "People move from R&D to Sales and HR at unchanged job levels, and Sales and "
            "Healthcare Representatives gain on Manufacturing Directors.",
            ("Department", "EducationField", "JobRole"),
            Drift(
                department_weights={
                    "Human Resources": 2.5,
                    "Research & Development": 0.55,
                    "Sales": 1.6,
                },
                role_weights={
                    "Sales Representative": 2.0,
                    "Healthcare Representative": 1.5,
                    "Manufacturing Director": 0.6,
                },
            ),
        ),
        Scenario(
            "label_shift",
            "Twice as many people leave; every feature stays as it was.",
            (),
            Drift(attrition_factor=2.0),
        ),
    )
}
