"""Metrics, calibration error, bootstrap intervals and threshold choice (pure functions)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    fbeta_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from attrition.capacity import (
    DEFAULT_CAPACITY,
    Capacity,
    capacity_reason,
    capacity_threshold,
    flagged_summary,
)

ThresholdPolicy = Literal["f2", "cost", "capacity"]
THRESHOLD_POLICIES: Final = ("f2", "cost", "capacity")
THRESHOLD_GRID: Final = np.round(np.arange(0.01, 0.99 + 1e-9, 0.005), 4)
ECE_BINS: Final = 10


@dataclass(frozen=True, slots=True)
class ThresholdChoice:
    """The decision threshold, the policy that chose it and why, in words."""

    threshold: float
    policy: str
    objective: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_calibration_error(
    y: NDArray[Any], p: NDArray[np.float64], bins: int = ECE_BINS
) -> float:
    """Weighted mean |mean(p) - mean(y)| over ``bins`` equal-width probability bins."""
    labels = np.asarray(y, dtype=np.float64)
    probs = np.asarray(p, dtype=np.float64)
    index = np.minimum((probs * bins).astype(np.int64), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += mask.sum() * abs(probs[mask].mean() - labels[mask].mean())
    return float(total / max(len(probs), 1))


def _f2_curve(y: NDArray[np.int64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    predicted = p[None, :] >= THRESHOLD_GRID[:, None]
    tp = (predicted & (y[None, :] == 1)).sum(axis=1).astype(np.float64)
    fp = (predicted & (y[None, :] == 0)).sum(axis=1).astype(np.float64)
    fn = ((~predicted) & (y[None, :] == 1)).sum(axis=1).astype(np.float64)
    denominator = 5.0 * tp + 4.0 * fn + fp
    f2 = np.divide(5.0 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return np.asarray(f2, dtype=np.float64)


def _cost_curve(
    y: NDArray[np.int64], p: NDArray[np.float64], missed: float, intervention: float
) -> NDArray[np.float64]:
    predicted = p[None, :] >= THRESHOLD_GRID[:, None]
    flagged = predicted.sum(axis=1).astype(np.float64)
    fn = ((~predicted) & (y[None, :] == 1)).sum(axis=1).astype(np.float64)
    return np.asarray((missed * fn + intervention * flagged) / len(y), dtype=np.float64)


def choose_threshold(
    y: NDArray[Any],
    p: NDArray[np.float64],
    *,
    policy: str,
    cost_missed_leaver: float = 5.0,
    cost_intervention: float = 1.0,
    capacity: Capacity | None = None,
    repeats: int = 1,
    headcount: int | None = None,
) -> ThresholdChoice:
    """Pick the threshold on out-of-fold probabilities: max F2, min expected cost, or flag
    at most ``capacity`` of the people (``repeats``: stacked repeats of the same people;
    ``headcount``: the workforce a capacity in people refers to)."""
    labels = np.asarray(y, dtype=np.int64)
    probs = np.asarray(p, dtype=np.float64)
    n = len(labels)
    if policy == "capacity":
        chosen = capacity or Capacity.parse(DEFAULT_CAPACITY)
        return choose_capacity_threshold(labels, probs, chosen, repeats, headcount)
    if policy == "f2":
        curve = _f2_curve(labels, probs)
        best = int(np.argmax(curve))
        threshold = float(THRESHOLD_GRID[best])
        reason = (
            f"threshold {threshold:.3f} maximises F2 ({curve[best]:.3f}; recall weighted 4x "
            f"over precision) on {n} out-of-fold calibrated predictions"
        )
        return ThresholdChoice(threshold, policy, float(curve[best]), reason)
    if policy == "cost":
        curve = _cost_curve(labels, probs, cost_missed_leaver, cost_intervention)
        best = int(np.argmin(curve))
        threshold = float(THRESHOLD_GRID[best])
        reason = (
            f"threshold {threshold:.3f} minimises the expected cost per employee "
            f"({curve[best]:.3f}) with a missed leaver costing {cost_missed_leaver:g} and an "
            f"intervention {cost_intervention:g}, on {n} out-of-fold calibrated predictions"
        )
        return ThresholdChoice(threshold, policy, float(curve[best]), reason)
    raise ValueError(f"threshold_policy must be one of {', '.join(THRESHOLD_POLICIES)}")


def choose_capacity_threshold(
    y: NDArray[np.int64],
    p: NDArray[np.float64],
    capacity: Capacity,
    repeats: int = 1,
    headcount: int | None = None,
) -> ThresholdChoice:
    """The threshold flagging at most ``capacity`` of the people on out-of-fold
    probabilities (a number of people is a share of ``headcount``, by default the people
    scored); the objective is the share of leavers caught."""
    share = capacity.share_of(headcount or len(p) // max(repeats, 1))
    threshold = capacity_threshold(p, Capacity(share=share).people(len(p)))
    point = flagged_summary(y, p, threshold, repeats)
    reason = capacity_reason(capacity, point, len(p))
    return ThresholdChoice(threshold, "capacity", point["recall"], reason)


def classification_metrics(
    y: NDArray[Any], p: NDArray[np.float64], threshold: float
) -> dict[str, float]:
    """Ranking, decision and calibration metrics plus the confusion matrix counts."""
    labels = np.asarray(y, dtype=np.int64)
    probs = np.asarray(p, dtype=np.float64)
    decided = (probs >= threshold).astype(np.int64)
    tn, fp, fn, tp = confusion_matrix(labels, decided, labels=[0, 1]).ravel()
    return {
        "roc_auc": float(roc_auc_score(labels, probs)),
        "pr_auc": float(average_precision_score(labels, probs)),
        "f1": float(fbeta_score(labels, decided, beta=1.0, zero_division=0.0)),
        "f2": float(fbeta_score(labels, decided, beta=2.0, zero_division=0.0)),
        "precision": float(precision_score(labels, decided, zero_division=0.0)),
        "recall": float(recall_score(labels, decided, zero_division=0.0)),
        "brier": float(brier_score_loss(labels, probs)),
        "ece": expected_calibration_error(labels, probs),
        "selection_rate": float(decided.mean()),
        "base_rate": float(labels.mean()),
        "tn": float(tn),
        "fp": float(fp),
        "fn": float(fn),
        "tp": float(tp),
    }


def calibrated_ece_baseline(
    p: NDArray[np.float64], *, n_simulations: int = 500, seed: int = 0
) -> float:
    """Median ECE a perfectly calibrated model would show on these probabilities.

    Labels are drawn as Bernoulli(p); on a few hundred rows the binned ECE is dominated
    by sampling noise, so this is the yardstick for a measured ECE.
    """
    probs = np.asarray(p, dtype=np.float64)
    rng = np.random.default_rng(seed)
    draws = rng.uniform(size=(n_simulations, len(probs))) < probs
    return float(np.median([expected_calibration_error(row, probs) for row in draws]))


def _fast_auc(y: NDArray[np.int64], p: NDArray[np.float64]) -> float:
    """ROC-AUC by the rank statistic (ties averaged), for many bootstrap resamples."""
    from scipy.stats import rankdata

    ranks = rankdata(p)
    positives = int(y.sum())
    negatives = len(y) - positives
    rank_sum = float(ranks[y == 1].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def bootstrap_auc_ci(
    y: NDArray[Any],
    p: NDArray[np.float64],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of ROC-AUC over stratified bootstrap resamples."""
    labels = np.asarray(y, dtype=np.int64)
    probs = np.asarray(p, dtype=np.float64)
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    aucs = np.empty(n_resamples)
    for i in range(n_resamples):
        idx = np.concatenate(
            [rng.choice(pos, len(pos), replace=True), rng.choice(neg, len(neg), replace=True)]
        )
        aucs[i] = _fast_auc(labels[idx], probs[idx])
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(aucs, [alpha, 1.0 - alpha])
    return float(low), float(high)
