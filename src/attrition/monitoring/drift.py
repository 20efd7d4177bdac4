"""The drift engine: pure, vectorised comparisons of current feature and score columns with
a reference profile (``profile.py``), and the verdicts.

* ``numeric`` features: two-sample Kolmogorov-Smirnov test (asymptotic p-value) and, as
  effect size, the Wasserstein-1 distance divided by the reference standard deviation.
* ``discrete`` and ``categorical`` features: KS is conservative on heavily tied data, so
  these get a chi-squared test on the 2 x K contingency table (sparse cells pooled so every
  expected count is at least 5) and, as effect size, the Jensen-Shannon distance (base 2,
  in [0, 1]). The statistics themselves are in ``statistics.py``.

A feature is flagged only when its p-value, corrected across features (Holm by default),
is below ``alpha`` AND its effect reaches the configured minimum: the test bounds false
alarms on small samples, the effect size stops huge samples from flagging trivial
differences. A missing-value rate that moves by more than ``max_missing_rate_delta`` or a
share of unseen categories above ``max_unseen_rate`` also flags the feature.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import stats

from attrition.errors import AttritionError
from attrition.monitoring.config import DriftConfig, PredictionDriftConfig
from attrition.monitoring.profile import (
    PREDICTION,
    FeatureSpec,
    Kind,
    ReferenceFeature,
    ReferenceProfile,
    as_float,
    build_reference,
    encode_categories,
    format_number,
    row_count,
)

# What a one-shot :func:`compare` of two frames needs besides it, importable from here.
from attrition.monitoring.profile import columns_from_frame as columns_from_frame
from attrition.monitoring.profile import feature_specs as feature_specs
from attrition.monitoring.statistics import (
    Ecdf,
    FloatArray,
    IntArray,
    adjust_pvalues,
    chi2_statistic,
    ecdf,
    jensen_shannon,
    ks_and_wasserstein,
    ks_pvalues,
)

MAX_UNSEEN_LISTED = 20
MAX_BARS = 40
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


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
    return {format_number(v): int(c) for v, c in zip(other.tolist(), counts.tolist(), strict=True)}


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
    rows = row_count(current, reference.specs, "current")
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
