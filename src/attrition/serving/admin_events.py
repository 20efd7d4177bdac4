"""The audit trail of what API keys do through the API (monitoring runs, reloads, the
background retrain they start)."""

from __future__ import annotations

import logging
from typing import Any

from attrition.audit import AuditAction, record_event
from attrition.db.engine import session_scope
from attrition.serving.platform.api_keys import Principal
from attrition.serving.state import ServingState

logger = logging.getLogger(__name__)


def record_admin_event(
    state: ServingState,
    who: Principal,
    action: AuditAction,
    target: str | None,
    details: dict[str, Any],
) -> None:
    """Record ``action`` by the key ``who``; a database outage is logged, not raised (the
    action itself has happened)."""
    try:
        with session_scope(state.settings.database_url) as session:
            record_event(
                session, actor=f"key:{who.key_id}", action=action, target=target, details=details
            )
    except Exception as error:
        logger.error("audit event %s not recorded: %s", action, type(error).__name__)
