"""Report, drift, alert and performance tables and figures of the Monitoring page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attrition.dashboard.api.responses import ReportDetail, ReportSummary
from attrition.dashboard.panels.monitoring import (
    alert_history,
    distribution_figure,
    feature_drift_table,
    performance_rows,
    prediction_drift,
    reports_table,
    window_caption,
    window_rows,
)

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _feature(name: str, drifted: bool, effect: float | None) -> dict[str, Any]:
    return {
        "name": name,
        "drifted": drifted,
        "effect": effect,
        "kind": "numeric",
        "reasons": ["p < 0.05"] if drifted else [],
        "reference": {"labels": [], "edges": [0.0, 1.0, 2.0], "proportions": [0.5, 0.5]},
        "current": {"labels": [], "edges": [0.0, 1.0, 2.0], "proportions": [0.2, 0.8]},
    }


def _report(rid: int, **extra: Any) -> ReportDetail:
    body = {
        "id": rid,
        "model_name": "m",
        "model_version": "1",
        "source": "log",
        "reference_rows": 100,
        "current_rows": 50,
        "dataset_drift": True,
        "drift_share": 0.5,
        "prediction_drift": False,
        "created_at": NOW.isoformat(),
        **extra,
    }
    return ReportDetail.model_validate(body)


def test_drift_tables_put_drifted_first() -> None:
    summary = {
        "features": [
            _feature("Age", False, 0.3),
            _feature("OverTime", True, 0.1),
            _feature("JobLevel", True, 0.2),
            _feature("Other", False, None),
        ],
        "prediction": _feature("score", True, 0.2),
    }
    table = feature_drift_table(summary)
    assert list(table["feature"]) == ["JobLevel", "OverTime", "Age", "Other"]
    assert feature_drift_table({"drift": summary}).equals(table)
    figure = distribution_figure(summary["features"][0])
    assert list(figure.data[0].x) == ["0 to 1", "1 to 2"] and list(figure.data[1].y) == [0.2, 0.8]
    assert prediction_drift(summary) is not None and prediction_drift({}) is None


def test_reports_alerts_and_performance() -> None:
    first = _report(
        1,
        alert_sent=True,
        retrained=True,
        new_version="3",
        summary={
            "performance": {
                "status": "ok",
                "overall": {"roc_auc": 0.7, "recall": 0.5},
                "windows": [{"end": "2026-01-01", "outcomes": 120, "roc_auc": 0.72}],
            }
        },
    )
    second = _report(2, created_at=datetime(2026, 1, 6, tzinfo=UTC).isoformat())
    items = [ReportSummary.model_validate(r.model_dump()) for r in (second, first)]
    assert list(reports_table(items)["id"]) == [2, 1]
    alerts = alert_history(items)
    assert alerts.to_dict("records")[0]["action"] == "retrained: v3"
    performance = performance_rows([second, first])
    assert list(performance["report"]) == [1] and performance.loc[0, "roc_auc"] == 0.7
    assert performance_rows([second]).empty
    windows = window_rows(first.summary)
    assert windows.to_dict("records") == [
        {"when": "2026-01-01", "outcomes": 120, "status": None, "roc_auc": 0.72}
    ]


def test_the_window_caption_shows_people_and_what_was_left_out() -> None:
    window = {
        "source": "prediction_log", "rows": 294, "raw_rows": 994, "what_if_rows": 400,
        "repeat_rows": 300, "people": 294, "employees": 290, "unidentified": 4,
    }  # fmt: skip
    caption = window_caption({"window": window}, 294, "prediction_log")
    assert caption == (
        "294 people (290 employees, 4 without an employee number) from 994 prediction-log "
        "rows; left out: 400 what-if, 300 repeats"
    )
    assert window_caption({}, 300, "file:current.csv") == "300 current rows from file:current.csv"
