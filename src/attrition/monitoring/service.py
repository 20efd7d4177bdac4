"""One monitoring check, end to end: ``run_monitoring(retrain, settings=..., **options)``.

1. The champion (``champion`` alias) and its reference sample with out-of-fold scores
   (``reference.py``, cached per version); no champion is a user error ("train first").
2. Current data (``windows.py``): the prediction log over a time window (default), a
   validated file (``current=``) or a database snapshot (``snapshot_date=``); options are
   validated by ``options.py``.
3. Feature and prediction drift (``drift.py``) and realised performance
   (``performance.py``): ``check.py``, which writes nothing.
4. The report row (``drift_report``: verdicts, JSON summary with the exact rows used, HTML),
   metrics in MLflow (``tracking.py``), an alert deduplicated per ongoing drift
   (``alerts.dispatch_alert``, called after clean checks too, to close an episode).
5. With ``retrain=True`` and a confirmed trigger: retraining (``retrain.py``), at once or
   in the background through the API's ``spawn``.

The database must be migrated already (the ``attrition monitor`` command migrates it first;
the API refuses to start on a database that is not).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import pandas as pd

from attrition.db.engine import session_scope
from attrition.db.models import DriftReport
from attrition.db.types import utcnow
from attrition.errors import AttritionError
from attrition.monitoring.alerts import AlertOutcome, build_alert, dispatch_alert
from attrition.monitoring.check import Check, run_check
from attrition.monitoring.config import MonitoringConfig, load_monitoring_config
from attrition.monitoring.drift import FeatureDrift
from attrition.monitoring.options import MonitorOptions
from attrition.monitoring.report import render_report, report_row_fields, verdict_fields
from attrition.monitoring.report_sections import sections
from attrition.monitoring.retrain import (
    RetrainOutcome,
    RetrainRequest,
    pair_training_rows,
    retrain_triggers,
    window_training_rows,
)
from attrition.monitoring.retrain import retrain as run_retrain
from attrition.monitoring.tracking import log_check, monitoring_metrics, production_metrics
from attrition.monitoring.windows import PREDICTION_LOG, outcome_pairs
from attrition.settings import Settings

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- storing


def report_url(settings: Settings, report_id: int) -> str:
    """Where the API serves the report's HTML."""
    return f"{settings.api_url.rstrip('/')}/v1/monitoring/reports/{report_id}/html"


def source_line(window: dict[str, Any]) -> str:
    """The report's "current data" line: for the prediction log, who was counted."""
    if "people" not in window:
        return f"{window['source']} ({window['rows']:,} rows)"
    return (
        f"{window['source']}: {window['people']:,} people from {window['raw_rows']:,} "
        f"predictions ({window['what_if_rows']:,} what-if, {window['repeat_rows']:,} repeats "
        "left out; the latest real prediction per person)"
    )


def store_report(check: Check, database_url: str, now: datetime) -> tuple[int, str]:
    """Insert the report row (verdicts, summary with the rows used, HTML); (id, html)."""
    provenance = check.window.provenance
    window = (provenance.window_start, provenance.window_end)
    html = render_report(
        check.drift,
        model_name=check.champion.name,
        model_version=check.champion.version,
        performance=check.performance,
        source=source_line(provenance.to_dict()),
        window=window if provenance.window_end is not None else None,
        generated_at=now,
        sections=sections(check.fairness, check.quality),
    )
    row_fields = report_row_fields(check.drift, check.performance)
    row_fields["summary"] |= {
        "window": provenance.to_dict(),
        "scores": check.score_source,
        "prediction_reference": check.prediction_reference,
        **production_summary(check),
    }
    with session_scope(database_url) as session:
        row = DriftReport(
            model_name=check.champion.name,
            model_version=check.champion.version,
            source=provenance.source,
            window_start=provenance.window_start,
            window_end=provenance.window_end,
            html=html,
            created_at=now,
            **row_fields,
        )
        session.add(row)
        session.flush()
        return int(row.id), html


def production_summary(check: Check) -> dict[str, Any]:
    """Fairness, data quality and their findings, as the report summary keeps them."""
    return {
        "fairness": None if check.fairness is None else check.fairness.to_dict(),
        "data_quality": None if check.quality is None else check.quality.to_dict(),
        "findings": [finding.to_dict() for finding in check.findings],
    }


def finish_report(
    database_url: str, report_id: int, alert: AlertOutcome, retrain: RetrainOutcome
) -> None:
    """Record the alert and retraining results on the report row."""
    with session_scope(database_url) as session:
        row = session.get(DriftReport, report_id)
        if row is None:
            raise AttritionError(f"drift report {report_id} disappeared while monitoring")
        row.alert_sent = alert.sent
        row.retrained = retrain.retrained
        row.new_version = retrain.new_version
        row.summary = {**row.summary, "alert": alert_dict(alert), "retrain": retrain.to_dict()}


def alert_dict(alert: AlertOutcome) -> dict[str, Any]:
    return {
        "status": alert.status,
        "sent": alert.sent,
        "fingerprint": alert.fingerprint,
        "channels": {c.channel: c.detail for c in alert.channels},
    }


# --------------------------------------------------------------------------- steps after


@dataclass(frozen=True, slots=True)
class RunContext:
    """What the steps after a check need besides it: settings, monitoring config, the
    database and the check's time."""

    settings: Settings
    config: MonitoringConfig
    database_url: str
    now: datetime


def send_alert(check: Check, report_id: int, context: RunContext) -> AlertOutcome:
    """Alert once per ongoing drift; a clean check closes the episode."""
    alert = build_alert(
        check.drift,
        model_name=check.champion.name,
        model_version=check.champion.version,
        performance=check.performance,
        report_id=report_id,
        report_url=report_url(context.settings, report_id),
        findings=check.findings,
    )
    return dispatch_alert(
        alert,
        model_name=check.champion.name,
        config=context.config.alerts,
        settings=context.settings,
        database_url=context.database_url,
        now=context.now,
    )


def labelled_rows(check: Check, database_url: str) -> pd.DataFrame | None:
    """The checked data's labelled rows for retraining (see ``retrain.py``)."""
    if check.window.provenance.source == PREDICTION_LOG:
        pairs = outcome_pairs(database_url, model_name=check.champion.name)
        return pair_training_rows(pairs)
    return window_training_rows(check.window)


def maybe_retrain(
    check: Check, report_id: int, requested: bool, context: RunContext
) -> RetrainOutcome:
    """Retrain when asked and a trigger enabled in the config is confirmed."""
    if not requested:
        return RetrainOutcome("not_requested")
    triggers = retrain_triggers(check.drift, check.performance, context.config.retrain)
    return retrain_on(check, report_id, triggers, context) if triggers else _not_needed()


def _not_needed() -> RetrainOutcome:
    return RetrainOutcome("not_needed", reason="no confirmed drift or decay")


def retrain_on(
    check: Check, report_id: int, triggers: tuple[str, ...], context: RunContext
) -> RetrainOutcome:
    """Retrain for these confirmed triggers (the retrain step applies the cooldown)."""
    request = RetrainRequest(
        model_name=check.champion.name,
        report_id=report_id,
        triggers=triggers,
        current_rows=labelled_rows(check, context.database_url),
        current_source=check.window.provenance.source,
        cooldown_hours=context.config.cooldown_hours(context.settings),
        now=context.now,
    )
    return run_retrain(request, context.settings, context.database_url)


# --------------------------------------------------------------------------- entry


def _feature_brief(feature: FeatureDrift) -> dict[str, Any]:
    return {
        "name": feature.name,
        "kind": feature.kind,
        "statistic": feature.statistic,
        "p_adjusted": feature.p_adjusted,
        "effect_name": feature.effect_name,
        "effect": feature.effect,
        "reasons": list(feature.reasons),
        "drifted": feature.drifted,
    }


def result_dict(
    check: Check, report_id: int, settings: Settings, alert: AlertOutcome, retrain: RetrainOutcome
) -> dict[str, Any]:
    """The JSON answer of ``attrition monitor --json`` and the API."""
    verdicts = verdict_fields(check.drift, check.performance)
    return {
        "report_id": report_id,
        **verdicts,
        "retrained": retrain.retrained,
        "new_version": retrain.new_version,
        "promoted": retrain.promoted,
        "drift_detected": check.confirmed,
        "model_name": check.champion.name,
        "model_version": check.champion.version,
        "source": check.window.provenance.source,
        "current_rows": check.drift.current_rows,
        "reference_rows": check.drift.reference_rows,
        "scores": check.score_source,
        "prediction_reference": check.prediction_reference,
        "window": check.window.provenance.to_dict(),
        "drifted_details": [_feature_brief(f) for f in check.drift.features if f.drifted],
        "prediction": None
        if check.drift.prediction is None
        else _feature_brief(check.drift.prediction),
        "findings": [finding.to_dict() for finding in check.findings],
        "alert": alert_dict(alert),
        "retrain": retrain.to_dict(),
        "report_url": report_url(settings, report_id),
    }


RetrainJob = Callable[[], dict[str, Any]]
# Starts a retrain job for a report in the background; False when one is already running.
Spawn = Callable[[int, RetrainJob], bool]


def retrain_in_background(
    spawn: Spawn, check: Check, report_id: int, alert: AlertOutcome, context: RunContext
) -> RetrainOutcome:
    """Hand a due retrain of this check to ``spawn``. The report says "started" first, so
    the job's own outcome, written when it ends, is never overwritten."""
    triggers = retrain_triggers(check.drift, check.performance, context.config.retrain)
    if not triggers:
        return _not_needed()
    started = RetrainOutcome("started", triggers=triggers)
    finish_report(context.database_url, report_id, alert, started)
    job = partial(_retrain_and_finish, check, report_id, triggers, alert, context)
    return started if spawn(report_id, job) else RetrainOutcome("already_running", triggers)


def _retrain_and_finish(
    check: Check,
    report_id: int,
    triggers: tuple[str, ...],
    alert: AlertOutcome,
    context: RunContext,
) -> dict[str, Any]:
    outcome = retrain_on(check, report_id, triggers, context)
    finish_report(context.database_url, report_id, alert, outcome)
    return outcome.to_dict()


def run_monitoring(
    retrain: bool = False,
    spawn: Spawn | None = None,
    *,
    settings: Settings,
    **options: Any,
) -> dict[str, Any]:
    """Run one drift and performance check; store, log, alert and optionally retrain: at once,
    or through ``spawn`` (the API's background runner) on the same check and report."""
    chosen = MonitorOptions.from_mapping(options)
    config = load_monitoring_config(chosen.config, configured=settings.monitoring_config)
    context = RunContext(settings, config, settings.database_url, chosen.now or utcnow())
    check = run_check(chosen, settings, config, context.now)
    report_id, html = store_report(check, context.database_url, context.now)
    log_check(
        settings,
        model_name=check.champion.name,
        model_version=check.champion.version,
        report_id=report_id,
        at=context.now,
        metrics=monitoring_metrics(check.drift, check.performance)
        | production_metrics(check.fairness, check.quality),
        html=html,
    )
    alert = send_alert(check, report_id, context)
    outcome = _retrain_step(check, report_id, alert, retrain, spawn, context)
    logger.info(
        "monitoring report %d: %d of %d features drifted, prediction drift %s, alert %s, "
        "retrain %s, findings %d",
        report_id, len(check.drift.drifted_features), len(check.drift.features),
        check.drift.prediction_drift, alert.status, outcome.status, len(check.findings),
    )  # fmt: skip
    return result_dict(check, report_id, settings, alert, outcome)


def _retrain_step(
    check: Check,
    report_id: int,
    alert: AlertOutcome,
    retrain: bool,
    spawn: Spawn | None,
    context: RunContext,
) -> RetrainOutcome:
    """Retrain now, or hand it to ``spawn``; the report row records the outcome."""
    if retrain and spawn is not None:
        outcome = retrain_in_background(spawn, check, report_id, alert, context)
    else:
        outcome = maybe_retrain(check, report_id, retrain, context)
    if outcome.status != "started":  # a started job records its own outcome when it ends
        finish_report(context.database_url, report_id, alert, outcome)
    return outcome
