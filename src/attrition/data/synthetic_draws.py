"""The chain of conditional draws behind a synthetic workforce's features.

Parameters are the summary figures in :mod:`attrition.data._calibration`:

* organisation: JobLevel, then Department | level, JobRole | (department, level),
  EducationField | department;
* experience: TotalWorkingYears | level, Age = experience + a starting age | Education,
  NumCompaniesWorked | experience, YearsAtCompany | (companies, experience), and the
  other tenure fields as correlated shares of YearsAtCompany, so that
  TotalWorkingYears >= YearsAtCompany >= the other three always holds;
* pay: MonthlyIncome | level, correlated with experience within the level;
  PerformanceRating follows PercentSalaryHike; StockOptionLevel | MaritalStatus.

Every draw reads its own column of one matrix of uniforms taken from the seed
(:func:`draw_latent`), so a drift scenario re-runs the chain on the same uniforms with some
knobs turned (:func:`draw_features`): features a scenario does not name come out identical,
row for row, to the undrifted workforce of the same seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

from attrition.data import _calibration as cal
from attrition.data.scenarios import JOB_LEVELS, Drift
from attrition.schema import categories_of

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

DEPARTMENTS: Final = categories_of("Department")
JOB_ROLES: Final = categories_of("JobRole")
_SCALES: Final = tuple(cal.SCALE_SHARES)
_TENURE_FIELDS: Final = ("YearsInCurrentRole", "YearsWithCurrManager", "YearsSinceLastPromotion")

# One uniform per person for each of these draws, in this order.
LATENT: Final = (
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
EPS: Final = 1e-12


def draw_latent(rows: int, seed: int) -> dict[str, Floats]:
    """One uniform per person for each draw of the chain (and the id gaps and attrition)."""
    uniforms = np.random.default_rng(seed).random((len(LATENT), rows))
    return dict(zip(LATENT, uniforms, strict=True))


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
    return np.asarray(ndtri(np.clip(u, EPS, 1 - EPS)), dtype=np.float64)


# --- the chain of draws -------------------------------------------------------------


def draw_features(latent: dict[str, Floats], drift: Drift) -> dict[str, Ints]:
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
    role = _pick_given(latent["role"], role_table, department * JOB_LEVELS + level)
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
