"""Synthetic workforces of the IBM HR schema, calibrated to the real data's figures.

A workforce is a chain of conditional draws whose parameters are the summary figures in
:mod:`attrition.data._calibration` (never rows of the real file):

* organisation: JobLevel, then Department | level, JobRole | (department, level),
  EducationField | department;
* experience: TotalWorkingYears | level, Age = experience + a starting age | Education,
  NumCompaniesWorked | experience, YearsAtCompany | (companies, experience), and the
  other tenure fields as correlated shares of YearsAtCompany, so that
  TotalWorkingYears >= YearsAtCompany >= the other three always holds;
* pay: MonthlyIncome | level, correlated with experience within the level;
  PerformanceRating follows PercentSalaryHike; StockOptionLevel | MaritalStatus;
* attrition: a logistic model over risk terms (overtime, travel, satisfaction, income,
  level, youth, tenure, ...). Each person gets a fixed logistic noise; the intercept is
  solved on the undrifted workforce so that exactly ``round(rate * rows)`` people leave.

Every draw reads its own column of one matrix of uniforms taken from the seed, so a
drift scenario re-runs the chain on the same uniforms with some knobs turned: features a
scenario does not name come out identical, row for row, to the undrifted workforce of
the same seed. Scenarios keep the undrifted intercept, so a feature shift moves the
realised attrition rate the way the risk model says (more overtime, more leavers);
``label_shift`` instead doubles the rate and leaves every feature as it was.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import logit, ndtr, ndtri

from attrition.data import _calibration as cal
from attrition.errors import AttritionError
from attrition.schema import (
    CONSTANT_COLUMNS,
    FEATURES,
    IDENTIFIER,
    NEGATIVE_LABEL,
    POSITIVE_LABEL,
    RAW_COLUMNS,
    TARGET,
    CategoricalFeature,
    categories_of,
)
from attrition.settings import get_settings

logger = logging.getLogger(__name__)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

MAX_ROWS: Final = 10_000_000


DEPARTMENTS: Final = categories_of("Department")
JOB_ROLES: Final = categories_of("JobRole")
_LEVELS: Final = len(cal.JOB_LEVEL_SHARES)
_SCALES: Final = tuple(cal.SCALE_SHARES)
_TENURE_FIELDS: Final = ("YearsInCurrentRole", "YearsWithCurrManager", "YearsSinceLastPromotion")

# One uniform per person for each of these draws, in this order.
_LATENT: Final = (
    "id",
    "level",
    "department",
    "role",
    "education_field",
    "education",
    "gender",
    "marital",
    "stock",
    "travel",
    "overtime",
    *_SCALES,
    "hike",
    "training",
    "distance",
    "DailyRate",
    "HourlyRate",
    "MonthlyRate",
    "experience",
    "start_age",
    "companies",
    "tenure",
    *_TENURE_FIELDS,
    "income",
    "raise",
    "hire",
    "hire_level",
    "hire_tenure",
    "attrition",
)
_EPS: Final = 1e-12


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
    hire_level_weights: tuple[float, ...] = (1.0,) * _LEVELS
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


def generate_workforce(
    rows: int,
    seed: int,
    *,
    attrition_rate: float | None = None,
    scenario: str | None = None,
) -> pd.DataFrame:
    """A synthetic workforce: all 35 columns of the IBM file in its column order.

    ``attrition_rate`` (default: the ``synthetic_attrition_rate`` setting) is the share of
    leavers in the undrifted workforce, met exactly up to rounding to whole people. The
    same ``rows``, ``seed`` and ``scenario`` always give the same frame.
    """
    rate = _default_rate() if attrition_rate is None else attrition_rate
    chosen = _check_arguments(rows, seed, rate, scenario)
    latent = _draw_latent(rows, seed)
    baseline = _features(latent, NO_DRIFT)
    drift = NO_DRIFT if chosen is None else chosen.drift
    features = _features(latent, drift) if drift.moves_features else baseline
    noise = logit(np.clip(latent["attrition"], _EPS, 1 - _EPS))
    baseline_score = _log_odds(baseline) + noise
    threshold = _leaver_threshold(baseline_score, rate * drift.attrition_factor)
    score = baseline_score if features is baseline else _log_odds(features) + noise
    leaves = score >= threshold
    logger.debug("synthetic workforce: %d rows, scenario %s", rows, scenario)
    return _frame(features, leaves, latent["id"])


def write_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write a workforce as CSV (header, no index), atomically; return the path."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(partial, index=False, lineterminator="\n")
        partial.replace(target)
    except OSError as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise AttritionError(f"cannot write {target}: {error.strerror or error}") from error
    return target


def realised_attrition_rate(frame: pd.DataFrame) -> float:
    """Share of rows whose Attrition is the positive label."""
    if frame.empty:
        return 0.0
    return float((frame[TARGET] == POSITIVE_LABEL).mean())


# --- arguments ---------------------------------------------------------------------


def _default_rate() -> float:
    return get_settings().synthetic_attrition_rate


def _check_arguments(rows: int, seed: int, rate: float, scenario: str | None) -> Scenario | None:
    if not 1 <= rows <= MAX_ROWS:
        raise AttritionError(f"rows must be an integer from 1 to {MAX_ROWS:,}, got {rows}")
    if seed < 0:
        raise AttritionError(f"seed must be a non-negative integer, got {seed}")
    if not 0.0 < rate < 1.0:
        raise AttritionError(f"attrition_rate must be between 0 and 1 (exclusive), got {rate}")
    if scenario is None:
        return None
    if scenario not in SCENARIOS:
        allowed = ", ".join(SCENARIOS)
        raise AttritionError(f"unknown scenario {scenario!r}; allowed scenarios: {allowed}")
    chosen = SCENARIOS[scenario]
    if rate * chosen.drift.attrition_factor >= 1.0:
        limit = 1.0 / chosen.drift.attrition_factor
        raise AttritionError(
            f"attrition_rate must be below {limit:g} for scenario {scenario!r}, "
            f"which multiplies it by {chosen.drift.attrition_factor:g}; got {rate}"
        )
    return chosen


def _draw_latent(rows: int, seed: int) -> dict[str, Floats]:
    uniforms = np.random.default_rng(seed).random((len(_LATENT), rows))
    return dict(zip(_LATENT, uniforms, strict=True))


# --- sampling primitives -------------------------------------------------------------


def _normalised(weights: npt.ArrayLike) -> Floats:
    table = np.asarray(weights, dtype=np.float64)
    shares: Floats = table / table.sum(axis=-1, keepdims=True)
    return shares


def _pick(u: Floats, shares: npt.ArrayLike) -> Ints:
    """Category codes for uniforms ``u`` by inverse CDF over ``shares``."""
    cdf = np.cumsum(_normalised(shares))
    return np.minimum(np.searchsorted(cdf, u, side="right"), cdf.size - 1).astype(np.int64)


def _pick_given(u: Floats, table: npt.ArrayLike, parent: Ints) -> Ints:
    """Category codes drawn from row ``parent[i]`` of a table of conditional shares."""
    cdf = np.cumsum(_normalised(table), axis=1)
    codes: Ints = np.minimum((u[:, None] >= cdf[parent]).sum(axis=1), cdf.shape[1] - 1)
    return codes.astype(np.int64)


def _quantile_given(
    u: Floats, group: Ints, knots: Sequence[Sequence[float]], probs: Sequence[float]
) -> Floats:
    """Piecewise-linear inverse CDF with quantile knots per group."""
    table = np.asarray(knots, dtype=np.float64)
    out = np.empty_like(u)
    for index, row in enumerate(table):
        mask = group == index
        out[mask] = np.interp(u[mask], probs, row)
    return out


def _weights(names: tuple[str, ...], weights: Mapping[str, float]) -> Floats:
    return np.array([weights.get(name, 1.0) for name in names], dtype=np.float64)


def _normal(u: Floats) -> Floats:
    return np.asarray(ndtri(np.clip(u, _EPS, 1 - _EPS)), dtype=np.float64)


# --- the chain of draws -------------------------------------------------------------


def _features(latent: dict[str, Floats], drift: Drift) -> dict[str, Ints]:
    """Every feature as integer codes (categories) or integer values."""
    hired = latent["hire"] < drift.hire_share
    # Hires' experience comes from the low end of their level's range.
    seniority = latent["experience"] * np.where(hired, drift.hire_experience_quantile, 1.0)
    columns = _organisation(latent, drift, hired)
    columns |= _people(latent)
    level = columns["JobLevel"] - 1
    columns |= _experience(latent, hired, seniority, level, columns["Education"] - 1)
    columns |= _pay(latent, drift, seniority, level, columns["MaritalStatus"])
    columns |= _conditions(latent, drift)
    return columns


def _organisation(latent: dict[str, Floats], drift: Drift, hired: Bools) -> dict[str, Ints]:
    level = _pick(latent["level"], cal.JOB_LEVEL_SHARES)
    by_level = _normalised(cal.DEPARTMENT_BY_LEVEL)
    department_table = by_level * _weights(DEPARTMENTS, drift.department_weights)
    department = _pick_given(latent["department"], department_table, level)
    if hired.any():
        joint = np.asarray(cal.JOB_LEVEL_SHARES)[:, None] * by_level
        hire_table = joint.T * np.asarray(drift.hire_level_weights)
        level[hired] = _pick_given(latent["hire_level"][hired], hire_table, department[hired])
    roles = np.asarray(cal.ROLE_BY_DEPARTMENT_LEVEL).reshape(-1, len(JOB_ROLES))
    role_table = roles * _weights(JOB_ROLES, drift.role_weights)
    role = _pick_given(latent["role"], role_table, department * _LEVELS + level)
    field_table = cal.EDUCATION_FIELD_BY_DEPARTMENT
    return {
        "JobLevel": level + 1,
        "Department": department,
        "JobRole": role,
        "EducationField": _pick_given(latent["education_field"], field_table, department),
    }


def _people(latent: dict[str, Floats]) -> dict[str, Ints]:
    return {
        "Education": _pick(latent["education"], cal.EDUCATION_SHARES) + 1,
        "Gender": _pick(latent["gender"], cal.GENDER_SHARES),
        "MaritalStatus": _pick(latent["marital"], cal.MARITAL_SHARES),
        "DistanceFromHome": _pick(latent["distance"], cal.DISTANCE_SHARES) + cal.DISTANCE_MIN,
    }


def _experience(
    latent: dict[str, Floats], hired: Bools, seniority: Floats, level: Ints, education: Ints
) -> dict[str, Ints]:
    knots, probs = cal.EXPERIENCE_QUANTILES_BY_LEVEL, cal.LEVEL_QUANTILE_PROBS
    total = np.rint(_quantile_given(seniority, level, knots, probs)).astype(np.int64)
    age = total + _start_age(latent["start_age"], education, cal.AGE_MAX - total)
    band = np.searchsorted(cal.EXPERIENCE_BAND_STARTS, total, side="right") - 1
    companies = _pick_given(latent["companies"], cal.COMPANIES_BY_EXPERIENCE_BAND, band)
    at_company = _years_at_company(latent["tenure"], total, companies)
    hire_years = (latent["hire_tenure"] < 0.5).astype(np.int64)
    at_company = np.where(hired, np.minimum(at_company, hire_years), at_company)
    return {
        "TotalWorkingYears": total,
        "Age": age,
        "NumCompaniesWorked": companies,
        "YearsAtCompany": at_company,
        **_tenure_fields(latent, at_company),
    }


def _start_age(u: Floats, education: Ints, latest: Ints) -> Ints:
    """Age at the start of work, at most ``latest`` (so Age stays within AGE_MAX)."""
    probs, table = cal.DECILE_PROBS, cal.START_AGE_QUANTILES_BY_EDUCATION
    ceiling = np.empty_like(u)
    for index, knots in enumerate(table):
        mask = education == index
        ceiling[mask] = np.interp(latest[mask], knots, probs)
    start = _quantile_given(u * ceiling, education, table, probs)
    years: Ints = np.minimum(np.floor(start).astype(np.int64), latest)
    return years


def _years_at_company(u: Floats, total: Ints, companies: Ints) -> Ints:
    """Whole career here for most one-employer people; else part of the years since."""
    share = np.interp(u, cal.DECILE_PROBS, cal.TENURE_SHARE_QUANTILES)
    after_moves = np.floor(share * np.maximum(total - 2, 0) + 0.5).astype(np.int64)
    whole_career = (companies == 1) & (u < cal.FIRST_EMPLOYER_FULL_TENURE_SHARE)
    years = np.where(whole_career, total, np.maximum(total - 1, 0))
    return np.where(companies >= 2, after_moves, years)


def _tenure_fields(latent: dict[str, Floats], at_company: Ints) -> dict[str, Ints]:
    """Years in role, with manager and since promotion: correlated shares of tenure."""
    band = np.maximum(np.searchsorted(cal.TENURE_BAND_STARTS, at_company, side="right") - 1, 0)
    chol = np.linalg.cholesky(np.asarray(cal.TENURE_RATIO_CORRELATION))
    normals = chol @ np.stack([_normal(latent[name]) for name in _TENURE_FIELDS])
    out: dict[str, Ints] = {}
    for name, z in zip(_TENURE_FIELDS, normals, strict=True):
        knots = cal.TENURE_RATIO_QUANTILES[name]
        share = _quantile_given(ndtr(z), band, knots, cal.DECILE_PROBS)
        years = np.floor(share * at_company + 0.5).astype(np.int64)
        out[name] = np.minimum(np.minimum(years, at_company), cal.TENURE_FIELD_MAX[name])
    return out


def _pay(
    latent: dict[str, Floats], drift: Drift, seniority: Floats, level: Ints, marital: Ints
) -> dict[str, Ints]:
    rho = np.asarray(cal.INCOME_EXPERIENCE_CORRELATION)[level]
    z = rho * _normal(seniority) + np.sqrt(1.0 - rho**2) * _normal(latent["income"])
    knots, probs = cal.INCOME_QUANTILES_BY_LEVEL, cal.LEVEL_QUANTILE_PROBS
    income = _quantile_given(ndtr(z), level, knots, probs)
    low, high = drift.income_raise
    income *= 1.0 + low + (high - low) * latent["raise"]
    hike = _pick(latent["hike"], cal.SALARY_HIKE_SHARES) + cal.SALARY_HIKE_MIN
    return {
        "MonthlyIncome": np.rint(income).astype(np.int64),
        "PercentSalaryHike": hike,
        "PerformanceRating": np.where(hike >= cal.OUTSTANDING_HIKE, 4, 3).astype(np.int64),
        "StockOptionLevel": _pick_given(latent["stock"], cal.STOCK_BY_MARITAL, marital),
        **{
            name: _uniform_int(latent[name], *cal.UNIFORM_RANGES[name])
            for name in cal.UNIFORM_RANGES
        },
    }


def _uniform_int(u: Floats, low: int, high: int) -> Ints:
    values: Ints = np.minimum(low + np.floor(u * (high - low + 1)), high).astype(np.int64)
    return values


def _conditions(latent: dict[str, Floats], drift: Drift) -> dict[str, Ints]:
    overtime = drift.overtime_share
    if overtime is None:
        overtime = float(_normalised(cal.OVERTIME_SHARES)[1])
    return {
        "BusinessTravel": _pick(latent["travel"], cal.TRAVEL_SHARES),
        "OverTime": (latent["overtime"] < overtime).astype(np.int64),
        "TrainingTimesLastYear": _pick(latent["training"], cal.TRAINING_SHARES),
        **{name: _pick(latent[name], cal.SCALE_SHARES[name]) + 1 for name in _SCALES},
    }


# --- attrition and the frame ---------------------------------------------------------


def _code(name: str, category: str) -> int:
    return categories_of(name).index(category)


def _is(columns: dict[str, Ints], name: str, *categories: str) -> Bools:
    codes = [_code(name, category) for category in categories]
    matches: Bools = np.isin(columns[name], codes) if len(codes) > 1 else columns[name] == codes[0]
    return matches


def _risk_terms(c: dict[str, Ints]) -> dict[str, npt.NDArray[np.float64] | Bools | Ints]:
    """The terms of the attrition model, named as in ``cal.ATTRITION_LOG_ODDS``."""
    return {
        "overtime": _is(c, "OverTime", "Yes"),
        "travel_frequently": _is(c, "BusinessTravel", "Travel_Frequently"),
        "travel_rarely": _is(c, "BusinessTravel", "Travel_Rarely"),
        "single": _is(c, "MaritalStatus", "Single"),
        "no_stock_options": c["StockOptionLevel"] == 0,
        "environment_satisfaction": c["EnvironmentSatisfaction"],
        "job_satisfaction": c["JobSatisfaction"],
        "relationship_satisfaction": c["RelationshipSatisfaction"],
        "job_involvement": c["JobInvolvement"],
        "work_life_balance": c["WorkLifeBalance"],
        "poor_work_life_balance": c["WorkLifeBalance"] == 1,
        "log_monthly_income": np.log(np.maximum(c["MonthlyIncome"], 1)),
        "entry_level": c["JobLevel"] == 1,
        "under_25": c["Age"] < 25,
        "age": c["Age"],
        "first_year_of_work": c["TotalWorkingYears"] <= 1,
        "total_working_years": c["TotalWorkingYears"],
        "first_year_at_company": c["YearsAtCompany"] <= 1,
        "years_in_current_role": c["YearsInCurrentRole"],
        "years_with_manager": c["YearsWithCurrManager"],
        "years_since_promotion": c["YearsSinceLastPromotion"],
        "companies_worked": c["NumCompaniesWorked"],
        "distance_from_home": c["DistanceFromHome"],
        "sales_representative": _is(c, "JobRole", "Sales Representative"),
        "laboratory_technician": _is(c, "JobRole", "Laboratory Technician"),
        "research_director": _is(c, "JobRole", "Research Director"),
        "sales_or_hr_department": ~_is(c, "Department", "Research & Development"),
        "male": _is(c, "Gender", "Male"),
        "trainings_last_year": c["TrainingTimesLastYear"],
        "business_education": _is(
            c, "EducationField", "Technical Degree", "Marketing", "Human Resources"
        ),
    }


def _log_odds(columns: dict[str, Ints]) -> Floats:
    """Attrition log-odds of each person, up to the intercept."""
    total = np.zeros(next(iter(columns.values())).size)
    for name, term in _risk_terms(columns).items():
        total += cal.ATTRITION_LOG_ODDS[name] * term
    return total


def _leaver_threshold(score: Floats, rate: float) -> float:
    """The latent score at and above which exactly ``round(rate * n)`` people leave."""
    leavers = round(rate * score.size)
    if leavers == 0:
        return float("inf")
    return float(np.partition(score, score.size - leavers)[score.size - leavers])


# Gaps between employee numbers are 1 or 2, like the real file's 1,176 ids up to 2,065.
_ID_GAP_OF_TWO_SHARE: Final = 0.75


def _frame(features: dict[str, Ints], leaves: Bools, u_id: Floats) -> pd.DataFrame:
    rows = leaves.size
    data: dict[str, npt.NDArray[np.generic]] = {
        TARGET: np.where(leaves, POSITIVE_LABEL, NEGATIVE_LABEL).astype(object),
        IDENTIFIER: np.cumsum(1 + (u_id < _ID_GAP_OF_TWO_SHARE), dtype=np.int64),
    }
    for name, value in CONSTANT_COLUMNS.items():
        data[name] = np.full(rows, value, dtype=object if isinstance(value, str) else np.int64)
    for name, values in features.items():
        feature = FEATURES[name]
        if isinstance(feature, CategoricalFeature):
            data[name] = np.asarray(feature.categories, dtype=object)[values]
        else:
            data[name] = values
    return pd.DataFrame({name: data[name] for name in RAW_COLUMNS})
