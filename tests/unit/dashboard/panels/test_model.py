"""Metric, confusion, fairness, importance and version tables of the Model page."""

from __future__ import annotations

from attrition.dashboard.api.responses import ModelVersion
from attrition.dashboard.panels.model import (
    auc_interval,
    confusion_counts,
    confusion_figure,
    curve_figure,
    fairness_caption,
    fairness_section,
    fairness_table,
    importance_figure,
    metric_table,
    versions_table,
)


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
    assert fairness_caption(report) == (
        "Fairness of the out-of-sample decisions (out_of_sample: every labelled employee ...)."
    )
    assert fairness_caption({"holdout": {"Gender": ok}}) == "Fairness of the holdout decisions."
    assert fairness_caption({"Gender": ok}) is None
    table = fairness_table(report)
    assert list(table["group"]) == ["Female", "Male"]
    assert set(table["four_fifths"]) == {"below 4/5 rule"}
    assert set(fairness_table({"holdout": {"Gender": ok}})["four_fifths"]) == {"meets 4/5 rule"}
