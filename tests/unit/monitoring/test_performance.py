"""Realised performance: statistics, verdict rules, windows, and label shift caught by outcomes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, precision_score, recall_score, roc_auc_score

from attrition.data.synthetic import generate_workforce
from attrition.errors import AttritionError
from attrition.monitoring.config import MonitoringConfig, PerformanceConfig
from attrition.monitoring.drift import compare
from attrition.monitoring.performance import (
    HoldoutMetrics,
    calibration_in_the_large,
    evaluate_performance,
    expected_calibration_error,
    roc_auc_delong,
    wilson_interval,
    window_edges,
    window_performance,
)
from attrition.monitoring.profile import columns_from_frame, encode_categories, feature_specs

CONFIG = PerformanceConfig()
SPECS = feature_specs()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _design(frame: pd.DataFrame) -> np.ndarray:
    columns = columns_from_frame(frame, SPECS)
    parts = []
    for spec in SPECS:
        if spec.categorical:
            codes = encode_categories(columns[spec.name], spec.categories)[0]
            parts.append(np.eye(len(spec.categories))[codes])
        else:
            parts.append(np.log1p(columns[spec.name])[:, None])
    return np.hstack(parts)


def _leaves(frame: pd.DataFrame) -> np.ndarray:
    return (frame["Attrition"] == "Yes").to_numpy()


@pytest.fixture(scope="module")
def model() -> tuple[Any, HoldoutMetrics, float]:
    """A real (logistic) attrition model, its holdout figures and threshold."""
    train = generate_workforce(6000, seed=101)
    holdout = generate_workforce(3000, seed=102)
    x_train = _design(train)
    scale = x_train.std(axis=0) + 1e-9
    fitted = LogisticRegression(max_iter=2000).fit(x_train / scale, _leaves(train))

    def score(frame: pd.DataFrame) -> np.ndarray:
        return fitted.predict_proba(_design(frame) / scale)[:, 1]

    p, y = score(holdout), _leaves(holdout)
    threshold = 0.25
    result = window_performance(
        p, y, threshold=threshold, holdout=HoldoutMetrics(0.5), config=CONFIG
    )
    figures = HoldoutMetrics(
        roc_auc=float(result.roc_auc or 0),
        recall=result.recall,
        precision=result.precision,
        brier=result.brier,
    )
    return score, figures, threshold


# ------------------------------------------------------------------ statistics


def test_delong_auc_matches_sklearn_and_its_error_matches_the_bootstrap() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(600) < 0.2
    p = np.clip(rng.normal(0.3 + 0.2 * y, 0.15), 0, 1).round(2)  # ties on purpose
    auc, error = roc_auc_delong(p, y)
    assert auc == pytest.approx(roc_auc_score(y, p))
    boot = []
    for _ in range(300):
        i = rng.integers(0, y.size, y.size)
        boot.append(roc_auc_score(y[i], p[i]))
    assert error == pytest.approx(np.std(boot), rel=0.2)


def test_wilson_interval_and_calibration_helpers() -> None:
    low, high = wilson_interval(8, 10, 0.95)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)  # textbook value
    assert wilson_interval(0, 0, 0.95) == (0.0, 1.0)
    p = np.array([0.1, 0.1, 0.9, 0.9])
    y = np.array([False, True, True, True])
    # bin 0.1: 2 rows, 1 leaver vs 0.2 expected; bin 0.9: 2 leavers vs 1.8 expected
    assert expected_calibration_error(p, y, 10) == pytest.approx((0.8 + 0.2) / 4)
    gap, p_value = calibration_in_the_large(np.full(1000, 0.2), np.arange(1000) < 400)
    assert gap == pytest.approx(0.2) and p_value < 1e-10


def test_window_figures_match_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.3
    p = np.clip(rng.normal(0.3 + 0.25 * y, 0.2), 0, 1)
    w = window_performance(
        p, y, threshold=0.4, holdout=HoldoutMetrics(0.8, recall=0.6), config=CONFIG
    )
    assert w.recall == pytest.approx(recall_score(y, p >= 0.4))
    assert w.precision == pytest.approx(precision_score(y, p >= 0.4))
    assert w.brier == pytest.approx(brier_score_loss(y, p))
    assert w.deltas["roc_auc"] == pytest.approx(roc_auc_score(y, p) - 0.8, abs=1e-6)


# ------------------------------------------------------------------ verdicts on a real model


def test_fresh_outcomes_from_the_same_workforce_show_no_decay(model: Any) -> None:
    score, holdout, threshold = model
    frame = generate_workforce(3000, seed=103)
    result = evaluate_performance(
        score(frame), _leaves(frame), threshold=threshold, holdout=holdout, config=CONFIG
    )
    assert result.status == "ok" and result.decay is False and result.overall.reasons == ()


def test_label_shift_is_caught_by_outcomes_not_by_feature_or_prediction_drift(model: Any) -> None:
    score, holdout, threshold = model
    config = MonitoringConfig()
    reference = generate_workforce(3000, seed=104)
    shifted = generate_workforce(3000, seed=105, scenario="label_shift")
    assert _leaves(shifted).mean() == pytest.approx(2 * _leaves(reference).mean(), rel=0.05)

    ref_columns, cur_columns = (
        columns_from_frame(reference, SPECS),
        columns_from_frame(shifted, SPECS),
    )
    drift = compare(
        ref_columns, cur_columns, SPECS, config.drift, prediction=config.prediction,
        reference_scores=score(reference), current_scores=score(shifted),
    )  # fmt: skip
    assert drift.drifted_features == () and not drift.prediction_drift

    result = evaluate_performance(
        score(shifted),
        _leaves(shifted),
        threshold=threshold,
        holdout=holdout,
        config=config.performance,
    )
    assert result.decay is True
    assert "calibration" in result.overall.reasons
    assert result.overall.observed_rate is not None and result.overall.mean_score is not None
    assert (
        result.overall.observed_rate
        > result.overall.mean_score + config.performance.calibration_tolerance
    )
    assert "roc_auc" not in result.overall.reasons  # ranking is still fine under label shift


def test_a_model_that_stopped_ranking_is_an_auc_and_recall_decay(model: Any) -> None:
    score, holdout, threshold = model
    frame = generate_workforce(3000, seed=106)
    scores = np.random.default_rng(2).permutation(score(frame))  # same marginal, no signal
    result = evaluate_performance(
        scores, _leaves(frame), threshold=threshold, holdout=holdout, config=CONFIG
    )
    assert result.decay is True
    assert "roc_auc" in result.overall.reasons
    assert result.overall.roc_auc_bounds is not None
    assert result.overall.roc_auc_bounds[1] < holdout.roc_auc - CONFIG.auc_tolerance


def test_a_small_dip_within_noise_is_not_a_decay(model: Any) -> None:
    score, holdout, threshold = model
    frame = generate_workforce(150, seed=107)
    strict = HoldoutMetrics(roc_auc=holdout.roc_auc + 0.04, recall=holdout.recall)
    result = evaluate_performance(
        score(frame), _leaves(frame), threshold=threshold, holdout=strict, config=CONFIG
    )
    assert result.status == "ok"


def test_too_few_outcomes_is_not_a_verdict(model: Any) -> None:
    score, holdout, threshold = model
    frame = generate_workforce(60, seed=108)
    scores = np.random.default_rng(3).permutation(score(frame))
    result = evaluate_performance(
        scores, _leaves(frame), threshold=threshold, holdout=holdout, config=CONFIG
    )
    assert result.status == "not_enough_data" and result.decay is None
    assert result.overall.reasons == ()
    assert result.overall.outcomes == 60  # figures are still shown


# ------------------------------------------------------------------ windows and inputs


def test_windows_split_by_time_and_serialise(model: Any) -> None:
    score, holdout, threshold = model
    frame = generate_workforce(1800, seed=109)
    times = [
        T0 + timedelta(hours=int(h)) for h in np.random.default_rng(4).integers(0, 24 * 90, 1800)
    ]
    result = evaluate_performance(
        score(frame), _leaves(frame), times, threshold=threshold, holdout=holdout, config=CONFIG
    )
    assert len(result.windows) == 3
    assert sum(w.outcomes for w in result.windows) == 1800 == result.overall.outcomes
    assert all(w.end == n.start for w, n in zip(result.windows, result.windows[1:], strict=False))
    assert result.windows[0].start is not None and result.windows[0].start <= min(times)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["status"] == result.status and data["windows"][0]["start"].endswith("+00:00")


def test_window_edges_end_at_the_given_time() -> None:
    times = np.array(["2026-01-01T00:00", "2026-01-20T00:00"], dtype="datetime64[us]")
    edges = window_edges(times, 7, end=datetime(2026, 1, 22, tzinfo=UTC))
    assert edges[-1][1] == datetime(2026, 1, 22, tzinfo=UTC)
    assert edges[0][0] <= datetime(2026, 1, 1, tzinfo=UTC) and len(edges) == 3


def test_bad_inputs_are_user_errors() -> None:
    holdout = HoldoutMetrics(0.8)
    with pytest.raises(AttritionError, match="probabilities"):
        evaluate_performance(
            [0.2, 1.5], [True, False], threshold=0.5, holdout=holdout, config=CONFIG
        )
    with pytest.raises(AttritionError, match="same length"):
        evaluate_performance([0.2], [True, False], threshold=0.5, holdout=holdout, config=CONFIG)
    with pytest.raises(AttritionError, match="timezone-aware"):
        evaluate_performance(
            [0.2], [True], [datetime(2026, 1, 1)], threshold=0.5, holdout=holdout, config=CONFIG
        )
    with pytest.raises(AttritionError, match="roc_auc"):
        HoldoutMetrics.from_mapping({"recall": 0.5})
    assert HoldoutMetrics.from_mapping({"roc_auc": 0.8, "recall": 0.6}).recall == 0.6
