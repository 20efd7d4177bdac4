"""Fairness and data-quality tables and figures of the Monitoring page, from report
summaries as the monitor stores them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from attrition.dashboard.api.responses import ReportDetail
from attrition.dashboard.panels.monitoring_findings import (
    TOO_FEW,
    fairness_figure,
    fairness_history,
    fairness_table,
    findings_table,
    quality_figure,
    quality_history,
    top_fields_table,
    unseen_table,
)
from attrition.monitoring.fairness import FairnessPolicy, production_fairness
from attrition.monitoring.quality import PeriodQuality, QualityCheck, QualityPolicy

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _fairness(collapse: bool) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "Gender": rng.choice(["Female", "Male"], 600),
            "Age": rng.integers(20, 60, 600),
            "MaritalStatus": np.where(np.arange(600) < 5, "Divorced", "Single"),
        }
    )
    left = rng.random(600) < 0.25
    caught = rng.random(600) < 0.8
    if collapse:
        caught &= (frame["Gender"] != "Female").to_numpy()
    scores = np.where(left & caught, 0.9, 0.1)
    audit = {
        "out_of_sample": {
            "Gender": {"by_group": {g: {"recall": 0.8} for g in ("Female", "Male")}},
        }
    }
    result = production_fairness(
        frame, left, scores, threshold=0.5, audit=audit, policy=FairnessPolicy(), basis="outcomes"
    )
    return result.to_dict()


def _quality() -> dict[str, Any]:
    current = PeriodQuality(
        NOW, NOW, refused_requests=20, answered_requests=80, refused_fields={"Age": 20},
        rows_read=100, rows_quarantined=4, quarantined_fields={"JobLevel": 4},
    )  # fmt: skip
    check = QualityCheck(current, PeriodQuality(NOW, NOW), {"Department": {"Legal": 3}},
                         QualityPolicy())  # fmt: skip
    return check.to_dict() | {"findings": [f.to_dict() for f in check.findings]}


def _report(rid: int, when: datetime, summary: dict[str, Any]) -> ReportDetail:
    return ReportDetail.model_validate(
        {
            "id": rid, "model_name": "m", "model_version": "1", "source": "prediction_log",
            "reference_rows": 100, "current_rows": 50, "dataset_drift": False,
            "drift_share": 0.0, "prediction_drift": False, "created_at": when.isoformat(),
            "summary": summary,
        }
    )  # fmt: skip


def test_fairness_table_names_the_collapsed_group_and_small_groups() -> None:
    fairness = _fairness(collapse=True)
    summary = {"fairness": fairness, "findings": fairness["findings"]}
    table = fairness_table(summary)
    female = table.loc[(table["attribute"] == "Gender") & (table["group"] == "Female")]
    assert female["verdict"].tolist() == ["regression"] and female["recall"].tolist() == [0.0]
    divorced = table.loc[table["group"] == "Divorced"]
    assert divorced["verdict"].tolist() == [TOO_FEW] and divorced["people"].tolist() == [5]
    findings = findings_table(summary)
    assert findings["kind"].tolist() == ["fairness"]
    assert "Gender=Female" in findings["finding"].iloc[0]
    assert fairness_table({}).empty and findings_table({}).empty


def test_fairness_over_time_per_group() -> None:
    details = [
        _report(2, NOW, {"fairness": _fairness(collapse=True)}),
        _report(1, NOW - timedelta(days=1), {"fairness": _fairness(collapse=False)}),
        _report(3, NOW + timedelta(days=1), {}),  # written before fairness existed
    ]
    history = fairness_history(details)
    female = history.loc[(history["attribute"] == "Gender") & (history["group"] == "Female")]
    assert female["report"].tolist() == [1, 2]
    assert female["recall"].iloc[0] > 0.5 and female["recall"].iloc[1] == 0.0
    assert "Divorced" not in set(history["group"])  # too few to judge: not charted
    figure = fairness_figure(history, "Gender", "recall")
    assert [trace.name for trace in figure.data] == ["Female", "Male"]
    assert list(figure.data[0].y) == female["recall"].tolist()


def test_data_quality_tables_and_history() -> None:
    summary = {"data_quality": _quality()}
    fields = top_fields_table(summary)
    assert fields.to_dict("records") == [
        {"field": "Age", "failures": 20, "refused (API)": 20, "quarantined (ingest)": 0},
        {"field": "JobLevel", "failures": 4, "refused (API)": 0, "quarantined (ingest)": 4},
    ]
    assert unseen_table(summary).to_dict("records") == [
        {"feature": "Department", "category": "Legal", "rows": 3}
    ]
    history = quality_history([_report(1, NOW, summary), _report(2, NOW, {})])
    assert history["share"].tolist() == [24 / 200] and history["refused_requests"].tolist() == [20]
    assert list(quality_figure(history).data[0].y) == [24 / 200]
    assert top_fields_table({}).empty and unseen_table({}).empty and quality_history([]).empty
