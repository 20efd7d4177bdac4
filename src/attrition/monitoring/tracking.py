"""Monitoring metrics in MLflow: one experiment, one run per model version, one step per report.

Every check logs its headline figures (drift share, drifted features, prediction drift
statistic and effect, realised AUC, recall, calibration...) with ``step`` = the report id
and the report's time, so MLflow charts them over time for each champion version; the
HTML report is attached as ``reports/report-<id>.html``. MLflow is a secondary record
(the report row is the primary one): a tracking failure is logged, never raised.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from attrition import registry
from attrition.monitoring.drift import DriftResult
from attrition.monitoring.fairness import FairnessCheck
from attrition.monitoring.performance import PerformanceResult
from attrition.monitoring.quality import QualityCheck
from attrition.settings import Settings

logger = logging.getLogger(__name__)

MONITORING_EXPERIMENT = "attrition-monitoring"
NAME_TAG = "attrition.model_name"
VERSION_TAG = "attrition.model_version"
PERFORMANCE_FIELDS = (
    "roc_auc",
    "recall",
    "precision",
    "brier",
    "ece",
    "observed_rate",
    "mean_score",
)


def monitoring_metrics(
    drift: DriftResult, performance: PerformanceResult | None
) -> dict[str, float]:
    """Pure: the figures one check contributes to the time series."""
    metrics = {
        "drift_share": drift.drift_share,
        "n_drifted_features": float(len(drift.drifted_features)),
        "dataset_drift": float(drift.dataset_drift),
        "prediction_drift": float(drift.prediction_drift),
        "current_rows": float(drift.current_rows),
    }
    if drift.prediction is not None:
        for name, value in (
            ("prediction_drift_statistic", drift.prediction.statistic),
            ("prediction_drift_effect", drift.prediction.effect),
        ):
            if value is not None:
                metrics[name] = float(value)
    if performance is not None:
        metrics["performance_decay"] = float(bool(performance.decay))
        metrics["outcomes"] = float(performance.overall.outcomes)
        for name in PERFORMANCE_FIELDS:
            value = getattr(performance.overall, name)
            if value is not None:
                metrics[f"realised_{name}"] = float(value)
    return metrics


def production_metrics(
    fairness: FairnessCheck | None, quality: QualityCheck | None
) -> dict[str, float]:
    """Pure: fairness per group (``fairness_recall/<attribute>/<group>``, selection rate,
    parity per attribute) and data quality (bad-input share, counts), with finding counts."""
    metrics: dict[str, float] = {}
    if fairness is not None:
        metrics["fairness_findings"] = float(len(fairness.findings))
        for attribute in fairness.attributes:
            if attribute.parity_ratio is not None:
                metrics[f"fairness_parity/{attribute.attribute}"] = attribute.parity_ratio
            for group in attribute.groups:
                where = f"{attribute.attribute}/{group.group}"
                if group.recall is not None:
                    metrics[f"fairness_recall/{where}"] = group.recall
                if group.selection_rate is not None:
                    metrics[f"fairness_selection_rate/{where}"] = group.selection_rate
    if quality is not None:
        current = quality.current
        metrics["quality_findings"] = float(len(quality.findings))
        metrics["quality_refused_requests"] = float(current.refused_requests)
        metrics["quality_rows_quarantined"] = float(current.rows_quarantined)
        if current.share is not None:
            metrics["quality_bad_share"] = current.share
    return metrics


def _run_id(client: Any, experiment_id: str, model_name: str, version: str) -> str:
    query = f"tags.`{NAME_TAG}` = '{model_name}' and tags.`{VERSION_TAG}` = '{version}'"
    found = client.search_runs(
        [experiment_id], filter_string=query, max_results=1, order_by=["attributes.start_time ASC"]
    )
    if found:
        return str(found[0].info.run_id)
    tags = {NAME_TAG: model_name, VERSION_TAG: version}
    run = client.create_run(experiment_id, run_name=f"monitor {model_name} v{version}", tags=tags)
    return str(run.info.run_id)


def log_check(
    settings: Settings,
    *,
    model_name: str,
    model_version: str,
    report_id: int,
    at: datetime,
    metrics: dict[str, float],
    html: str,
) -> str | None:
    """Log one check's metrics (step = report id) and HTML; the run id, or None on failure."""
    from mlflow.entities import Metric

    try:
        config = registry.RegistryConfig.from_settings(settings)
        client = registry.connect(config)
        experiment_id = registry.ensure_experiment(client, config, MONITORING_EXPERIMENT)
        run_id = _run_id(client, experiment_id, model_name, model_version)
        stamp = int(at.timestamp() * 1000)
        batch = [Metric(key, value, stamp, report_id) for key, value in sorted(metrics.items())]
        client.log_batch(run_id, metrics=batch)
        client.log_text(run_id, html, f"reports/report-{report_id}.html")
        client.set_terminated(run_id)
    except Exception as error:  # the report row is stored already; MLflow is secondary
        logger.warning("monitoring metrics not logged to MLflow: %s", type(error).__name__)
        return None
    return run_id
