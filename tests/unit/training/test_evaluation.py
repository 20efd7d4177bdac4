"""Metrics, calibration error, bootstrap intervals and the threshold policies."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from attrition.training.evaluation import (
    _fast_auc,
    bootstrap_auc_ci,
    choose_threshold,
    classification_metrics,
    expected_calibration_error,
)


def test_ece_of_a_hand_computed_case():
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.05, 0.05, 0.05, 0.95, 0.95])
    # bin 0: mean p 0.05, rate 1/3 -> 3/5 * 0.2833; bin 9: p 0.95, rate 1 -> 2/5 * 0.05
    assert expected_calibration_error(y, p) == pytest.approx(3 / 5 * (1 / 3 - 0.05) + 2 / 5 * 0.05)


def test_ece_is_small_for_calibrated_and_large_for_shifted_probabilities():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.6, 20_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.15


def test_fast_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.uniform(size=300) + 0.3 * y, 1)
    assert _fast_auc(y, p) == pytest.approx(roc_auc_score(y, p))


def test_bootstrap_interval_brackets_the_auc_and_is_seeded():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    p = rng.uniform(size=400) + 0.5 * y
    low, high = bootstrap_auc_ci(y, p, n_resamples=300, seed=7)
    assert low < roc_auc_score(y, p) < high
    assert (low, high) == bootstrap_auc_ci(y, p, n_resamples=300, seed=7)


def test_f2_threshold_maximises_f2_over_the_grid():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 1000)
    p = np.clip(rng.normal(0.3 + 0.3 * y, 0.15), 0, 1)
    choice = choose_threshold(y, p, policy="f2")
    assert choice.policy == "f2" and "F2" in choice.reason
    best = classification_metrics(y, p, choice.threshold)["f2"]
    assert best == pytest.approx(choice.objective)
    for other in (0.1, 0.3, 0.5, 0.7):
        assert classification_metrics(y, p, other)["f2"] <= best + 1e-12


def test_cost_threshold_moves_down_when_missing_a_leaver_costs_more():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 1000)
    p = np.clip(rng.normal(0.3 + 0.3 * y, 0.15), 0, 1)
    cheap = choose_threshold(y, p, policy="cost", cost_missed_leaver=1, cost_intervention=1)
    dear = choose_threshold(y, p, policy="cost", cost_missed_leaver=20, cost_intervention=1)
    assert dear.threshold < cheap.threshold
    assert "missed leaver costing 20" in dear.reason


def test_unknown_policy_is_rejected():
    with pytest.raises(ValueError, match="f2, cost"):
        choose_threshold(np.array([0, 1]), np.array([0.2, 0.8]), policy="accuracy")


def test_classification_metrics_confusion_counts():
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([0.9, 0.2, 0.6, 0.1, 0.1])
    m = classification_metrics(y, p, 0.5)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (1, 1, 1, 2)
    assert m["precision"] == pytest.approx(0.5) and m["recall"] == pytest.approx(0.5)


def test_noise_baseline_of_ece_shrinks_with_more_rows():
    from attrition.training.evaluation import calibrated_ece_baseline

    rng = np.random.default_rng(6)
    small = calibrated_ece_baseline(rng.uniform(0, 0.6, 200), seed=1)
    large = calibrated_ece_baseline(rng.uniform(0, 0.6, 20_000), seed=1)
    assert 0.02 < small < 0.08
    assert large < small / 5


def test_cross_fitted_calibration_never_sees_the_row_label():
    from attrition.training.model import ScoreCalibrator
    from attrition.training.pipeline import cross_fitted_probabilities

    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 600)
    scores = np.vstack([rng.uniform(size=600), rng.uniform(size=600)])  # no signal at all
    isotonic = cross_fitted_probabilities(scores, y, "isotonic", seed=0)
    assert isotonic.shape == scores.shape
    stacked = np.tile(y, 2)
    in_sample = ScoreCalibrator("isotonic").fit(scores.ravel(), stacked).predict(scores.ravel())
    # an in-sample isotonic fit is calibrated by construction; cross-fitted it is not
    assert expected_calibration_error(stacked, in_sample) < 0.002
    assert expected_calibration_error(stacked, isotonic.ravel()) > 0.005
    sigmoid = cross_fitted_probabilities(scores, y, "sigmoid", seed=0)
    assert np.allclose(sigmoid.mean(), y.mean(), atol=0.03)


def test_capacity_threshold_flags_at_most_the_share_and_reports_the_leavers_caught():
    from attrition.capacity import Capacity

    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 1000)
    p = np.clip(rng.normal(0.3 + 0.3 * y, 0.15), 0, 1)
    choice = choose_threshold(y, p, policy="capacity", capacity=Capacity.parse("20%"))
    flagged = p >= choice.threshold
    assert choice.policy == "capacity" and flagged.sum() == 200
    recall = flagged[y == 1].mean()
    assert choice.objective == pytest.approx(recall)
    assert choice.reason.startswith(f"capacity 20%: flags 20.0% of people, catches {recall:.0%}")


def test_capacity_in_people_is_read_against_the_headcount_and_stacked_repeats():
    from attrition.capacity import Capacity

    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 500)
    p = rng.uniform(size=500)
    stacked_y, stacked_p = np.tile(y, 2), np.concatenate([p, np.clip(p + 0.01, 0, 1)])
    choice = choose_threshold(
        stacked_y, stacked_p, policy="capacity", capacity=Capacity(count=50), repeats=2,
        headcount=1000,
    )  # fmt: skip
    assert (stacked_p >= choice.threshold).mean() == pytest.approx(0.05, abs=0.001)
    assert "capacity 50 people" in choice.reason
