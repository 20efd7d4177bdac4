"""The employee form, built from the schema module: fields, sections, defaults, checks.

Pure functions only; the Predict page turns these specs into widgets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from attrition.schema import (
    CATEGORICAL_NAMES,
    FEATURE_NAMES,
    FEATURES,
    IDENTIFIER,
    NUMERIC_NAMES,
    TENURE_ORDER,
    CategoricalFeature,
    NumericFeature,
)

Widget = Literal["select", "slider", "number"]
SECTIONS: dict[str, tuple[str, ...]] = {
    "Role": ("Department", "JobRole", "JobLevel", "BusinessTravel", "OverTime",
             "DistanceFromHome"),
    "Satisfaction and performance": ("JobSatisfaction", "EnvironmentSatisfaction",
                                     "RelationshipSatisfaction", "WorkLifeBalance",
                                     "JobInvolvement", "PerformanceRating"),
    "Pay": ("MonthlyIncome", "PercentSalaryHike", "StockOptionLevel", "DailyRate",
            "HourlyRate", "MonthlyRate"),
    "Experience": ("TotalWorkingYears", "YearsAtCompany", "YearsInCurrentRole",
                   "YearsSinceLastPromotion", "YearsWithCurrManager", "NumCompaniesWorked",
                   "TrainingTimesLastYear"),
    "Background": ("Age", "Gender", "MaritalStatus", "Education", "EducationField"),
}  # fmt: skip
# Sections shown open at first; the rest start folded (their values are still sent).
OPEN_SECTIONS = ("Role", "Satisfaction and performance", "Pay")
PROFILE_ROWS = 1000
PROFILE_SEED = 20240601


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One input of the employee form."""

    name: str
    label: str
    widget: Widget
    help: str
    options: tuple[str, ...] = ()
    low: int = 0
    high: int = 0


def label_of(name: str) -> str:
    """``YearsAtCompany`` -> ``Years at company``."""
    words: list[str] = []
    for char in name:
        if char.isupper() and words and not words[-1].isupper():
            words.append(" ")
        words.append(char)
    text = "".join(words).replace("Curr ", "current ")
    return text[:1] + text[1:].lower()


def field_spec(name: str) -> FieldSpec:
    """The widget for one schema feature: categories as a select box, ordinals as a
    slider, other integers as a bounded number input."""
    feature = FEATURES[name]
    if isinstance(feature, CategoricalFeature):
        return FieldSpec(
            name, label_of(name), "select", feature.description, options=feature.categories
        )
    widget: Widget = "slider" if feature.ordinal else "number"
    help_text = f"{feature.description} ({feature.low} to {feature.high})"
    return FieldSpec(name, label_of(name), widget, help_text, low=feature.low, high=feature.high)


def form_sections() -> dict[str, list[FieldSpec]]:
    """Every schema feature exactly once, grouped for the form; leftovers go to "Other"."""
    placed = {name for names in SECTIONS.values() for name in names}
    sections = {
        title: [field_spec(name) for name in names if name in FEATURES]
        for title, names in SECTIONS.items()
    }
    others = [field_spec(name) for name in FEATURE_NAMES if name not in placed]
    if others:
        sections["Other"] = others
    return sections


# Fields taken together from one real-looking row so that they stay consistent.
STRUCTURAL = frozenset(
    {"Age", "JobLevel", "MonthlyIncome", "NumCompaniesWorked"}
    | {name for pair in TENURE_ORDER for name in pair}
)


def typical_employee(frame: pd.DataFrame) -> dict[str, Any]:
    """A consistent, typical profile from a workforce frame.

    Within the modal department's modal job role: the row closest to the role's medians
    (distance in IQR units) gives the categories and the structural fields (age, level,
    income, tenure), which must agree with each other; every other numeric field is the
    role's median and every category the role's most common value.
    """
    department = frame["Department"].mode().iloc[0]
    pool = frame[frame["Department"] == department]
    pool = pool[pool["JobRole"] == pool["JobRole"].mode().iloc[0]]
    numeric = pool[list(NUMERIC_NAMES)].astype(float)
    medians = numeric.median()
    spread = (numeric.quantile(0.75) - numeric.quantile(0.25)).replace(0.0, 1.0)
    structural = sorted(STRUCTURAL)
    distance = ((numeric[structural] - medians[structural]) / spread[structural]).abs()
    best = pool.loc[distance.sum(axis=1).idxmin()]
    profile = {name: _plain(best[name]) for name in FEATURE_NAMES}
    for name in NUMERIC_NAMES:
        if name not in STRUCTURAL:
            profile[name] = round(float(medians[name]))
    for name in CATEGORICAL_NAMES:
        profile[name] = str(pool[name].mode().iloc[0])
    return profile


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, int | np.integer) else str(value)


@lru_cache(maxsize=1)
def default_employee() -> dict[str, Any]:
    """The form's starting values: a typical employee of the synthetic workforce, which is
    calibrated to the real data's figures (never its rows)."""
    from attrition.data.synthetic import generate_workforce

    return typical_employee(generate_workforce(PROFILE_ROWS, PROFILE_SEED))


def check_employee(values: Mapping[str, Any]) -> list[str]:
    """Problems a user must fix before scoring, each naming the field and what it accepts."""
    problems: list[str] = []
    for name in FEATURE_NAMES:
        feature, value = FEATURES[name], values.get(name)
        if isinstance(feature, CategoricalFeature) and value not in feature.categories:
            problems.append(f"{name}: {value!r} is not one of {', '.join(feature.categories)}")
        elif isinstance(feature, NumericFeature) and not _in_range(value, feature):
            problems.append(
                f"{name}: {value!r} is not an integer from {feature.low} to {feature.high}"
            )
    for smaller, larger in TENURE_ORDER:
        low, high = values.get(smaller), values.get(larger)
        if isinstance(low, int) and isinstance(high, int) and low > high:
            problems.append(f"{smaller} ({low}) cannot exceed {larger} ({high})")
    return problems


def _in_range(value: Any, feature: NumericFeature) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and feature.low <= value <= feature.high
    )


def employee_payload(values: Mapping[str, Any], employee_number: int | None) -> dict[str, Any]:
    """The request body for one employee: every feature (plain types) and the optional id."""
    body: dict[str, Any] = {name: _plain(values[name]) for name in FEATURE_NAMES}
    if employee_number is not None:
        body[IDENTIFIER] = int(employee_number)
    return body
