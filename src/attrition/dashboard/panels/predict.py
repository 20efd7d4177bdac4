"""The Predict page's pure parts: the employee form built from the schema module (fields,
sections, defaults, checks), the what-if levers, and the factor and scenario figures.

No Streamlit here: the page turns the specs into widgets and asks the API for the scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from attrition.actions import lever_text
from attrition.dashboard.api.responses import Factor, Prediction
from attrition.dashboard.panels.figures import compact
from attrition.data.validation import row_problems
from attrition.schema import (
    CATEGORICAL_NAMES,
    CROSS_FIELD_RULES,
    FEATURE_NAMES,
    FEATURES,
    IDENTIFIER,
    NUMERIC_NAMES,
    CategoricalFeature,
    NumericFeature,
)

RAISES = "#c0392b"
LOWERS = "#27ae60"
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


@dataclass(frozen=True, slots=True)
class Levers:
    """The changes an HR analyst can try; ``promote`` raises the job level by one."""

    overtime: str
    job_satisfaction: int
    environment_satisfaction: int
    salary_hike: int
    promote: bool = False


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
    | {name for rule in CROSS_FIELD_RULES for name in rule[:2]}
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
    # the API's and ingest's own cross-field rules, with their reasons
    problems.extend(f"{p['field']}: {p['reason']}" for p in row_problems(values))
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


def current_levers(employee: Mapping[str, Any]) -> Levers:
    """The levers as they stand for this employee (no change)."""
    return Levers(
        overtime=str(employee["OverTime"]),
        job_satisfaction=int(employee["JobSatisfaction"]),
        environment_satisfaction=int(employee["EnvironmentSatisfaction"]),
        salary_hike=int(employee["PercentSalaryHike"]),
    )


def bounds_of(name: str) -> tuple[int, int]:
    """The schema's range of a numeric feature."""
    feature = FEATURES[name]
    assert isinstance(feature, NumericFeature)
    return feature.low, feature.high


def _clamp(name: str, value: int) -> int:
    low, high = bounds_of(name)
    return max(low, min(high, value))


def salary_hike_range(levers: Levers) -> tuple[int, int]:
    """The hike slider's range: from the schema's floor up to 30 % or ten points above
    today's hike, whichever is higher, within the schema's range."""
    low, high = bounds_of("PercentSalaryHike")
    return low, min(high, max(30, levers.salary_hike + 10))


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


def levers_table(prediction: Prediction) -> pd.DataFrame:
    """The levers the API suggested: what to change, the risk after, the drop in points."""
    rows = [
        {
            "change": lever_text(lever.model_dump()),
            "risk_after": lever.attrition_probability,
            "drop_pp": 100 * lever.risk_reduction,
        }
        for lever in prediction.levers or []
    ]
    return pd.DataFrame(rows, columns=["change", "risk_after", "drop_pp"])
