"""Realised model performance once outcomes arrive, compared with the holdout figures.

Pure functions over arrays: scores (predicted probabilities), outcomes (True = left) and,
for windows, the timestamps of the scored predictions. Per window: ROC-AUC with a DeLong
interval, recall and precision at the model's threshold with Wilson intervals, Brier score,
expected calibration error and calibration-in-the-large (observed leaver rate against the
mean score, with a z-test on the sum of Bernoulli variances).

A decay is confirmed only beyond noise: the upper end of the realised AUC's (or recall's)
confidence interval must lie below the holdout figure minus the tolerance, or the observed
rate must differ from the mean score by more than the calibration tolerance AND
significantly. Too few outcomes (or too few of either class) gives "not_enough_data",
never a verdict. Label shift (more people leave, features unchanged) shows up here as a
calibration decay even though feature and prediction drift stay quiet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import pairwise
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from attrition.errors import AttritionError
from attrition.monitoring.config import PerformanceConfig

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Status = Literal["ok", "decay", "not_enough_data"]
Bounds = tuple[float, float]


@dataclass(frozen=True, slots=True)
class HoldoutMetrics:
    """The figures the model was accepted with (holdout set at training time)."""

    roc_auc: float
    recall: float | None = None
    precision: float | None = None
    brier: float | None = None
    ece: float | None = None
    positive_rate: float | None = None

    @classmethod
    def from_mapping(cls, metrics: Mapping[str, Any]) -> HoldoutMetrics:
        """From a run's metrics dict; ``roc_auc`` is required, the rest optional."""
        if metrics.get("roc_auc") is None:
            raise AttritionError("holdout metrics lack roc_auc; the model's run must log it")

        def pick(name: str) -> float | None:
            value = metrics.get(name)
            return None if value is None else float(value)

        return cls(
            roc_auc=float(metrics["roc_auc"]),
            recall=pick("recall"),
            precision=pick("precision"),
            brier=pick("brier"),
            ece=pick("ece"),
            positive_rate=pick("positive_rate"),
        )


@dataclass(frozen=True, slots=True)
class WindowPerformance:
    """Realised figures for one window of scored-and-resolved predictions."""

    start: datetime | None
    end: datetime | None
    outcomes: int
    positives: int
    status: Status
    reasons: tuple[str, ...]
    roc_auc: float | None
    roc_auc_bounds: Bounds | None
    recall: float | None
    recall_bounds: Bounds | None
    precision: float | None
    precision_bounds: Bounds | None
    brier: float | None
    ece: float | None
    mean_score: float | None
    observed_rate: float | None
    calibration_gap: float | None
    calibration_p_value: float | None
    deltas: dict[str, float]

    @property
    def decayed(self) -> bool:
        """True only for a confirmed decay."""
        return self.status == "decay"


@dataclass(frozen=True, slots=True)
class PerformanceResult:
    """The verdict over the whole period plus the per-window breakdown (oldest first)."""

    status: Status
    overall: WindowPerformance
    windows: tuple[WindowPerformance, ...]
    holdout: HoldoutMetrics
    threshold: float

    @property
    def decay(self) -> bool | None:
        """True/False, or None when there are not enough outcomes for a verdict."""
        return None if self.status == "not_enough_data" else self.status == "decay"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (timestamps as ISO strings, NaN as None)."""
        data = asdict(self)
        data["decay"] = self.decay
        return _json_ready(data)  # type: ignore[no-any-return]


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


# ---------------------------------------------------------------------- statistics


def roc_auc_delong(scores: FloatArray, outcomes: BoolArray) -> tuple[float, float]:
    """ROC-AUC and its DeLong standard error (midranks, so ties count one half)."""
    positives, negatives = scores[outcomes], scores[~outcomes]
    m, n = positives.size, negatives.size
    if m < 2 or n < 2:
        raise AttritionError("ROC-AUC needs at least two leavers and two stayers")
    combined = stats.rankdata(np.concatenate([positives, negatives]))
    auc = (combined[:m].sum() - m * (m + 1) / 2) / (m * n)
    below = (combined[:m] - stats.rankdata(positives)) / n  # negatives under each positive
    above = 1 - (combined[m:] - stats.rankdata(negatives)) / m  # positives over each negative
    variance = below.var(ddof=1) / m + above.var(ddof=1) / n
    return float(auc), math.sqrt(max(variance, 0.0))


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes: int, trials: int, confidence: float) -> Bounds:
    """Two-sided Wilson score interval for a proportion."""
    if trials == 0:
        return (0.0, 1.0)
    z = _z(confidence)
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials**2))
    half /= 1 + z * z / trials
    return (max(0.0, centre - half), min(1.0, centre + half))


def expected_calibration_error(scores: FloatArray, outcomes: BoolArray, bins: int) -> float:
    """Weighted mean |observed rate - mean score| over equal-width score bins."""
    index = np.minimum((scores * bins).astype(np.int64), bins - 1)
    score_sums = np.bincount(index, weights=scores, minlength=bins)
    outcome_sums = np.bincount(index, weights=outcomes.astype(np.float64), minlength=bins)
    return float(np.abs(outcome_sums - score_sums).sum() / max(scores.size, 1))


def calibration_in_the_large(scores: FloatArray, outcomes: BoolArray) -> tuple[float, float]:
    """Observed rate minus mean score, and the two-sided p-value that it is zero."""
    gap = float(outcomes.mean() - scores.mean())
    spread = math.sqrt(float((scores * (1 - scores)).sum()))
    if spread == 0:
        return gap, 1.0 if gap == 0 else 0.0
    z = (float(outcomes.sum()) - float(scores.sum())) / spread
    return gap, float(2 * stats.norm.sf(abs(z)))


# ---------------------------------------------------------------------- one window


def _validated(scores: Any, outcomes: Any) -> tuple[FloatArray, BoolArray]:
    probabilities = np.asarray(scores, dtype=np.float64)
    results = np.asarray(outcomes, dtype=bool)
    if probabilities.shape != results.shape or probabilities.ndim != 1:
        raise AttritionError("scores and outcomes must be 1-D and of the same length")
    if probabilities.size and (
        np.isnan(probabilities).any() or probabilities.min() < 0 or probabilities.max() > 1
    ):
        raise AttritionError("scores must be probabilities from 0 to 1")
    return probabilities, results


def _enough(outcomes: BoolArray, config: PerformanceConfig) -> bool:
    positives = int(outcomes.sum())
    return (
        outcomes.size >= config.min_outcomes
        and positives >= config.min_positives
        and outcomes.size - positives >= config.min_negatives
    )


def _rate_at(
    flagged: BoolArray, truth: BoolArray, confidence: float
) -> tuple[float | None, Bounds | None]:
    trials = int(truth.sum())
    if trials == 0:
        return None, None
    hits = int((flagged & truth).sum())
    return hits / trials, wilson_interval(hits, trials, confidence)


def _deltas(values: Mapping[str, float | None], holdout: HoldoutMetrics) -> dict[str, float]:
    out = {}
    for name, value in values.items():
        reference = getattr(holdout, name)
        if value is not None and reference is not None:
            out[name] = round(value - reference, 6)
    return out


def _reasons(
    window: dict[str, Any], holdout: HoldoutMetrics, config: PerformanceConfig
) -> list[str]:
    reasons = []
    bounds = window["roc_auc_bounds"]
    if bounds is not None and bounds[1] < holdout.roc_auc - config.auc_tolerance:
        reasons.append("roc_auc")
    bounds = window["recall_bounds"]
    floor = None if holdout.recall is None else holdout.recall - config.recall_tolerance
    if floor is not None and bounds is not None and bounds[1] < floor:
        reasons.append("recall")
    gap, p_value = window["calibration_gap"], window["calibration_p_value"]
    if abs(gap) > config.calibration_tolerance and p_value < 1 - config.confidence:
        reasons.append("calibration")
    return reasons


def _auc_fields(scores: FloatArray, outcomes: BoolArray, confidence: float) -> dict[str, Any]:
    positives = int(outcomes.sum())
    if positives < 2 or outcomes.size - positives < 2:
        return {"roc_auc": None, "roc_auc_bounds": None}
    auc, error = roc_auc_delong(scores, outcomes)
    z = _z(confidence)
    return {
        "roc_auc": auc,
        "roc_auc_bounds": (max(0.0, auc - z * error), min(1.0, auc + z * error)),
    }


def window_performance(
    scores: Any,
    outcomes: Any,
    *,
    threshold: float,
    holdout: HoldoutMetrics,
    config: PerformanceConfig,
    start: datetime | None = None,
    end: datetime | None = None,
) -> WindowPerformance:
    """All figures and the verdict for one set of resolved predictions."""
    p, y = _validated(scores, outcomes)
    fields: dict[str, Any] = {
        "start": start,
        "end": end,
        "outcomes": int(y.size),
        "positives": int(y.sum()),
    }
    fields.update(_auc_fields(p, y, config.confidence))
    flagged = p >= threshold
    fields["recall"], fields["recall_bounds"] = _rate_at(flagged, y, config.confidence)
    fields["precision"], fields["precision_bounds"] = _rate_at(y, flagged, config.confidence)
    empty = y.size == 0
    fields["brier"] = None if empty else float(((p - y) ** 2).mean())
    fields["ece"] = None if empty else expected_calibration_error(p, y, config.calibration_bins)
    fields["mean_score"] = None if empty else float(p.mean())
    fields["observed_rate"] = None if empty else float(y.mean())
    gap, p_value = (None, None) if empty else calibration_in_the_large(p, y)
    fields["calibration_gap"], fields["calibration_p_value"] = gap, p_value
    keys = ("roc_auc", "recall", "precision", "brier", "ece")
    fields["deltas"] = _deltas({k: fields[k] for k in keys}, holdout)
    if not _enough(y, config):
        return WindowPerformance(status="not_enough_data", reasons=(), **fields)
    reasons = _reasons(fields, holdout, config)
    return WindowPerformance(status="decay" if reasons else "ok", reasons=tuple(reasons), **fields)


# ---------------------------------------------------------------------- windows


def as_utc_datetime64(timestamps: Any) -> npt.NDArray[np.datetime64]:
    """Timestamps (aware datetimes or numpy datetime64, taken as UTC) as datetime64[us]."""
    if isinstance(timestamps, np.ndarray) and timestamps.dtype.kind == "M":
        return timestamps.astype("datetime64[us]")
    values = list(timestamps)
    if any(t.tzinfo is None for t in values):
        raise AttritionError("timestamps must be timezone-aware (UTC)")
    naive = [t.astimezone(UTC).replace(tzinfo=None) for t in values]
    return np.array(naive, dtype="datetime64[us]")


def _to_datetime(value: np.datetime64) -> datetime:
    micros = int(value.astype("datetime64[us]").astype(np.int64))
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def window_edges(
    times: npt.NDArray[np.datetime64], days: float, end: datetime | None = None
) -> list[tuple[datetime, datetime]]:
    """Consecutive windows of ``days`` ending at ``end`` (default: just after the newest time)."""
    if times.size == 0:
        return []
    step = np.timedelta64(int(days * 86_400_000_000), "us")
    last = as_utc_datetime64([end])[0] if end else times.max() + np.timedelta64(1, "us")
    count = max(1, math.ceil((last - times.min()) / step))
    stops = [last - step * k for k in range(count, -1, -1)]
    return [(_to_datetime(a), _to_datetime(b)) for a, b in pairwise(stops)]


def evaluate_performance(
    scores: Any,
    outcomes: Any,
    timestamps: Any | None = None,
    *,
    threshold: float,
    holdout: HoldoutMetrics,
    config: PerformanceConfig,
    end: datetime | None = None,
) -> PerformanceResult:
    """The overall verdict over all given outcomes, with per-window figures when timed."""
    if not 0 <= threshold <= 1:
        raise AttritionError(f"threshold must be from 0 to 1, got {threshold}")
    p, y = _validated(scores, outcomes)
    measure = partial(window_performance, threshold=threshold, holdout=holdout, config=config)
    windows: list[WindowPerformance] = []
    if timestamps is not None:
        times = as_utc_datetime64(timestamps)
        if times.shape != p.shape:
            raise AttritionError("timestamps must match scores and outcomes in length")
        for start, stop in window_edges(times, config.window_days, end):
            lower, upper = as_utc_datetime64([start, stop])
            inside = (times >= lower) & (times < upper)
            windows.append(measure(p[inside], y[inside], start=start, end=stop))
    span = (windows[0].start, windows[-1].end) if windows else (None, None)
    overall = measure(p, y, start=span[0], end=span[1])
    return PerformanceResult(overall.status, overall, tuple(windows), holdout, threshold)
