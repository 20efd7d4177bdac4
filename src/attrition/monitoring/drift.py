"""The drift engine: pure, vectorised two-sample comparisons of feature and score columns.

Per feature the engine picks one of three kinds from the schema and the reference sample:

* ``numeric``: many distinct values. Two-sample Kolmogorov-Smirnov test (asymptotic
  p-value) and, as effect size, the Wasserstein-1 distance divided by the reference
  standard deviation.
* ``discrete``: integer features with few levels (the ordinal 1-4 scales, or any numeric
  column with at most ``discrete_max_levels`` distinct reference values). KS is
  conservative on such heavily tied data, so these are compared like categories.
* ``categorical``: chi-squared test on the 2 x K contingency table (sparse cells pooled so
  every expected count is at least 5) and, as effect size, the Jensen-Shannon distance
  (base 2, in [0, 1]).

A feature is flagged only when its p-value, corrected across features (Holm by default),
is below ``alpha`` AND its effect reaches the configured minimum: the test bounds false
alarms on small samples, the effect size stops huge samples from flagging trivial
differences. A missing-value rate that moves by more than ``max_missing_rate_delta`` or a
share of unseen categories above ``max_unseen_rate`` also flags the feature.

Inputs are columns of numpy arrays: numeric columns as numbers (NaN for missing),
categorical columns as strings (None, NaN or "" for missing). ``columns_from_frame`` is the
pandas edge. The reference side is summarised once (``build_reference``) so a monitor can
keep it per model version and compare many current windows against it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from attrition.errors import AttritionError
from attrition.monitoring.config import DriftConfig, PredictionDriftConfig
from attrition.schema import FEATURE_NAMES, FEATURES, CategoricalFeature

if TYPE_CHECKING:
    import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Kind = Literal["numeric", "discrete", "categorical"]
PREDICTION = "prediction"
MIN_EXPECTED = 5.0
MAX_UNSEEN_LISTED = 20
MAX_BARS = 40
MAX_LABEL_CHARS = 48
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
COUNTING_RANGE = 1 << 16  # integer data spanning at most this (or n) values is counted, not sorted
EXACT_KS_MAX_N = 10_000


# --------------------------------------------------------------------------- specs


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


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Distribution:
    """A plot-ready, aggregated view of one sample: proportions per bar or histogram bin.

    ``labels`` name the bars (categories or levels); for histograms ``edges`` holds the
    ``len(proportions) + 1`` bin edges (outer bins absorb the tails). No row-level values.
    """

    labels: tuple[str, ...]
    edges: tuple[float, ...]
    proportions: tuple[float, ...]
    stats: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    """The verdict and evidence for one feature (or for the prediction scores)."""

    name: str
    kind: Kind
    test: Literal["ks", "chi2"]
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None
    effect_name: Literal["wasserstein_norm", "jensen_shannon"]
    effect: float | None
    threshold: float
    drifted: bool
    reasons: tuple[str, ...]
    reference_count: int
    current_count: int
    missing_rate_reference: float
    missing_rate_current: float
    unseen: dict[str, int]
    unseen_rate: float
    reference: Distribution
    current: Distribution


@dataclass(frozen=True, slots=True)
class DriftResult:
    """Per-feature results (drifted first), dataset verdict and prediction drift."""

    reference_rows: int
    current_rows: int
    alpha: float
    correction: str
    drift_share_threshold: float
    features: tuple[FeatureDrift, ...]
    drift_share: float
    dataset_drift: bool
    drifted_features: tuple[str, ...]
    prediction: FeatureDrift | None

    @property
    def prediction_drift(self) -> bool:
        """True when the score distribution drifted (False without scores)."""
        return self.prediction is not None and self.prediction.drifted

    @property
    def any_drift(self) -> bool:
        """True when any feature or the prediction scores drifted."""
        return bool(self.drifted_features) or self.prediction_drift

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes None)."""
        data = asdict(self)
        data["prediction_drift"] = self.prediction_drift
        data["n_features"] = len(self.features)
        data["n_drifted"] = len(self.drifted_features)
        return _json_safe(data)  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """The result as one JSON document."""
        return json.dumps(self.to_dict(), allow_nan=False)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


# --------------------------------------------------------------------------- reference


@dataclass(frozen=True, slots=True)
class Ecdf:
    """An empirical distribution: distinct sorted values and the share at or below each."""

    values: FloatArray
    cumulative: FloatArray
    count: int
    mean: float
    std: float

    def at(self, points: FloatArray, *, strict: bool = False) -> FloatArray:
        """Share of the sample <= each point (< each point when ``strict``)."""
        index = np.searchsorted(self.values, points, side="left" if strict else "right")
        return np.concatenate([[0.0], self.cumulative])[index]

    def quantile(self, q: float) -> float:
        """The smallest value with at least a share ``q`` of the sample at or below it."""
        index = int(np.searchsorted(self.cumulative, q, side="left"))
        return float(self.values[min(index, self.values.size - 1)])


def ecdf(values: FloatArray) -> Ecdf:
    """The ECDF of the non-missing values: by counting for narrow-range integers, else a sort."""
    present = values[~np.isnan(values)]
    if present.size == 0:
        return Ecdf(present, present, 0, math.nan, math.nan)
    low, high = float(present.min()), float(present.max())
    if high - low <= max(COUNTING_RANGE, present.size):
        whole = present.astype(np.int64)
        if np.array_equal(whole, present):
            return _counted_ecdf(whole - int(low), low, present.size)
    ordered = np.sort(present)
    ends = np.append(np.flatnonzero(ordered[1:] != ordered[:-1]), ordered.size - 1)
    distinct = ordered[ends]
    counts = np.diff(ends, prepend=-1).astype(np.float64)
    return _ecdf_from_counts(distinct, counts, ordered.size)


def _counted_ecdf(offsets: IntArray, low: float, size: int) -> Ecdf:
    counts = np.bincount(offsets)
    levels = np.flatnonzero(counts)
    return _ecdf_from_counts(
        (levels + low).astype(np.float64), counts[levels].astype(np.float64), size
    )


def _ecdf_from_counts(distinct: FloatArray, counts: FloatArray, size: int) -> Ecdf:
    # elementwise products, not np.dot: BLAS threads cost more than they save here
    mean = float((distinct * counts).sum() / size)
    std = math.sqrt(max(0.0, float(((distinct - mean) ** 2 * counts).sum() / size)))
    return Ecdf(distinct.astype(np.float64), np.cumsum(counts) / size, size, mean, std)


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


def _row_count(columns: Mapping[str, Any], specs: Sequence[FeatureSpec], side: str) -> int:
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
        levels=tuple(_format_number(v) for v in distribution.values.tolist()),
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
    rows = _row_count(columns, specs, "reference")
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


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --------------------------------------------------------------------------- statistics


def ks_and_wasserstein(reference: Ecdf, current: Ecdf) -> tuple[float, float]:
    """KS statistic and Wasserstein-1 distance, evaluated on the union of distinct values.

    The grid is a merge of two sorted arrays (a stable sort finds the two runs); values in
    both give repeated grid points, which change neither statistic (zero-width steps).
    """
    grid = np.sort(np.concatenate([reference.values, current.values]), kind="stable")
    gaps = np.abs(reference.at(grid) - current.at(grid))
    return float(gaps.max()), float((gaps[:-1] * np.diff(grid)).sum())


def ks_pvalues(statistics: FloatArray, n_ref: IntArray, n_cur: IntArray) -> FloatArray:
    """Asymptotic two-sided KS p-values (conservative under ties), vectorised."""
    effective = np.maximum(np.round(n_ref * n_cur / (n_ref + n_cur)), 1)
    # The finite-n law (scipy's "asymp" method) is slow for large n; there the limiting
    # Kolmogorov law is used: never smaller, within 3.5 % relative for n > 10,000.
    limit = stats.kstwobign.sf(np.sqrt(effective) * statistics)
    small = effective <= EXACT_KS_MAX_N
    p = np.asarray(limit, dtype=np.float64)
    if small.any():
        p[small] = stats.kstwo.sf(statistics[small], effective[small])
    return p


def pool_sparse_cells(reference: FloatArray, current: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Merge cells whose expected count is below 5 so the chi-squared law applies.

    Sparse cells are pooled into one; if that pool is still sparse it absorbs the smallest
    other cell. Empty cells are dropped. The result may have a single cell (no test).
    """
    total = reference + current
    keep = total > 0
    reference, current, total = reference[keep], current[keep], total[keep]
    share = reference.sum() / total.sum() if total.size else 0.5
    sparse = np.minimum(total * share, total * (1 - share)) < MIN_EXPECTED
    if not sparse.any():
        return reference, current
    ref = np.append(reference[~sparse], reference[sparse].sum())
    cur = np.append(current[~sparse], current[sparse].sum())
    pooled = ref[-1] + cur[-1]
    if min(pooled * share, pooled * (1 - share)) < MIN_EXPECTED and ref.size > 1:
        smallest = int(np.argmin(ref[:-1] + cur[:-1]))
        ref[-1] += ref[smallest]
        cur[-1] += cur[smallest]
        ref, cur = np.delete(ref, smallest), np.delete(cur, smallest)
    return ref, cur


def chi2_statistic(reference: FloatArray, current: FloatArray) -> tuple[float, int]:
    """Pearson chi-squared of the 2 x K table (after pooling) and its degrees of freedom."""
    ref, cur = pool_sparse_cells(reference, current)
    if ref.size < 2:
        return 0.0, 0
    table = np.vstack([ref, cur])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    return float(((table - expected) ** 2 / expected).sum()), int(ref.size - 1)


def jensen_shannon(p: FloatArray, q: FloatArray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two count vectors."""
    p = p / p.sum()
    q = q / q.sum()
    mid = (p + q) / 2

    def _kl(a: FloatArray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / mid[mask])))

    return math.sqrt(max(0.0, (_kl(p) + _kl(q)) / 2))


def adjust_pvalues(p_values: FloatArray, method: str) -> FloatArray:
    """Multiple-testing correction; NaN entries (untested) stay NaN and do not count."""
    adjusted = np.full_like(p_values, np.nan)
    tested = np.flatnonzero(~np.isnan(p_values))
    m = tested.size
    if m == 0:
        return adjusted
    order = tested[np.argsort(p_values[tested], kind="stable")]
    ranked = p_values[order]
    if method == "holm":
        values = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bonferroni":
        values = ranked * m
    elif method == "benjamini-hochberg":
        values = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    elif method == "none":
        values = ranked
    else:
        raise AttritionError(
            f"unknown correction {method!r}; allowed: holm, bonferroni, benjamini-hochberg, none"
        )
    adjusted[order] = np.minimum(values, 1.0)
    return adjusted


# --------------------------------------------------------------------------- summaries


def _numeric_stats(distribution: Ecdf) -> dict[str, float]:
    if distribution.count == 0:
        return {}
    result = {"mean": distribution.mean, "std": distribution.std}
    result.update({f"p{round(q * 100):02d}": distribution.quantile(q) for q in QUANTILES})
    return result


def histogram_edges(reference: Ecdf, current: Ecdf, bins: int) -> FloatArray:
    """Shared bin edges spanning both samples' 0.5-99.5 % range; integer-aligned when narrow."""
    pooled = [d for d in (reference, current) if d.count]
    low = min(d.quantile(0.005) for d in pooled)
    high = max(d.quantile(0.995) for d in pooled)
    integers = all(bool(np.all(d.values == np.round(d.values))) for d in pooled)
    if integers:  # whole-number bins centred on the values, so no value sits on an edge
        width = math.ceil((high - low + 1) / bins)
        return np.arange(low - 0.5, high + 0.5 + width, width)[: bins + 1]
    if high <= low:
        return np.array([low - 0.5, low + 0.5])
    return np.linspace(low, high, bins + 1)


def _histogram(distribution: Ecdf, edges: FloatArray) -> Distribution:
    if distribution.count == 0:
        return Distribution((), tuple(edges.tolist()), ())
    below = np.concatenate([[0.0], distribution.at(edges[1:-1], strict=True), [1.0]])
    proportions = np.diff(below).round(6)
    return Distribution(
        (), tuple(edges.tolist()), tuple(proportions.tolist()), _numeric_stats(distribution)
    )


def _bars(labels: Sequence[str], counts: FloatArray) -> Distribution:
    total = counts.sum()
    proportions = (counts / total).round(6) if total else np.zeros_like(counts)
    return Distribution(tuple(labels), (), tuple(proportions.tolist()))


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True, slots=True)
class _Raw:
    """Per-feature measurements before the p-values and the correction."""

    ref: ReferenceFeature
    test: Literal["ks", "chi2"]
    statistic: float | None
    dof: int
    effect: float | None
    current_count: int
    missing: int
    unseen: dict[str, int]
    reference_view: Distribution
    current_view: Distribution


def _compare_numeric(ref: ReferenceFeature, values: FloatArray, bins: int, min_rows: int) -> _Raw:
    assert ref.ecdf is not None
    current = ecdf(values)
    statistic = effect = None
    if current.count >= min_rows and ref.ecdf.count >= min_rows:
        statistic, distance = ks_and_wasserstein(ref.ecdf, current)
        effect = distance / (ref.ecdf.std or 1.0)
    edges = histogram_edges(ref.ecdf, current, bins)
    return _Raw(
        ref, "ks", statistic, 0, effect, current.count, values.size - current.count, {},
        _histogram(ref.ecdf, edges), _histogram(current, edges),
    )  # fmt: skip


def _discrete_counts(
    ref: ReferenceFeature, values: FloatArray
) -> tuple[IntArray, dict[str, int], int]:
    assert ref.level_values is not None
    present = values[~np.isnan(values)]
    if ref.level_values.size == 0:  # the reference had no values at all
        return np.zeros(0, dtype=np.int64), _unseen_numbers(present), values.size - present.size
    index = np.minimum(np.searchsorted(ref.level_values, present), ref.level_values.size - 1)
    matched = ref.level_values[index] == present
    if matched.all():
        return np.bincount(index, minlength=ref.level_values.size), {}, values.size - present.size
    counts = np.bincount(index[matched], minlength=ref.level_values.size).astype(np.int64)
    return counts, _unseen_numbers(present[~matched]), values.size - present.size


def _unseen_numbers(values: FloatArray) -> dict[str, int]:
    other, counts = np.unique(values, return_counts=True)
    return {_format_number(v): int(c) for v, c in zip(other.tolist(), counts.tolist(), strict=True)}


def _categorical_counts(ref: ReferenceFeature, values: Any) -> tuple[IntArray, dict[str, int], int]:
    codes, missing, unseen = encode_categories(values, ref.levels)
    counts = np.bincount(codes[codes >= 0], minlength=len(ref.levels)).astype(np.int64)
    return counts, unseen, missing


def _compare_levels(ref: ReferenceFeature, values: Any, min_rows: int) -> _Raw:
    assert ref.counts is not None
    if ref.kind == "discrete":
        counts, unseen, missing = _discrete_counts(ref, as_float(values, ref.name))
    else:
        counts, unseen, missing = _categorical_counts(ref, values)
    extra = sorted(unseen, key=lambda k: -unseen[k])
    ref_full = np.concatenate([ref.counts, np.zeros(len(extra))]).astype(np.float64)
    cur_full = np.concatenate([counts, [unseen[k] for k in extra]]).astype(np.float64)
    current_count = int(cur_full.sum())
    statistic = effect = None
    dof = 0
    if current_count >= min_rows and ref.present >= min_rows:
        statistic, dof = chi2_statistic(ref_full, cur_full)
        effect = jensen_shannon(ref_full, cur_full)
    labels = [*ref.levels, *extra]
    if ref.kind == "discrete":  # show levels in numeric order, unseen ones included
        order = np.argsort([float(label) for label in labels], kind="stable")
        labels, ref_full, cur_full = [labels[i] for i in order], ref_full[order], cur_full[order]
    return _Raw(
        ref, "chi2", statistic, dof, effect, current_count, missing, unseen,
        *_level_views(labels, ref_full, cur_full),
    )  # fmt: skip


def _level_views(
    labels: Sequence[str], reference: FloatArray, current: FloatArray
) -> tuple[Distribution, Distribution]:
    """Bars for plots, the rarest levels beyond ``MAX_BARS`` folded into one "other" bar."""
    if len(labels) > MAX_BARS:
        keep = np.sort(np.argsort(-(reference + current), kind="stable")[: MAX_BARS - 1])
        rest = np.setdiff1d(np.arange(len(labels)), keep)
        labels = [*(labels[i] for i in keep), "other"]
        reference = np.append(reference[keep], reference[rest].sum())
        current = np.append(current[keep], current[rest].sum())
    return _bars(labels, reference), _bars(labels, current)


def _compare_feature(ref: ReferenceFeature, values: Any, config: DriftConfig) -> _Raw:
    if ref.kind == "numeric":
        return _compare_numeric(
            ref, as_float(values, ref.name), config.histogram_bins, config.min_rows
        )
    return _compare_levels(ref, values, config.min_rows)


def _pvalues(raws: Sequence[_Raw]) -> FloatArray:
    """All p-values at once: one vectorised call per test family."""
    p = np.full(len(raws), np.nan)
    ks = [i for i, r in enumerate(raws) if r.test == "ks" and r.statistic is not None]
    chi = [i for i, r in enumerate(raws) if r.test == "chi2" and r.statistic is not None]
    if ks:
        statistic = np.array([raws[i].statistic for i in ks], dtype=np.float64)
        n_ref = np.array([raws[i].ref.present for i in ks], dtype=np.int64)
        n_cur = np.array([raws[i].current_count for i in ks], dtype=np.int64)
        p[ks] = ks_pvalues(statistic, n_ref, n_cur)
    if chi:
        statistic = np.array([raws[i].statistic for i in chi], dtype=np.float64)
        dof = np.array([raws[i].dof for i in chi], dtype=np.float64)
        p[chi] = np.where(dof > 0, stats.chi2.sf(statistic, np.maximum(dof, 1)), 1.0)
    return p


def _threshold(kind: Kind, config: DriftConfig) -> float:
    return float(getattr(config.min_effect, kind))


def _verdict(
    raw: _Raw, p: float, p_adj: float, alpha: float, threshold: float, config: DriftConfig
) -> FeatureDrift:
    reasons = []
    if raw.effect is not None and p_adj < alpha and raw.effect >= threshold:
        reasons.append("distribution")
    missing_ref = raw.ref.missing / raw.ref.rows if raw.ref.rows else 0.0
    rows = raw.current_count + raw.missing
    missing_cur = raw.missing / rows if rows else 0.0
    if abs(missing_cur - missing_ref) > config.max_missing_rate_delta:
        reasons.append("missing")
    unseen_rate = sum(raw.unseen.values()) / raw.current_count if raw.current_count else 0.0
    if unseen_rate > config.max_unseen_rate:
        reasons.append("unseen")
    listed = dict(sorted(raw.unseen.items(), key=lambda kv: -kv[1])[:MAX_UNSEEN_LISTED])
    return FeatureDrift(
        name=raw.ref.name,
        kind=raw.ref.kind,
        test=raw.test,
        statistic=raw.statistic,
        p_value=None if math.isnan(p) else float(p),
        p_adjusted=None if math.isnan(p_adj) else float(p_adj),
        effect_name="wasserstein_norm" if raw.test == "ks" else "jensen_shannon",
        effect=raw.effect,
        threshold=threshold,
        drifted=bool(reasons),
        reasons=tuple(reasons),
        reference_count=raw.ref.present,
        current_count=raw.current_count,
        missing_rate_reference=round(missing_ref, 6),
        missing_rate_current=round(missing_cur, 6),
        unseen=listed,
        unseen_rate=round(unseen_rate, 6),
        reference=raw.reference_view,
        current=raw.current_view,
    )


def _prediction_drift(
    ref: ReferenceFeature, scores: Any, config: DriftConfig, prediction: PredictionDriftConfig
) -> FeatureDrift:
    raw = _compare_numeric(
        ref, as_float(scores, PREDICTION), config.histogram_bins, config.min_rows
    )
    p = float(_pvalues([raw])[0])
    return _verdict(raw, p, p, prediction.alpha, prediction.min_effect, config)


def _order(features: Iterable[FeatureDrift]) -> tuple[FeatureDrift, ...]:
    """Drifted first, then by adjusted p-value and effect."""

    def key(f: FeatureDrift) -> tuple[bool, float, float]:
        p = f.p_adjusted if f.p_adjusted is not None else 2.0
        return (not f.drifted, p, -(f.effect or 0.0))

    return tuple(sorted(features, key=key))


def detect_drift(
    reference: ReferenceProfile,
    current: Mapping[str, Any],
    config: DriftConfig,
    *,
    prediction: PredictionDriftConfig | None = None,
    scores: Any | None = None,
) -> DriftResult:
    """Compare current columns (and optionally scores) with a reference profile."""
    rows = _row_count(current, reference.specs, "current")
    if rows < config.min_rows:
        raise AttritionError(
            f"current data has {rows} rows; at least {config.min_rows} are needed "
            "(drift.min_rows in the monitoring config)"
        )
    raws = [_compare_feature(ref, current[ref.name], config) for ref in reference.features]
    p_values = _pvalues(raws)
    adjusted = adjust_pvalues(p_values, config.correction)
    features = [
        _verdict(raw, p, q, config.alpha, _threshold(raw.ref.kind, config), config)
        for raw, p, q in zip(raws, p_values.tolist(), adjusted.tolist(), strict=True)
    ]
    drifted = tuple(f.name for f in features if f.drifted)
    share = len(drifted) / len(features) if features else 0.0
    score_drift = None
    if scores is not None and reference.scores is not None:
        score_drift = _prediction_drift(
            reference.scores, scores, config, prediction or PredictionDriftConfig()
        )
    return DriftResult(
        reference_rows=reference.rows,
        current_rows=rows,
        alpha=config.alpha,
        correction=config.correction,
        drift_share_threshold=config.drift_share,
        features=_order(features),
        drift_share=round(share, 6),
        dataset_drift=bool(features) and share >= config.drift_share,
        drifted_features=drifted,
        prediction=score_drift,
    )


def compare(
    reference: Mapping[str, Any],
    current: Mapping[str, Any],
    specs: Sequence[FeatureSpec],
    config: DriftConfig,
    *,
    prediction: PredictionDriftConfig | None = None,
    reference_scores: Any | None = None,
    current_scores: Any | None = None,
) -> DriftResult:
    """One-shot comparison of two column sets (builds the reference profile first)."""
    profile = build_reference(reference, specs, config, scores=reference_scores)
    return detect_drift(profile, current, config, prediction=prediction, scores=current_scores)


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
