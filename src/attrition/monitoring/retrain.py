"""Automatic retraining after confirmed drift or decay: data, cooldown, gate, hand-over.

When a check confirms a trigger enabled in ``retrain`` of the monitoring config (feature
drift, prediction drift, performance decay) and the caller asked for it, a new version is
trained with the training library (``train_model``: search, fit, evaluate, register as
``challenger``, quality gate, ``champion`` only when the gate passes).

Training data, one row per employee, newest record first:

1. the labelled rows of the checked data: a file's or snapshot's rows with ``Attrition``,
   or for the prediction log every prediction with a recorded outcome (the features it
   was scored on, labelled with the outcome; see ``windows.outcome_pairs``);
2. plus the rows of the newest labelled database snapshot for employees not in (1).

Every step is an ``audit_event`` (actor ``monitor``, target the model name):
``monitoring.retrain.started``, ``.skipped`` (cooldown or a concurrent retrain),
``.failed``, ``.finished`` (version, gate verdict, promotion) and ``.reload`` (how the API
learns of a new champion). The cooldown (``retrain.cooldown_hours``, else
``ATTRITION_RETRAIN_COOLDOWN_HOURS``) is read from the ``started`` events, so retrain
storms are impossible across processes; of two monitors starting at once, the one whose
``started`` event has the lower id proceeds.

A promoted version reaches the API without a restart: each API process polls the
``champion`` alias (``ATTRITION_MODEL_POLL_SECONDS``); when ``ATTRITION_API_KEY`` (an admin
key) is configured, ``POST {ATTRITION_API_URL}/v1/admin/reload`` is called as well.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from attrition.audit import AuditAction, record_event
from attrition.db.engine import session_scope
from attrition.db.models import AuditEvent
from attrition.errors import AttritionError
from attrition.monitoring.config import RetrainConfig
from attrition.monitoring.drift import DriftResult
from attrition.monitoring.performance import PerformanceResult
from attrition.monitoring.windows import EMPLOYEE_KEY, CurrentWindow, OutcomePairs
from attrition.schema import FEATURE_NAMES, NEGATIVE_LABEL, POSITIVE_LABEL, TARGET
from attrition.settings import Settings

if TYPE_CHECKING:  # the ML stack and httpx are imported when a retrain runs
    import httpx

    from attrition.training.pipeline import TrainingOptions
    from attrition.training.train import TrainingResult

logger = logging.getLogger(__name__)

ACTOR = "monitor"
STARTED = AuditAction.RETRAIN_STARTED
SKIPPED = AuditAction.RETRAIN_SKIPPED
FAILED = AuditAction.RETRAIN_FAILED
FINISHED = AuditAction.RETRAIN_FINISHED
RELOAD = AuditAction.RETRAIN_RELOAD
RELOAD_TIMEOUT_S = 60.0
Status = Literal[
    "not_requested", "not_needed", "skipped", "failed", "trained", "started", "already_running"
]  # started / already_running: handed to a background runner (the API), outcome recorded later


@dataclass(frozen=True, slots=True)
class RetrainOutcome:
    """What the retraining step decided and did."""

    status: Status
    triggers: tuple[str, ...] = ()
    reason: str = ""
    new_version: str | None = None
    promoted: bool = False
    gate_passed: bool | None = None
    gate_reasons: tuple[str, ...] = ()
    run_id: str | None = None
    training_rows: int | None = None
    data_source: str | None = None
    reload: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def retrained(self) -> bool:
        """True when a new version was trained and registered (promoted or not)."""
        return self.status == "trained"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["retrained"] = self.retrained
        return data


# --------------------------------------------------------------------------- decision


def retrain_triggers(
    drift: DriftResult, performance: PerformanceResult | None, config: RetrainConfig
) -> tuple[str, ...]:
    """Pure: the confirmed problems that the config lets trigger a retrain."""
    triggers = []
    if config.on_feature_drift and drift.drifted_features:
        triggers.append("feature_drift")
    if config.on_prediction_drift and drift.prediction_drift:
        triggers.append("prediction_drift")
    if config.on_performance_decay and performance is not None and performance.decay:
        triggers.append("performance_decay")
    return tuple(triggers)


# --------------------------------------------------------------------------- audit trail


def audit(
    database_url: str,
    action: AuditAction,
    model_name: str,
    details: dict[str, Any],
    at: datetime | None = None,
) -> int:
    """Write one retraining audit event (at ``at``, default now); its id."""
    with session_scope(database_url) as session:
        event = record_event(
            session, actor=ACTOR, action=action, target=model_name, details=details, at=at
        )
        return int(event.id)


def recent_starts(session: Session, model_name: str, since: datetime) -> list[tuple[int, datetime]]:
    """(id, time) of the model's retrain starts at or after ``since``, oldest first."""
    query = (
        select(AuditEvent.id, AuditEvent.created_at)
        .where(AuditEvent.action == STARTED, AuditEvent.target == model_name)
        .where(AuditEvent.created_at >= since)
        .order_by(AuditEvent.id)
    )
    return [(int(i), at) for i, at in session.execute(query).tuples()]


def cooldown_blocker(
    database_url: str, model_name: str, hours: float, now: datetime, own_id: int | None = None
) -> tuple[int, datetime] | None:
    """The retrain start that blocks a new one: inside the cooldown, before ``own_id``."""
    with session_scope(database_url) as session:
        starts = recent_starts(session, model_name, now - timedelta(hours=hours))
    earlier = [s for s in starts if own_id is None or s[0] < own_id]
    return earlier[-1] if earlier else None


# --------------------------------------------------------------------------- data


def _labelled_frame(
    features: pd.DataFrame, keys: list[str | None], left: np.ndarray
) -> pd.DataFrame:
    frame = features.loc[:, list(FEATURE_NAMES)].reset_index(drop=True).copy()
    frame[TARGET] = np.where(left, POSITIVE_LABEL, NEGATIVE_LABEL)
    frame[EMPLOYEE_KEY] = pd.Series(keys, dtype=object)
    return frame


def window_training_rows(window: CurrentWindow) -> pd.DataFrame | None:
    """Pure: the labelled rows of a file or snapshot window (None without labels)."""
    if window.labelled is None or window.labels is None or not window.labelled.any():
        return None
    mask = window.labelled
    keys = [k for k, keep in zip(window.employee_keys, mask.tolist(), strict=True) if keep]
    return _labelled_frame(window.frame.loc[mask], keys, window.labels[mask])


def pair_training_rows(pairs: OutcomePairs) -> pd.DataFrame | None:
    """Pure: predictions with an outcome as labelled rows (None when there are none)."""
    if pairs.count == 0:
        return None
    return _labelled_frame(pairs.features, list(pairs.employee_keys), pairs.left)


def _newest_per_employee(frame: pd.DataFrame) -> pd.DataFrame:
    keyed = frame[EMPLOYEE_KEY].notna()
    unique = frame.loc[keyed].drop_duplicates(EMPLOYEE_KEY, keep="last")
    return pd.concat([unique, frame.loc[~keyed]]).sort_index()


def combine_training_rows(current: pd.DataFrame | None, base: pd.DataFrame | None) -> pd.DataFrame:
    """Pure: one row per employee; current rows (the last of each employee) win over the
    snapshot's. Columns: the schema features and ``Attrition``."""
    current = None if current is None or current.empty else _newest_per_employee(current)
    base = None if base is None or base.empty else base
    if current is None and base is None:
        raise AttritionError(
            "no labelled data to retrain on: record outcomes (POST /v1/outcomes), monitor a "
            "labelled file (--current with an Attrition column), or ingest a labelled snapshot"
        )
    parts = [] if current is None else [current]
    if base is not None:
        if current is not None:
            base = base.loc[~base[EMPLOYEE_KEY].isin(current[EMPLOYEE_KEY].dropna())]
        parts.append(base)
    combined = pd.concat(parts, ignore_index=True)
    return combined.loc[:, [*FEATURE_NAMES, TARGET]]


def newest_snapshot(database_url: str) -> tuple[pd.DataFrame | None, str | None]:
    """The newest labelled snapshot (with ``employee_key``) and its date, if there is one."""
    from attrition.data.loading import load_training_frame

    try:
        frame = load_training_frame(database_url)
    except AttritionError as error:
        logger.info("no labelled snapshot for retraining: %s", error)
        return None, None
    return frame, str(frame.attrs.get("snapshot_date"))


# --------------------------------------------------------------------------- hand-over


def notify_api(settings: Settings, client: httpx.Client | None = None) -> str:
    """Ask the API to reload the champion when an admin key is configured, else rely on
    its alias polling. Returns how the API learns of the new version."""
    if settings.api_key is None:
        return f"polling (every {settings.model_poll_seconds:g}s)"
    import httpx

    url = settings.api_url.rstrip("/") + "/v1/admin/reload"
    headers = {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"}
    http = client or httpx.Client(timeout=RELOAD_TIMEOUT_S)
    try:
        response = http.post(url, headers=headers)
    except httpx.HTTPError as error:
        logger.warning("API reload not reached (%s); relying on polling", type(error).__name__)
        return f"polling (reload unreachable: {type(error).__name__})"
    finally:
        if client is None:
            http.close()
    if response.is_success:
        return "reloaded"
    logger.warning("API reload answered HTTP %d; relying on polling", response.status_code)
    return f"polling (reload answered HTTP {response.status_code})"


# --------------------------------------------------------------------------- the step


@dataclass(frozen=True, slots=True)
class RetrainRequest:
    """Everything one retraining needs from the check that triggered it."""

    model_name: str
    report_id: int
    triggers: tuple[str, ...]
    current_rows: pd.DataFrame | None
    current_source: str
    cooldown_hours: float
    now: datetime


def _skip(
    request: RetrainRequest, database_url: str, reason: str, **details: Any
) -> RetrainOutcome:
    payload = {"report_id": request.report_id, "reason": reason, **details}
    audit(database_url, SKIPPED, request.model_name, payload, request.now)
    logger.info("retrain skipped: %s", reason)
    return RetrainOutcome("skipped", request.triggers, reason, details=details)


def _blocked_reason(blocker: tuple[int, datetime], hours: float) -> str:
    until = blocker[1] + timedelta(hours=hours)
    return (
        f"cooldown: a retrain started at {blocker[1]:%Y-%m-%d %H:%M} UTC; "
        f"next after {until:%Y-%m-%d %H:%M} UTC"
    )


def retrain(request: RetrainRequest, settings: Settings, database_url: str) -> RetrainOutcome:
    """Claim the cooldown, assemble the data, train and gate, hand a new champion over."""
    hours = request.cooldown_hours
    blocker = cooldown_blocker(database_url, request.model_name, hours, request.now)
    if blocker is not None:
        return _skip(
            request, database_url, _blocked_reason(blocker, hours), blocking_event=blocker[0]
        )
    started = {"report_id": request.report_id, "triggers": list(request.triggers)}
    own = audit(database_url, STARTED, request.model_name, started, request.now)
    rival = cooldown_blocker(database_url, request.model_name, hours, request.now, own_id=own)
    if rival is not None:
        reason = "another monitor started a retrain at the same time"
        return _skip(request, database_url, reason, blocking_event=rival[0], own_event=own)
    try:
        outcome = _train(request, settings, database_url)
    except AttritionError as error:
        details = {"report_id": request.report_id, "error": str(error)}
        audit(database_url, FAILED, request.model_name, details)
        return RetrainOutcome("failed", request.triggers, str(error))
    except Exception as error:
        details = {"report_id": request.report_id, "error": type(error).__name__}
        audit(database_url, FAILED, request.model_name, details)
        raise
    return outcome


def _options(request: RetrainRequest, settings: Settings, source: str) -> TrainingOptions:
    from attrition.training.pipeline import TrainingOptions

    return TrainingOptions.from_settings(
        settings,
        actor=ACTOR,
        data_source=f"monitor: {source}"[:250],
        promote=True,
        tags={"trigger": ",".join(request.triggers), "drift_report_id": str(request.report_id)},
    )


def _outcome(
    request: RetrainRequest, result: TrainingResult, source: str, reload: str | None
) -> RetrainOutcome:
    verdict = "promoted to champion" if result.promoted else "kept as challenger"
    return RetrainOutcome(
        "trained",
        request.triggers,
        f"quality gate {'passed' if result.gate.passed else 'failed'}: {verdict}",
        new_version=result.model_version,
        promoted=result.promoted,
        gate_passed=result.gate.passed,
        gate_reasons=tuple(result.gate.reasons),
        run_id=result.run_id,
        training_rows=result.rows,
        data_source=source,
        reload=reload,
    )


def _train(request: RetrainRequest, settings: Settings, database_url: str) -> RetrainOutcome:
    from attrition.training.train import train_model

    base, snapshot = newest_snapshot(database_url)
    frame = combine_training_rows(request.current_rows, base)
    source = request.current_source + (f" + snapshot {snapshot}" if snapshot else "")
    result = train_model(frame, _options(request, settings, source))
    details = {
        "report_id": request.report_id,
        "version": result.model_version,
        "run_id": result.run_id,
        "gate_passed": result.gate.passed,
        "gate_reasons": result.gate.reasons,
        "promoted": result.promoted,
        "rows": result.rows,
        "data_source": source,
    }
    audit(database_url, FINISHED, request.model_name, details)
    reload = None
    if result.promoted:
        reload = notify_api(settings)
        audit(
            database_url,
            RELOAD,
            request.model_name,
            {"version": result.model_version, "via": reload},
        )
    return _outcome(request, result, source, reload)
