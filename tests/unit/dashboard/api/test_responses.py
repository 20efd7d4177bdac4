"""The response models read what the API sends and ignore what they do not know."""

from __future__ import annotations

from attrition.dashboard.api.responses import Me, ModelInfo, Ready, WorkforceSummary


def test_unknown_fields_from_a_newer_api_are_ignored() -> None:
    ready = Ready.model_validate({"ready": True, "model_version": "3", "new_field": 1})
    assert ready.ready and ready.model_version == "3" and ready.spool_rows == 0
    info = ModelInfo.model_validate({"name": "m", "version": "3", "threshold": 0.3, "x": []})
    assert info.fairness is None and info.metrics == {}
    assert Me(key_id="k", name="n", role="admin").is_admin
    assert not Me(key_id="k", name="n", role="viewer").is_admin


def test_every_by_list_of_the_workforce_summary_is_a_grouping() -> None:
    group = {"group": "Yes", "employees": 2, "at_risk": 1, "at_risk_share": 0.5,
             "mean_probability": 0.4}  # fmt: skip
    body = {"since": "2026-01-05T00:00:00+00:00", "employees": 2, "at_risk": 1,
            "by_overtime": [group], "by_new_split": [group], "by_nothing": None}  # fmt: skip
    summary = WorkforceSummary.from_api(body)
    assert set(summary.groupings) == {"overtime", "new_split"}
    assert summary.groupings["overtime"][0].at_risk == 1 and summary.over_time == []
