"""One monitoring check, end to end: ``run_monitoring(retrain=False, **options) -> dict``.

1. The champion (``champion`` alias) and its reference sample with out-of-fold scores
   (``reference.py``, cached per version); no champion is a user error ("train first").
2. Current data (``windows.py``): the prediction log over a time window (default), a
   validated file (``current=``) or a database snapshot (``snapshot_date=``). Scores are
   the logged ones when every row was scored by the champion, else the champion rescores.
3. Feature and prediction drift (``drift.py``); realised performance (``performance.py``)
   from outcomes joined to the champion's predictions, or from a file's/snapshot's labels,
   against the champion's holdout metrics.
4. The report row (``drift_report``: verdicts, JSON summary with the exact rows used, HTML),
   metrics in MLflow (``tracking.py``), an alert deduplicated per ongoing drift
   (``alerts.dispatch_alert``, called after clean checks too, to close an episode).
5. With ``retrain=True`` and a confirmed trigger: retraining (``retrain.py``).

Options (all optional): ``current`` (path), ``snapshot_date`` (date or ISO string),
``since`` (datetime or ISO string; prediction log only), ``days`` (prediction-log look-back
when there is no usable last report; default ``performance.window_days``), ``config``
(monitoring config path) and ``now`` (the check's time, aware UTC).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from attrition import registry
from attrition.db.engine import session_scope
from attrition.db.models import DriftReport
from attrition.db.types import utcnow
from attrition.errors import AttritionError
from attrition.monitoring.alerts import AlertOutcome, build_alert, dispatch_alert
from attrition.monitoring.config import MonitoringConfig, load_monitoring_config
from attrition.monitoring.drift import DriftResult, FeatureDrift, columns_from_frame, detect_drift
from attrition.monitoring.performance import PerformanceResult, evaluate_performance
from attrition.monitoring.reference import (
    Champion,
    champion_reference,
    champion_scores,
    current_champion,
    holdout_metrics,
)
from attrition.monitoring.report import render_report, report_row_fields, verdict_fields
from attrition.monitoring.retrain import (
    RetrainOutcome,
    RetrainRequest,
    pair_training_rows,
    retrain_triggers,
    window_training_rows,
)
from attrition.monitoring.retrain import retrain as run_retrain
from attrition.monitoring.tracking import log_check, monitoring_metrics
from attrition.monitoring.windows import (
    PREDICTION_LOG,
    CurrentWindow,
    as_utc,
    file_window,
    outcome_pairs,
    prediction_log_window,
    snapshot_window,
)
from attrition.settings import Settings, get_settings

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class MonitorOptions:
    """What to check; see the module docstring."""

    current: Path | None = None
    snapshot_date: date | None = None
    since: datetime | None = None
    days: float | None = None
    config: Path | None = None
    now: datetime | None = None

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> MonitorOptions:
        """Validate keyword options (strings accepted where the CLI or an API passes them)."""
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise AttritionError(
                f"unknown monitoring option(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
            )
        chosen = cls(
            current=_path(options.get("current")),
            snapshot_date=_date(options.get("snapshot_date")),
            since=_datetime("since", options.get("since")),
            days=_days(options.get("days")),
            config=_path(options.get("config")),
            now=_datetime("now", options.get("now")),
        )
        chosen.check()
        return chosen

    def check(self) -> None:
        """Refuse combinations that name two sources or a window without the log."""
        if self.current is not None and self.snapshot_date is not None:
            raise AttritionError("give either --current FILE or --snapshot-date, not both")
        if self.source != PREDICTION_LOG and (self.since is not None or self.days is not None):
            raise AttritionError(
                "--since and --days select prediction-log rows; drop them "
                "with --current or --snapshot-date"
            )

    @property
    def source(self) -> str:
        if self.current is not None:
            return "file"
        if self.snapshot_date is not None:
            return "snapshot"
        return PREDICTION_LOG


def _path(value: Any) -> Path | None:
    return None if value is None else Path(value)


def _date(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise AttritionError(f"--snapshot-date: {value!r} is not a date (YYYY-MM-DD)") from None


def _datetime(name: str, value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return None if value is None else as_utc(value)
    try:
        return as_utc(datetime.fromisoformat(str(value)))
    except ValueError:
        raise AttritionError(
            f"--{name}: {value!r} is not an ISO date or time (e.g. 2025-06-01 or "
            "2025-06-01T09:30:00+00:00)"
        ) from None


def _days(value: Any) -> float | None:
    if value is None:
        return None
    try:
        days = float(value)
    except (TypeError, ValueError):
        raise AttritionError(f"--days must be a number of days, got {value!r}") from None
    if not days > 0:
        raise AttritionError(f"--days must be greater than 0, got {value}")
    return days


# --------------------------------------------------------------------------- the check


@dataclass(frozen=True, slots=True)
class Check:
    """The data and verdicts of one check, before anything is stored."""

    champion: Champion
    window: CurrentWindow
    drift: DriftResult
    performance: PerformanceResult | None
    score_source: str
    prediction_reference: str

    @property
    def confirmed(self) -> bool:
        """Any feature drift, prediction drift or performance decay confirmed."""
        decay = self.performance is not None and bool(self.performance.decay)
        return bool(self.drift.drifted_features) or self.drift.prediction_drift or decay


def load_window(
    options: MonitorOptions,
    settings: Settings,
    config: MonitoringConfig,
    champion: Champion,
    now: datetime,
) -> CurrentWindow:
    """The current rows named by the options."""
    if options.current is not None:
        return file_window(options.current, settings.pseudonym_secret())
    if options.snapshot_date is not None:
        return snapshot_window(settings.database_url, options.snapshot_date)
    window, _ = prediction_log_window(
        settings.database_url,
        model_name=champion.name,
        now=now,
        since=options.since,
        days=options.days or config.performance.window_days,
        min_rows=config.drift.min_rows,
    )
    return window


def current_scores(
    window: CurrentWindow, settings: Settings, champion: Champion
) -> tuple[npt.NDArray[np.float64], str]:
    """The champion's scores of the current rows, and where they came from."""
    versions = window.provenance.details.get("model_versions", {})
    if window.scores is not None and set(versions) == {champion.version}:
        return window.scores, "logged"
    return champion_scores(settings, champion, window.frame), f"rescored by v{champion.version}"


def measure_performance(
    window: CurrentWindow,
    scores: npt.NDArray[np.float64],
    settings: Settings,
    config: MonitoringConfig,
    champion: Champion,
    now: datetime,
) -> PerformanceResult | None:
    """Realised performance: outcomes of the champion's predictions, or the data's labels."""
    if window.provenance.source == PREDICTION_LOG:
        pairs = outcome_pairs(
            settings.database_url, model_name=champion.name, model_version=champion.version
        )
        if pairs.count == 0:
            return None
        return evaluate_performance(
            pairs.probabilities, pairs.left, pairs.predicted_at,
            threshold=champion.threshold, holdout=holdout_metrics(champion),
            config=config.performance, end=now,
        )  # fmt: skip
    if window.labelled is None or window.labels is None or not window.labelled.any():
        return None
    mask = window.labelled
    return evaluate_performance(
        scores[mask], window.labels[mask],
        threshold=champion.threshold, holdout=holdout_metrics(champion),
        config=config.performance,
    )  # fmt: skip


def run_check(
    options: MonitorOptions, settings: Settings, config: MonitoringConfig, now: datetime
) -> Check:
    """Champion, reference, current rows, drift and performance: no writes."""
    champion = current_champion()
    reference = champion_reference(settings, champion, config.drift)
    window = load_window(options, settings, config, champion, now)
    scores, score_source = current_scores(window, settings, champion)
    columns = columns_from_frame(window.frame, reference.profile.specs)
    drift = detect_drift(
        reference.profile, columns, config.drift, prediction=config.prediction, scores=scores
    )
    performance = measure_performance(window, scores, settings, config, champion, now)
    return Check(champion, window, drift, performance, score_source, reference.prediction_reference)


# --------------------------------------------------------------------------- storing


def report_url(settings: Settings, report_id: int) -> str:
    """Where the API serves the report's HTML."""
    return f"{settings.api_url.rstrip('/')}/v1/monitoring/reports/{report_id}/html"


def store_report(check: Check, database_url: str, now: datetime) -> tuple[int, str]:
    """Insert the report row (verdicts, summary with the rows used, HTML); (id, html)."""
    provenance = check.window.provenance
    window = (provenance.window_start, provenance.window_end)
    html = render_report(
        check.drift,
        model_name=check.champion.name,
        model_version=check.champion.version,
        performance=check.performance,
        source=provenance.source,
        window=window if provenance.window_end is not None else None,
        generated_at=now,
    )
    row_fields = report_row_fields(check.drift, check.performance)
    row_fields["summary"] |= {
        "window": provenance.to_dict(),
        "scores": check.score_source,
        "prediction_reference": check.prediction_reference,
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


def send_alert(
    check: Check,
    report_id: int,
    settings: Settings,
    config: MonitoringConfig,
    database_url: str,
    now: datetime,
) -> AlertOutcome:
    """Alert once per ongoing drift; a clean check closes the episode."""
    alert = build_alert(
        check.drift,
        model_name=check.champion.name,
        model_version=check.champion.version,
        performance=check.performance,
        report_id=report_id,
        report_url=report_url(settings, report_id),
    )
    return dispatch_alert(
        alert,
        model_name=check.champion.name,
        config=config.alerts,
        settings=settings,
        database_url=database_url,
        now=now,
    )


def labelled_rows(check: Check, database_url: str) -> pd.DataFrame | None:
    """The checked data's labelled rows for retraining (see ``retrain.py``)."""
    if check.window.provenance.source == PREDICTION_LOG:
        pairs = outcome_pairs(database_url, model_name=check.champion.name)
        return pair_training_rows(pairs)
    return window_training_rows(check.window)


@dataclass(frozen=True, slots=True)
class RetrainContext:
    """What a retrain of one check needs besides the check."""

    settings: Settings
    config: MonitoringConfig
    database_url: str
    now: datetime


def maybe_retrain(
    check: Check, report_id: int, requested: bool, context: RetrainContext
) -> RetrainOutcome:
    """Retrain when asked and a trigger enabled in the config is confirmed."""
    if not requested:
        return RetrainOutcome("not_requested")
    triggers = retrain_triggers(check.drift, check.performance, context.config.retrain)
    return retrain_on(check, report_id, triggers, context) if triggers else _not_needed()


def _not_needed() -> RetrainOutcome:
    return RetrainOutcome("not_needed", reason="no confirmed drift or decay")


def retrain_on(
    check: Check, report_id: int, triggers: tuple[str, ...], context: RetrainContext
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
        "alert": alert_dict(alert),
        "retrain": retrain.to_dict(),
        "report_url": report_url(settings, report_id),
    }


RetrainJob = Callable[[], dict[str, Any]]
# Starts a retrain job for a report in the background; False when one is already running.
Spawn = Callable[[int, RetrainJob], bool]


def retrain_in_background(
    spawn: Spawn, check: Check, report_id: int, alert: AlertOutcome, context: RetrainContext
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
    context: RetrainContext,
) -> dict[str, Any]:
    outcome = retrain_on(check, report_id, triggers, context)
    finish_report(context.database_url, report_id, alert, outcome)
    return outcome.to_dict()


def run_monitoring(
    retrain: bool = False, spawn: Spawn | None = None, **options: Any
) -> dict[str, Any]:
    """Run one drift and performance check; store, log, alert and optionally retrain: at once,
    or through ``spawn`` (the API's background runner) on the same check and report."""
    chosen = MonitorOptions.from_mapping(options)
    settings = get_settings()
    config = load_monitoring_config(chosen.config)
    database_url = registry.ensure_database(settings.database_url)
    now = chosen.now or utcnow()
    check = run_check(chosen, settings, config, now)
    report_id, html = store_report(check, database_url, now)
    log_check(
        settings,
        model_name=check.champion.name,
        model_version=check.champion.version,
        report_id=report_id,
        at=now,
        metrics=monitoring_metrics(check.drift, check.performance),
        html=html,
    )
    alert = send_alert(check, report_id, settings, config, database_url, now)
    context = RetrainContext(settings, config, database_url, now)
    if retrain and spawn is not None:
        outcome = retrain_in_background(spawn, check, report_id, alert, context)
    else:
        outcome = maybe_retrain(check, report_id, retrain, context)
    if outcome.status != "started":  # a started job records its own outcome when it ends
        finish_report(database_url, report_id, alert, outcome)
    logger.info(
        "monitoring report %d: %d of %d features drifted, prediction drift %s, alert %s, "
        "retrain %s",
        report_id, len(check.drift.drifted_features), len(check.drift.features),
        check.drift.prediction_drift, alert.status, outcome.status,
    )  # fmt: skip
    return result_dict(check, report_id, settings, alert, outcome)
