"""Fairness report, gate policy and verdicts explained in words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from attrition.errors import AttritionError
from attrition.training.behaviour import BehaviourCheck
from attrition.training.fairness import age_band, attribute_fairness, fairness_report
from attrition.training.gate import (
    ChampionComparison,
    GatePolicy,
    evaluate_gate,
    load_gate_policy,
)
from attrition.training.report import fairness_markdown

REPO_ROOT = Path(__file__).resolve().parents[3]
GOOD = {"roc_auc": 0.85, "pr_auc": 0.6, "recall": 0.7, "ece": 0.03, "brier": 0.1}


def audit_frame() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    # 10 women (5 flagged), 10 men (4 flagged); ages and marital status alternate
    frame = pd.DataFrame(
        {
            "Gender": ["Female"] * 10 + ["Male"] * 10,
            "Age": [30, 45] * 10,
            "MaritalStatus": ["Single", "Married"] * 10,
        }
    )
    y = np.array([1, 0] * 10)
    decisions = np.array([1] * 5 + [0] * 5 + [1] * 4 + [0] * 6)
    return frame, y, decisions


def test_age_band():
    bands = age_band(pd.Series([18, 39, 40, 61]))
    assert bands.tolist() == ["under 40", "under 40", "40 and over", "40 and over"]


def test_parity_ratio_and_group_rates():
    frame, y, decisions = audit_frame()
    report = attribute_fairness("Gender", y, decisions, frame["Gender"])
    assert report.by_group["Female"]["selection_rate"] == pytest.approx(0.5)
    assert report.by_group["Male"]["selection_rate"] == pytest.approx(0.4)
    assert report.parity_ratio == pytest.approx(0.8)
    assert report.four_fifths_ok
    assert report.by_group["Female"]["count"] == 10


def test_parity_is_null_when_nobody_is_flagged():
    frame, y, _ = audit_frame()
    report = attribute_fairness("Gender", y, np.zeros(20, dtype=int), frame["Gender"])
    assert report.parity_ratio is None
    assert not report.four_fifths_ok


def test_report_covers_the_three_audited_attributes():
    frame, y, decisions = audit_frame()
    reports = fairness_report(frame, y, decisions)
    assert list(reports) == ["Gender", "AgeBand", "MaritalStatus"]
    text = fairness_markdown(reports, GatePolicy())
    assert "no regression against the champion" in text  # AgeBand has no floor
    assert "The policy requires at least 0.8" in text  # Gender


def test_shipped_gate_config_equals_the_builtin_defaults():
    assert load_gate_policy(REPO_ROOT / "configs" / "gate.yaml") == GatePolicy()


def test_invalid_gate_config_names_the_field(tmp_path):
    path = tmp_path / "gate.yaml"
    path.write_text("metric_floors: {roc_auc: high}\n")
    with pytest.raises(AttritionError, match="roc_auc"):
        load_gate_policy(path)
    path.write_text("fairness: {attributes: {Religion: {min_parity_ratio: 0.8}}}\n")
    with pytest.raises(AttritionError, match=r"Religion.*allowed: Gender, AgeBand, MaritalStatus"):
        load_gate_policy(path)
    with pytest.raises(AttritionError, match="does not exist"):
        load_gate_policy(tmp_path / "missing.yaml")


def passing_behaviour() -> list[BehaviourCheck]:
    return [BehaviourCheck("score_range", True, False, "ok")]


def test_gate_passes_a_sound_model_without_champion():
    frame, y, decisions = audit_frame()
    verdict = evaluate_gate(
        GOOD, fairness_report(frame, y, decisions), passing_behaviour(), GatePolicy(), None
    )
    assert verdict.passed, verdict.reasons
    assert verdict.reasons == [f"all {len(verdict.checks)} gate checks passed"]
    assert "no current champion" in verdict.notes[0]


def test_gate_explains_each_failure():
    frame, y, decisions = audit_frame()
    fairness = fairness_report(frame, y, decisions)
    weak = GOOD | {"roc_auc": 0.52, "ece": 0.2}
    champion = ChampionComparison("3", GOOD | {"pr_auc": 0.8}, fairness)
    behaviour = [BehaviourCheck("direction_overtime", False, False, "raised risk for 40%")]
    verdict = evaluate_gate(weak, fairness, behaviour, GatePolicy(), champion)
    assert not verdict.passed
    reasons = " | ".join(verdict.reasons)
    assert "roc_auc 0.520 is below the floor 0.75" in reasons
    assert "ece 0.200 exceeds the ceiling 0.08" in reasons
    assert "is worse than champion v3's 0.850" in reasons
    assert "pr_auc 0.600 is worse than champion v3's 0.800" in reasons
    assert "behavioural test direction_overtime failed" in reasons


def test_gate_blocks_gender_parity_below_four_fifths_and_fairness_regressions():
    frame, y, _ = audit_frame()
    skewed = np.array([1] * 5 + [0] * 5 + [1] * 2 + [0] * 8)  # 0.5 vs 0.2
    fair = np.array([1] * 5 + [0] * 5 + [1] * 5 + [0] * 5)
    ours = fairness_report(frame, y, skewed)
    champion = ChampionComparison("1", GOOD, fairness_report(frame, y, fair))
    verdict = evaluate_gate(GOOD, ours, passing_behaviour(), GatePolicy(), champion)
    reasons = " | ".join(verdict.reasons)
    assert "Gender: demographic-parity ratio 0.40 is below the required 0.8" in reasons
    assert "Gender: parity ratio 0.40 regresses from the champion's 1.00" in reasons


def test_parity_floor_uses_all_decisions_and_regression_uses_the_holdout():
    frame, y, _ = audit_frame()
    fair = np.array([1] * 5 + [0] * 5 + [1] * 5 + [0] * 5)
    skewed = np.array([1] * 5 + [0] * 5 + [1] * 2 + [0] * 8)
    everything = fairness_report(frame, y, fair)  # parity 1.0
    holdout = fairness_report(frame, y, skewed)  # parity 0.4
    champion = ChampionComparison("1", GOOD, fairness_report(frame, y, fair))
    verdict = evaluate_gate(
        GOOD, everything, passing_behaviour(), GatePolicy(), champion, holdout_fairness=holdout
    )
    by_name = {c.name: c for c in verdict.checks}
    assert by_name["fairness:Gender:parity"].passed
    assert not by_name["fairness:Gender:parity_regression"].passed
