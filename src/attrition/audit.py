"""The audit trail: one fixed vocabulary of actions and one way to record an event.

Every administrative action (key changes, erasures, alias moves, reloads, monitoring runs,
alerts, retraining, maintenance) is an ``audit_event`` row written by :func:`record_event`;
its ``action`` is always a member of :class:`AuditAction`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from attrition.db.models import AuditEvent
from attrition.db.types import utcnow


class AuditAction(StrEnum):
    """What happened; ``<subject>.<verb>``, grouped by subject."""

    API_KEY_CREATE = "api_key.create"
    API_KEY_REVOKE = "api_key.revoke"
    EMPLOYEE_ERASE = "employee.erase"
    MODEL_ALIAS_CHAMPION = "model.alias.champion"
    MODEL_ALIAS_CHALLENGER = "model.alias.challenger"
    MODEL_RELOAD = "model.reload"
    MODEL_RELOAD_FAILED = "model.reload_failed"
    MONITORING_RUN = "monitoring.run"
    MONITORING_ALERT = "monitoring.alert"
    MONITORING_ALERT_RESOLVED = "monitoring.alert_resolved"
    RETRAIN_STARTED = "monitoring.retrain.started"
    RETRAIN_SKIPPED = "monitoring.retrain.skipped"
    RETRAIN_FAILED = "monitoring.retrain.failed"
    RETRAIN_FINISHED = "monitoring.retrain.finished"
    RETRAIN_RELOAD = "monitoring.retrain.reload"
    BACKGROUND_RETRAIN_STARTED = "monitoring.background_retrain.started"
    BACKGROUND_RETRAIN_FINISHED = "monitoring.background_retrain.finished"
    BACKGROUND_RETRAIN_FAILED = "monitoring.background_retrain.failed"
    MAINTENANCE_PRUNE = "maintenance.prune"


# Actions written before the vocabulary was fixed; migration 0002 renames stored rows.
LEGACY_ACTIONS: dict[str, AuditAction] = {
    "alert": AuditAction.MONITORING_ALERT,
    "alert_resolved": AuditAction.MONITORING_ALERT_RESOLVED,
    "monitor.retrain.started": AuditAction.RETRAIN_STARTED,
    "monitor.retrain.skipped": AuditAction.RETRAIN_SKIPPED,
    "monitor.retrain.failed": AuditAction.RETRAIN_FAILED,
    "monitor.retrain.finished": AuditAction.RETRAIN_FINISHED,
    "monitor.retrain.reload": AuditAction.RETRAIN_RELOAD,
    "monitoring.retrain_started": AuditAction.BACKGROUND_RETRAIN_STARTED,
    "monitoring.retrain_finished": AuditAction.BACKGROUND_RETRAIN_FINISHED,
    "monitoring.retrain_failed": AuditAction.BACKGROUND_RETRAIN_FAILED,
}


def alias_action(alias: str) -> AuditAction:
    """The action recording a move of ``alias`` (champion or challenger)."""
    return AuditAction(f"model.alias.{alias}")


def record_event(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one audit event to ``session`` (flushed, so its id is known)."""
    event = AuditEvent(
        actor=actor,
        action=AuditAction(action).value,
        target=target,
        details=details or {},
        created_at=at or utcnow(),
    )
    session.add(event)
    session.flush()
    return event
