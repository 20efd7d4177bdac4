"""Synthetic workforces of the IBM HR schema, calibrated to the real data's figures.

A workforce is a chain of conditional draws (``synthetic_draws.py``) whose parameters are
the summary figures in :mod:`attrition.data._calibration` (never rows of the real file),
and attrition: a logistic model over risk terms (overtime, travel, satisfaction, income,
level, youth, tenure, ...). Each person gets a fixed logistic noise; the intercept is
solved on the undrifted workforce so that exactly ``round(rate * rows)`` people leave.

A drift scenario (``scenarios.py``) re-runs the chain on the same uniforms with some knobs
turned. Scenarios keep the undrifted intercept, so a feature shift moves the realised
attrition rate the way the risk model says (more overtime, more leavers); ``label_shift``
instead doubles the rate and leaves every feature as it was.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import logit

from attrition.data import _calibration as cal
from attrition.data.scenarios import NO_DRIFT, SCENARIOS, Scenario
from attrition.data.synthetic_draws import EPS, Bools, Floats, Ints, draw_features, draw_latent
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
from attrition.settings import Settings

logger = logging.getLogger(__name__)

MAX_ROWS: Final = 10_000_000
# The synthetic_attrition_rate setting's default; an entry point passes the setting itself.
DEFAULT_ATTRITION_RATE: Final[float] = Settings.model_fields["synthetic_attrition_rate"].default


def generate_workforce(
    rows: int,
    seed: int,
    *,
    attrition_rate: float = DEFAULT_ATTRITION_RATE,
    scenario: str | None = None,
) -> pd.DataFrame:
    """A synthetic workforce: all 35 columns of the IBM file in its column order.

    ``attrition_rate`` (default: that of the ``synthetic_attrition_rate`` setting) is the share of
    leavers in the undrifted workforce, met exactly up to rounding to whole people. The
    same ``rows``, ``seed`` and ``scenario`` always give the same frame.
    """
    rate = attrition_rate
    chosen = _check_arguments(rows, seed, rate, scenario)
    latent = draw_latent(rows, seed)
    baseline = draw_features(latent, NO_DRIFT)
    drift = NO_DRIFT if chosen is None else chosen.drift
    features = draw_features(latent, drift) if drift.moves_features else baseline
    noise = logit(np.clip(latent["attrition"], EPS, 1 - EPS))
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
