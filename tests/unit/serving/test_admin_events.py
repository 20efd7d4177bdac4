"""Actions of API keys are audited with the key id; a database outage loses the event
(logged), never the action."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from attrition.audit import AuditAction
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import AuditEvent
from attrition.serving.admin_events import record_admin_event
from attrition.serving.platform.api_keys import Principal, Role

WHO = Principal(key_id="0123456789abcdef", name="ops", role=Role.admin)


def state(url: str) -> SimpleNamespace:
    return SimpleNamespace(settings=SimpleNamespace(database_url=url))


def test_an_event_names_the_key(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    record_admin_event(state(sqlite_url), WHO, AuditAction.MODEL_RELOAD, "3", {"x": 1})  # type: ignore[arg-type]
    with session_scope(sqlite_url) as session:
        event = session.scalars(select(AuditEvent)).one()
    assert (event.actor, event.action, event.target) == (
        "key:0123456789abcdef",
        "model.reload",
        "3",
    )


def test_an_outage_is_logged_not_raised(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    record_admin_event(state(sqlite_url), WHO, AuditAction.MODEL_RELOAD, "3", {})  # type: ignore[arg-type]
    assert "not recorded" in caplog.text
