"""Tables and figures of the Workforce, Model and Monitoring pages (pure functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from attrition.dashboard.api.responses import (
    ModelVersion,
    ReportDetail,
    ReportSummary,
    WorkforceSummary,
)
from attrition.dashboard.model_view import (
    auc_interval,
    confusion_counts,
    confusion_figure,
    curve_figure,
    fairness_section,
    fairness_table,
    importance_figure,
    metric_table,
    versions_table,
)
from attrition.dashboard.monitoring_view import (
    alert_history,
    distribution_figure,
    feature_drift_table,
    performance_rows,
    prediction_drift,
    reports_table,
    window_rows,
)
from attrition.dashboard.workforce import (
    group_table,
    headline,
    missing_groupings,
    risk_bar,
    trend_figure,
)

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _summary(**extra: Any) -> WorkforceSummary:
    groups = [
        {
            "group": "Sales",
            "employees": 4,
            "at_risk": 2,
            "at_risk_share": 0.5,
            "mean_probability": 0.4,
        },
        {
            "group": "Research & Development",
            "employees": 6,
            "at_risk": 1,
            "at_risk_share": 1 / 6,
            "mean_probability": 0.2,
        },
    ]
    body = {
        "since": NOW.isoformat(),
        "employees": 10,
        "at_risk": 3,
        "by_department": groups,
        "by_band": groups[:1],
        "over_time": [
            {
                "period": "2026-01-04",
                "predictions": 7,
                "at_risk_share": 0.3,
                "mean_probability": 0.25,
            }
        ],
        **extra,
    }
    return WorkforceSummary.from_api(body)


def test_headline_from_api_aggregates() -> None:
    summary = _summary()
    numbers = headline(summary)
    assert (numbers.headcount, numbers.at_risk) == (10, 3)
    assert numbers.share_at_risk == pytest.approx(0.3)
    assert numbers.expected_leavers == pytest.approx(4 * 0.4 + 6 * 0.2)
    assert headline(_summary(expected_leavers=2.5)).expected_leavers == 2.5
    assert missing_groupings(summary) == ["Job role", "Job level", "Tenure band", "Overtime"]
    assert set(_summary(by_overtime=[]).groupings) == {"department", "band", "overtime"}


def test_group_table_filters_and_orders() -> None:
    groups = _summary().groupings["department"]
    table = group_table(groups)
    assert list(table["group"]) == ["Sales", "Research & Development"]
    assert table.loc[0, "expected_leavers"] == pytest.approx(1.6)
    assert list(group_table(groups, min_employees=5)["group"]) == ["Research & Development"]
    assert list(group_table(groups, selected=["Sales"])["group"]) == ["Sales"]
    figure = risk_bar(table, "t")
    assert list(figure.data[0].y) == ["Research & Development", "Sales"]
    assert list(figure.data[0].text) == ["1 of 6", "2 of 4"]
    assert list(figure.data[1].x) == [0.2, 0.4]  # mean risk per group
    assert list(figure.data[1].x) == [0.2, 0.4]  # mean risk per group
    assert trend_figure(_summary().over_time).data[0].x[0] == date(2026, 1, 4)


def test_model_metrics_confusion_fairness_importance() -> None:
    metrics = {
        "holdout_roc_auc": 0.86,
        "oof_roc_auc": 0.84,
        "holdout_tn": 180.0,
        "holdout_fp": 20.0,
        "holdout_fn": 12.0,
        "holdout_tp": 25.0,
        "threshold": 0.3,
    }
    table = metric_table(metrics)
    assert table.to_dict("records") == [{"metric": "ROC-AUC", "holdout": 0.86, "out-of-fold": 0.84}]
    assert list(metric_table({"roc_auc": 0.8}).columns) == ["metric", "holdout"]
    assert auc_interval({"roc_auc_ci_low": 0.7, "roc_auc_ci_high": 0.9}) == (0.7, 0.9)
    assert auc_interval({}) is None
    counts = confusion_counts(metrics)
    assert counts == {"tn": 180, "fp": 20, "fn": 12, "tp": 25}
    assert [list(row) for row in confusion_figure(counts, 0.3).data[0].z] == [[180, 20], [12, 25]]
    assert confusion_counts({"holdout_tn": 1.0}) is None
    fairness = fairness_table(
        {
            "Gender": {
                "parity_ratio": 0.7,
                "four_fifths_ok": False,
                "by_group": {"Female": {"selection_rate": 0.2}, "Male": {"selection_rate": 0.14}},
            }
        }
    )
    assert list(fairness["four_fifths"]) == ["below 4/5 rule"] * 2
    assert list(importance_figure({"a": 0.1, "b": -0.5}).data[0].y) == ["a", "b"]
    assert len(curve_figure({"fpr": [0, 1], "tpr": [0, 1]}, "roc").data) == 2
    versions = versions_table(
        [ModelVersion(version="2", aliases=["champion"], metrics={"holdout_roc_auc": 0.8})]
    )
    assert versions.loc[0, "aliases"] == "champion" and versions.loc[0, "roc_auc"] == 0.8


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


def test_fairness_table_reads_the_training_reports_sections() -> None:
    entry = {
        "by_group": {"Female": {"selection_rate": 0.2}, "Male": {"selection_rate": 0.3}},
        "parity_ratio": 0.667,
        "four_fifths_ok": False,
    }
    ok = {**entry, "parity_ratio": 0.9, "four_fifths_ok": True}
    report = {
        "basis": "out_of_sample: every labelled employee ...",
        "out_of_sample": {"Gender": entry},
        "holdout": {"Gender": ok},
    }
    assert fairness_section(report)[0] == "out_of_sample"
    table = fairness_table(report)
    assert list(table["group"]) == ["Female", "Male"]
    assert set(table["four_fifths"]) == {"below 4/5 rule"}
    assert set(fairness_table({"holdout": {"Gender": ok}})["four_fifths"]) == {"meets 4/5 rule"}
