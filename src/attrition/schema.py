"""The feature contract: the IBM HR Analytics Employee Attrition schema (35 columns).

Every part of the system (ingest, synthetic data, training, the API, monitoring and the
dashboard) imports its column names, types, allowed values and ranges from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

SCHEMA_VERSION: Final = "1"

TARGET: Final = "Attrition"
POSITIVE_LABEL: Final = "Yes"
NEGATIVE_LABEL: Final = "No"
TARGET_LABELS: Final = (NEGATIVE_LABEL, POSITIVE_LABEL)

IDENTIFIER: Final = "EmployeeNumber"
IDENTIFIER_RANGE: Final = (1, 2_147_483_647)

# Constant in the source data: carry no information, dropped at ingest.
CONSTANT_COLUMNS: Final[dict[str, int | str]] = {
    "EmployeeCount": 1,
    "Over18": "Y",
    "StandardHours": 80,
}

# Kept for fairness audits; not model features unless a setting includes them.
PROTECTED_ATTRIBUTES: Final = ("Gender", "Age", "MaritalStatus")


@dataclass(frozen=True, slots=True)
class NumericFeature:
    """An integer-valued column with inclusive bounds."""

    name: str
    low: int
    high: int
    description: str
    ordinal: bool = False


@dataclass(frozen=True, slots=True)
class CategoricalFeature:
    """A column whose values come from a fixed set of exact strings."""

    name: str
    categories: tuple[str, ...]
    description: str


Feature = NumericFeature | CategoricalFeature

CATEGORICAL_FEATURES: Final[tuple[CategoricalFeature, ...]] = (
    CategoricalFeature(
        "BusinessTravel",
        ("Non-Travel", "Travel_Rarely", "Travel_Frequently"),
        "How often the employee travels for work",
    ),
    CategoricalFeature(
        "Department",
        ("Human Resources", "Research & Development", "Sales"),
        "Department",
    ),
    CategoricalFeature(
        "EducationField",
        (
            "Human Resources",
            "Life Sciences",
            "Marketing",
            "Medical",
            "Other",
            "Technical Degree",
        ),
        "Field of education",
    ),
    CategoricalFeature("Gender", ("Female", "Male"), "Gender (protected attribute)"),
    CategoricalFeature(
        "JobRole",
        (
            "Healthcare Representative",
            "Human Resources",
            "Laboratory Technician",
            "Manager",
            "Manufacturing Director",
            "Research Director",
            "Research Scientist",
            "Sales Executive",
            "Sales Representative",
        ),
        "Job role",
    ),
    CategoricalFeature(
        "MaritalStatus",
        ("Divorced", "Married", "Single"),
        "Marital status (protected attribute)",
    ),
    CategoricalFeature("OverTime", ("No", "Yes"), "Works overtime"),
)

NUMERIC_FEATURES: Final[tuple[NumericFeature, ...]] = (
    NumericFeature("Age", 18, 80, "Age in years (protected attribute)"),
    NumericFeature("DailyRate", 0, 10_000, "Daily rate"),
    NumericFeature("DistanceFromHome", 0, 500, "Distance from home (km)"),
    NumericFeature("Education", 1, 5, "1 Below College .. 5 Doctor", ordinal=True),
    NumericFeature("EnvironmentSatisfaction", 1, 4, "1 Low .. 4 Very High", ordinal=True),
    NumericFeature("HourlyRate", 0, 1_000, "Hourly rate"),
    NumericFeature("JobInvolvement", 1, 4, "1 Low .. 4 Very High", ordinal=True),
    NumericFeature("JobLevel", 1, 5, "Job level, 1 (entry) .. 5 (executive)", ordinal=True),
    NumericFeature("JobSatisfaction", 1, 4, "1 Low .. 4 Very High", ordinal=True),
    NumericFeature("MonthlyIncome", 0, 1_000_000, "Monthly income"),
    NumericFeature("MonthlyRate", 0, 1_000_000, "Monthly rate"),
    NumericFeature("NumCompaniesWorked", 0, 50, "Number of previous employers"),
    NumericFeature("PercentSalaryHike", 0, 100, "Last salary increase (%)"),
    NumericFeature("PerformanceRating", 1, 4, "1 Low .. 4 Outstanding", ordinal=True),
    NumericFeature("RelationshipSatisfaction", 1, 4, "1 Low .. 4 Very High", ordinal=True),
    NumericFeature("StockOptionLevel", 0, 3, "Stock option level", ordinal=True),
    NumericFeature("TotalWorkingYears", 0, 60, "Total years of work experience"),
    NumericFeature("TrainingTimesLastYear", 0, 50, "Trainings attended last year"),
    NumericFeature("WorkLifeBalance", 1, 4, "1 Bad .. 4 Best", ordinal=True),
    NumericFeature("YearsAtCompany", 0, 60, "Years at the company"),
    NumericFeature("YearsInCurrentRole", 0, 60, "Years in the current role"),
    NumericFeature("YearsSinceLastPromotion", 0, 60, "Years since the last promotion"),
    NumericFeature("YearsWithCurrManager", 0, 60, "Years with the current manager"),
)

_ALL_FEATURES: tuple[Feature, ...] = (*CATEGORICAL_FEATURES, *NUMERIC_FEATURES)
FEATURES: Final[dict[str, Feature]] = {
    f.name: f for f in sorted(_ALL_FEATURES, key=lambda f: f.name)
}
FEATURE_NAMES: Final = tuple(FEATURES)
CATEGORICAL_NAMES: Final = tuple(f.name for f in CATEGORICAL_FEATURES)
NUMERIC_NAMES: Final = tuple(f.name for f in NUMERIC_FEATURES)

# Cross-field sanity rules: (smaller, larger) means smaller <= larger must hold.
TENURE_ORDER: Final = (
    ("YearsAtCompany", "TotalWorkingYears"),
    ("YearsInCurrentRole", "YearsAtCompany"),
    ("YearsSinceLastPromotion", "YearsAtCompany"),
    ("YearsWithCurrManager", "YearsAtCompany"),
)
# Nobody works before this age: TotalWorkingYears + MIN_WORKING_AGE <= Age.
MIN_WORKING_AGE: Final = 14
# Every cross-field rule, as (smaller, larger, margin): smaller + margin <= larger. Ingest
# (a frame) and the API (a row) check these same rules (attrition.data.validation).
CROSS_FIELD_RULES: Final[tuple[tuple[str, str, int], ...]] = (
    *((smaller, larger, 0) for smaller, larger in TENURE_ORDER),
    ("TotalWorkingYears", "Age", MIN_WORKING_AGE),
)

# Dates a client may send (an outcome's date): none before the company could have records,
# none further ahead than a notice period.
EARLIEST_DATE: Final = date(1900, 1, 1)
MAX_DAYS_AHEAD: Final = 366

# Retention levers: the features an employer can change, and the one move allowed on each
# (docs/reference.md#retention-levers says why these and no others). Every other feature,
# the protected attributes above included, is never moved.
LeverKind = Literal["set", "step_down", "add"]


@dataclass(frozen=True, slots=True)
class Lever:
    """One change an employer can make: set a category, one step down an ordered category,
    or add ``amount`` to a number without going past ``cap``."""

    feature: str
    kind: LeverKind
    amount: int | str
    action: str
    cap: int | None = None

    def moved(self, value: Any) -> Any | None:
        """The value after the move, or None when the move does not apply to ``value``."""
        if self.kind == "set":
            return None if value == self.amount else self.amount
        if self.kind == "step_down":
            order = categories_of(self.feature)
            position = order.index(value)
            return order[max(position - int(self.amount), 0)] if position > 0 else None
        cap = self.cap if self.cap is not None else FEATURES[self.feature].high  # type: ignore[union-attr]
        return min(int(value) + int(self.amount), cap) if int(value) < cap else None


LEVERS: Final[tuple[Lever, ...]] = (
    Lever("OverTime", "set", "No", "end regular overtime"),
    Lever("BusinessTravel", "step_down", 1, "reduce business travel by one step"),
    Lever("StockOptionLevel", "add", 1, "grant stock options one level up", cap=3),
    Lever("PercentSalaryHike", "add", 5, "a salary increase 5 points larger", cap=25),
    Lever("TrainingTimesLastYear", "add", 2, "two more trainings a year", cap=6),
)
LEVER_FEATURES: Final = frozenset(lever.feature for lever in LEVERS)

# The column order of the IBM file; synthetic files are written in this order.
RAW_COLUMNS: Final = (
    "Age",
    "Attrition",
    "BusinessTravel",
    "DailyRate",
    "Department",
    "DistanceFromHome",
    "Education",
    "EducationField",
    "EmployeeCount",
    "EmployeeNumber",
    "EnvironmentSatisfaction",
    "Gender",
    "HourlyRate",
    "JobInvolvement",
    "JobLevel",
    "JobRole",
    "JobSatisfaction",
    "MaritalStatus",
    "MonthlyIncome",
    "MonthlyRate",
    "NumCompaniesWorked",
    "Over18",
    "OverTime",
    "PercentSalaryHike",
    "PerformanceRating",
    "RelationshipSatisfaction",
    "StandardHours",
    "StockOptionLevel",
    "TotalWorkingYears",
    "TrainingTimesLastYear",
    "WorkLifeBalance",
    "YearsAtCompany",
    "YearsInCurrentRole",
    "YearsSinceLastPromotion",
    "YearsWithCurrManager",
)

# A file must carry the identifier and every feature; the target and the constant
# columns are optional (a scoring file has no target).
REQUIRED_COLUMNS: Final = (IDENTIFIER, *FEATURE_NAMES)
OPTIONAL_COLUMNS: Final = (TARGET, *CONSTANT_COLUMNS)


def model_feature_names(*, include_protected: bool = False) -> tuple[str, ...]:
    """The input columns a model sees: every feature, protected ones only on request."""
    if include_protected:
        return FEATURE_NAMES
    return tuple(name for name in FEATURE_NAMES if name not in PROTECTED_ATTRIBUTES)


def categories_of(name: str) -> tuple[str, ...]:
    """The allowed values of a categorical feature, in schema order."""
    feature = FEATURES[name]
    if not isinstance(feature, CategoricalFeature):
        raise TypeError(f"{name} is not a categorical feature")
    return feature.categories


def allowed_values(name: str) -> str:
    """Human-readable description of what a column accepts, for error messages."""
    feature = FEATURES[name]
    if isinstance(feature, CategoricalFeature):
        return "one of " + ", ".join(repr(c) for c in feature.categories)
    return f"an integer from {feature.low} to {feature.high}"
