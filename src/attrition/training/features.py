"""Engineered features and preprocessing, built from the schema module.

Every engineered column is defined by data (the tables below), so the exact arithmetic can
be reproduced with array operations outside scikit-learn:

- ratio ``name = numerator / max(denominator + offset, 1)``;
- log ``Log<col> = log1p(max(col, 0))``;
- ``SatisfactionMean`` = mean of the satisfaction scales, ``LowSatisfactionCount`` = how
  many of them equal 1 (the lowest level).

No engineered column uses a protected attribute, so excluding protected attributes from
the input also excludes them from everything derived from it.
"""

# ruff: noqa: N803  (scikit-learn's convention names the feature matrix X)

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from attrition.errors import AttritionError
from attrition.schema import (
    CATEGORICAL_NAMES,
    FEATURES,
    CategoricalFeature,
    NumericFeature,
)

OrdinalEncoding = Literal["numeric", "onehot"]


@dataclass(frozen=True, slots=True)
class Ratio:
    """``name = numerator / max(denominator + offset, 1)``."""

    name: str
    numerator: str
    denominator: str
    offset: float


RATIOS: Final = (
    Ratio("TenureRatio", "YearsAtCompany", "TotalWorkingYears", 1.0),
    Ratio("RoleTenureRatio", "YearsInCurrentRole", "YearsAtCompany", 1.0),
    Ratio("ManagerTenureRatio", "YearsWithCurrManager", "YearsAtCompany", 1.0),
    Ratio("PromotionGapRatio", "YearsSinceLastPromotion", "YearsAtCompany", 1.0),
    Ratio("IncomePerLevel", "MonthlyIncome", "JobLevel", 0.0),
    Ratio("CompaniesPerYear", "NumCompaniesWorked", "TotalWorkingYears", 1.0),
)
LOG_COLUMNS: Final = (
    "MonthlyIncome",
    "TotalWorkingYears",
    "YearsAtCompany",
    "YearsInCurrentRole",
    "YearsWithCurrManager",
    "DistanceFromHome",
)
# Columns with little or no signal about leaving in this schema (the three pay "rates" are
# unrelated to income and to attrition; the others barely vary with it). Dropping them is a
# preprocessing choice of the search ("columns": "core"), kept only when CV says it helps.
WEAK_COLUMNS: Final = (
    "DailyRate",
    "HourlyRate",
    "MonthlyRate",
    "PercentSalaryHike",
    "PerformanceRating",
    "Education",
)
COLUMN_SETS: Final = ("all", "core")
SATISFACTION_COLUMNS: Final = (
    "EnvironmentSatisfaction",
    "JobSatisfaction",
    "RelationshipSatisfaction",
    "WorkLifeBalance",
    "JobInvolvement",
)


def select_columns(features: tuple[str, ...], column_set: str) -> tuple[str, ...]:
    """The raw input columns of a column set: "all", or "core" (without WEAK_COLUMNS)."""
    if column_set == "all":
        return features
    if column_set == "core":
        return tuple(name for name in features if name not in WEAK_COLUMNS)
    raise ValueError(f"column set {column_set!r}: expected one of {', '.join(COLUMN_SETS)}")


def engineered_sources(
    *, ratios: bool = True, logs: bool = True, satisfaction: bool = True
) -> dict[str, tuple[str, ...]]:
    """Engineered column name -> the raw columns it is computed from, in output order."""
    sources: dict[str, tuple[str, ...]] = {}
    if ratios:
        sources.update({r.name: (r.numerator, r.denominator) for r in RATIOS})
    if logs:
        sources.update({f"Log{c}": (c,) for c in LOG_COLUMNS})
    if satisfaction:
        sources["SatisfactionMean"] = SATISFACTION_COLUMNS
        sources["LowSatisfactionCount"] = SATISFACTION_COLUMNS
    return sources


def coerce_frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Select ``columns``: categoricals as str objects, numerics as float64."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AttritionError(f"input is missing required feature columns: {', '.join(missing)}")
    out = pd.DataFrame(index=frame.index)
    for name in columns:
        if name in CATEGORICAL_NAMES:
            out[name] = frame[name].astype(str).astype(object)
        else:
            out[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return out


def add_engineered(
    frame: pd.DataFrame, *, ratios: bool = True, logs: bool = True, satisfaction: bool = True
) -> pd.DataFrame:
    """``frame`` plus the engineered columns (pure; ``frame`` holds coerced raw columns)."""
    extra: dict[str, pd.Series[float]] = {}
    if ratios:
        for r in RATIOS:
            denominator = (frame[r.denominator] + r.offset).clip(lower=1.0)
            extra[r.name] = frame[r.numerator] / denominator
    if logs:
        for c in LOG_COLUMNS:
            extra[f"Log{c}"] = pd.Series(np.log1p(frame[c].clip(lower=0.0)), index=frame.index)
    if satisfaction:
        block = frame[list(SATISFACTION_COLUMNS)]
        extra["SatisfactionMean"] = block.mean(axis=1)
        extra["LowSatisfactionCount"] = (block == 1).sum(axis=1).astype("float64")
    return pd.concat([frame, pd.DataFrame(extra, index=frame.index)], axis=1)


class FeatureEngineer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Pipeline step "engineer": raw schema columns -> raw + engineered columns."""

    def __init__(
        self,
        feature_names: tuple[str, ...] = (),
        ratios: bool = True,
        logs: bool = True,
        satisfaction: bool = True,
    ) -> None:
        self.feature_names = feature_names
        self.ratios = ratios
        self.logs = logs
        self.satisfaction = satisfaction

    def fit(self, X: pd.DataFrame, y: Any = None) -> FeatureEngineer:
        self.n_features_in_ = len(self.feature_names)
        self.feature_names_in_ = np.asarray(self.feature_names, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        frame = coerce_frame(X, self.feature_names)
        return add_engineered(
            frame, ratios=self.ratios, logs=self.logs, satisfaction=self.satisfaction
        )

    def sources(self) -> dict[str, tuple[str, ...]]:
        """Every output column -> the raw input columns it comes from."""
        own = {name: (name,) for name in self.feature_names}
        return own | engineered_sources(
            ratios=self.ratios, logs=self.logs, satisfaction=self.satisfaction
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray[Any, Any]:
        return np.asarray(list(self.sources()), dtype=object)


def _category_values(name: str) -> list[Any]:
    feature = FEATURES[name]
    if isinstance(feature, CategoricalFeature):
        return list(feature.categories)
    assert isinstance(feature, NumericFeature)
    return [float(v) for v in range(feature.low, feature.high + 1)]


def split_columns(
    engineer: FeatureEngineer, ordinal_encoding: OrdinalEncoding
) -> tuple[list[str], list[str]]:
    """(one-hot columns, numeric columns) of the engineer step's output."""
    onehot: list[str] = []
    numeric: list[str] = []
    for name in engineer.get_feature_names_out():
        feature = FEATURES.get(name)
        is_ordinal = isinstance(feature, NumericFeature) and feature.ordinal
        if isinstance(feature, CategoricalFeature) or (is_ordinal and ordinal_encoding == "onehot"):
            onehot.append(str(name))
        else:
            numeric.append(str(name))
    return onehot, numeric


def build_preprocessor(
    engineer: FeatureEngineer, *, ordinal_encoding: OrdinalEncoding, scale: bool
) -> ColumnTransformer:
    """Pipeline step "preprocess": one-hot (schema categories) + scaled or raw numerics."""
    onehot, numeric = split_columns(engineer, ordinal_encoding)
    encoder = OneHotEncoder(
        categories=[_category_values(c) for c in onehot],
        handle_unknown="ignore",
        sparse_output=False,
    )
    numeric_step: Any = StandardScaler() if scale else "passthrough"
    return ColumnTransformer(
        [("categorical", encoder, onehot), ("numeric", numeric_step, numeric)],
        sparse_threshold=0.0,
    )
