"""The table of named drift scenarios (what they do to a workforce: test_synthetic.py)."""

from __future__ import annotations

from attrition.data.scenarios import NO_DRIFT, SCENARIOS, Drift
from attrition.schema import FEATURE_NAMES


def test_scenarios_name_schema_features_only() -> None:
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name
        assert scenario.description
        assert set(scenario.shifted_features) <= set(FEATURE_NAMES), name
        assert len(set(scenario.shifted_features)) == len(scenario.shifted_features)
        assert scenario.drift.moves_features == bool(scenario.shifted_features), name
    assert {"income_inflation", "overtime_surge", "new_hiring_wave", "reorg", "label_shift"} <= set(
        SCENARIOS
    )


def test_only_feature_knobs_move_features() -> None:
    assert not NO_DRIFT.moves_features
    assert not Drift(attrition_factor=2.0).moves_features
    assert Drift(overtime_share=0.5).moves_features
    assert Drift(role_weights={"Sales Representative": 2.0}).moves_features
