"""Reading columns, and the reference side of the drift engine summarised once.

Per feature the kind comes from the schema and the reference sample:

* ``numeric``: many distinct values, summarised as an empirical distribution;
* ``discrete``: integer features with few levels (the ordinal 1-4 scales, or any numeric
  column with at most ``discrete_max_levels`` distinct reference values), counted per level;
* ``categorical``: counted per category (values outside the schema form extra levels).

Inputs are columns of numpy arrays: numeric columns as numbers (NaN for missing),
categorical columns as strings (None, NaN or "" for missing). ``columns_from_frame`` is the
pandas edge. A monitor keeps a :class:`ReferenceProfile` per model version and compares many
current windows against it (``drift.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from attrition.errors import AttritionError
from attrition.monitoring.config import DriftConfig
from attrition.monitoring.statistics import Ecdf, FloatArray, IntArray, ecdf
from attrition.schema import FEATURE_NAMES, FEATURES, CategoricalFeature

if TYPE_CHECKING:
    import pandas as pd

Kind = Literal["numeric", "discrete", "categorical"]
PREDICTION = "prediction"
MAX_LABEL_CHARS = 48


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """How to read one column: categorical (with its known categories) or numeric."""

    name: str
    categorical: bool
    categories: tuple[str, ...] = ()
    ordinal: bool = False


def feature_specs(names: Iterable[str] | None = None) -> tuple[FeatureSpec, ...]:
    """Specs for schema features (default: all of them), in the given order."""
    chosen = tuple(names) if names is not None else FEATURE_NAMES
    unknown = [n for n in chosen if n not in FEATURES]
    if unknown:
        raise AttritionError(
            f"unknown feature(s) {', '.join(unknown)}; allowed: {', '.join(FEATURE_NAMES)}"
        )
    specs = []
    for name in chosen:
        feature = FEATURES[name]
        if isinstance(feature, CategoricalFeature):
            specs.append(FeatureSpec(name, True, feature.categories))
        else:
            specs.append(FeatureSpec(name, False, ordinal=feature.ordinal))
    return tuple(specs)


@dataclass(frozen=True, slots=True)
class ReferenceFeature:
    """The reference side of one feature, summarised once."""

    name: str
    kind: Kind
    rows: int
    missing: int
    ecdf: Ecdf | None = None  # numeric: empirical distribution of present values
    levels: tuple[str, ...] = ()  # discrete / categorical labels
    level_values: FloatArray | None = None  # discrete: numeric value per level
    counts: IntArray | None = None  # discrete / categorical: count per level

    @property
    def present(self) -> int:
        """Rows with a value."""
        return self.rows - self.missing


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """Everything the engine needs from the reference sample."""

    rows: int
    features: tuple[ReferenceFeature, ...]
    specs: tuple[FeatureSpec, ...]
    scores: ReferenceFeature | None = None


def row_count(columns: Mapping[str, Any], specs: Sequence[FeatureSpec], side: str) -> int:
    """The common length of the spec'd columns; a missing column or ragged ones are errors."""
    missing = [s.name for s in specs if s.name not in columns]
    if missing:
        raise AttritionError(f"{side} data lacks column(s): {', '.join(missing)}")
    lengths = {len(columns[s.name]) for s in specs}
    if len(lengths) > 1:
        raise AttritionError(f"{side} data columns have different lengths: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def as_float(values: Any, name: str) -> FloatArray:
    """A numeric column as float64 (NaN = missing); non-numbers are a user error."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise AttritionError(f"column {name} must hold numbers (or be empty for missing)") from None


def _numeric_reference(name: str, values: FloatArray, distribution: Ecdf) -> ReferenceFeature:
    return ReferenceFeature(
        name, "numeric", values.size, values.size - distribution.count, distribution
    )


def _discrete_reference(name: str, values: FloatArray, distribution: Ecdf) -> ReferenceFeature:
    counts = np.diff(np.round(distribution.cumulative * distribution.count), prepend=0.0)
    return ReferenceFeature(
        name,
        "discrete",
        values.size,
        values.size - distribution.count,
        levels=tuple(format_number(v) for v in distribution.values.tolist()),
        level_values=distribution.values,
        counts=counts.astype(np.int64),
    )


def _categorical_reference(spec: FeatureSpec, values: Any) -> ReferenceFeature:
    known = list(spec.categories)
    codes, missing, unseen = encode_categories(values, known)
    extra = sorted(unseen)  # reference values outside the schema still form levels
    counts = np.bincount(codes[codes >= 0], minlength=len(known)).astype(np.int64)
    extra_counts = np.array([unseen[k] for k in extra], dtype=np.int64)
    return ReferenceFeature(
        spec.name,
        "categorical",
        len(codes),
        missing,
        levels=tuple(known + extra),
        counts=np.concatenate([counts, extra_counts]),
    )


def _feature_reference(spec: FeatureSpec, values: Any, config: DriftConfig) -> ReferenceFeature:
    if spec.categorical:
        return _categorical_reference(spec, values)
    numbers = as_float(values, spec.name)
    distribution = ecdf(numbers)
    if spec.ordinal or distribution.values.size <= config.discrete_max_levels:
        return _discrete_reference(spec.name, numbers, distribution)
    return _numeric_reference(spec.name, numbers, distribution)


def build_reference(
    columns: Mapping[str, Any],
    specs: Sequence[FeatureSpec],
    config: DriftConfig,
    scores: Any | None = None,
) -> ReferenceProfile:
    """Summarise the reference sample once: an ECDF or level counts per feature (and scores)."""
    rows = row_count(columns, specs, "reference")
    if rows < config.min_rows:
        raise AttritionError(
            f"reference data has {rows} rows; at least {config.min_rows} are needed "
            "(drift.min_rows in the monitoring config)"
        )
    features = tuple(_feature_reference(s, columns[s.name], config) for s in specs)
    score_ref = None
    if scores is not None:
        numbers = as_float(scores, PREDICTION)
        score_ref = _numeric_reference(PREDICTION, numbers, ecdf(numbers))
    return ReferenceProfile(rows, features, tuple(specs), score_ref)


# --------------------------------------------------------------------------- encoding


def _is_missing(value: Any) -> bool:
    if isinstance(value, str):
        return value == ""
    return value is None or (isinstance(value, float) and math.isnan(value))


def encode_categories(
    values: Any, categories: Sequence[str]
) -> tuple[IntArray, int, dict[str, int]]:
    """Codes per row (index into ``categories``; -1 missing, -2 unseen), missing count, unseen.

    Strings cost one dictionary lookup per row; only rows that miss the lookup are inspected
    further. An integer array is taken as codes already (-1 = missing), e.g. from
    ``pandas.Categorical(..., categories=spec.categories).codes``.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return _checked_codes(values, len(categories))
    lookup = {c: i for i, c in enumerate(categories)}
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    codes = np.fromiter((lookup.get(v, -1) for v in items), dtype=np.int64, count=len(items))
    missing = 0
    unseen: dict[str, int] = {}
    for position in np.flatnonzero(codes < 0).tolist():
        value = items[position]
        if _is_missing(value):
            missing += 1
            continue
        codes[position] = -2
        label = str(value)[:MAX_LABEL_CHARS]
        unseen[label] = unseen.get(label, 0) + 1
    return codes, missing, unseen


def _checked_codes(values: npt.NDArray[Any], levels: int) -> tuple[IntArray, int, dict[str, int]]:
    codes = values.astype(np.int64, copy=False)
    if codes.size and (codes.min() < -1 or codes.max() >= levels):
        raise AttritionError(
            f"categorical codes must be from -1 (missing) to {levels - 1}, "
            f"got {codes.min()}..{codes.max()}"
        )
    return codes, int(np.count_nonzero(codes == -1)), {}


def format_number(value: float) -> str:
    """A level's label: whole numbers without a decimal point."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def columns_from_frame(frame: pd.DataFrame, specs: Sequence[FeatureSpec]) -> dict[str, Any]:
    """The pandas edge: the spec'd columns of a DataFrame as numpy arrays."""
    missing = [s.name for s in specs if s.name not in frame.columns]
    if missing:
        raise AttritionError(f"data lacks column(s): {', '.join(missing)}")
    columns: dict[str, Any] = {}
    for spec in specs:
        series = frame[spec.name]
        if spec.categorical:
            values = series.astype(object).to_numpy()
            values[series.isna().to_numpy()] = None
            columns[spec.name] = values
            continue
        try:
            columns[spec.name] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            raise AttritionError(f"column {spec.name} must hold numbers") from None
    return columns
