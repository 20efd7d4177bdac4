"""The audit trail: one vocabulary, one recorder, legacy rows renamed by a migration."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select, text

from attrition.audit import LEGACY_ACTIONS, AuditAction, alias_action, record_event
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import AuditEvent

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference.md"


def test_every_action_is_documented() -> None:
    text_ = REFERENCE.read_text()
    for action in AuditAction:
        verb = action.value.rpartition(".")[2]
        assert f"`{action.value}`" in text_ or f"`.{verb}`" in text_, action


def test_record_event_writes_a_vocabulary_action(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    with session_scope(sqlite_url) as session:
        event = record_event(session, actor="cli", action=AuditAction.EMPLOYEE_ERASE, target="k")
        assert event.id is not None
    with session_scope(sqlite_url) as session:
        stored = session.scalars(select(AuditEvent)).one()
    assert (stored.actor, stored.action, stored.target, stored.details) == (
        "cli", "employee.erase", "k", {}
    )  # fmt: skip


def test_alias_moves_have_one_action_per_alias() -> None:
    assert alias_action("champion") is AuditAction.MODEL_ALIAS_CHAMPION
    assert alias_action("challenger") is AuditAction.MODEL_ALIAS_CHALLENGER


def test_the_migration_renames_actions_written_before_the_vocabulary(sqlite_url: str) -> None:
    upgrade(sqlite_url, revision="0001")
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        for old in [*LEGACY_ACTIONS, "api_key.create"]:
            connection.execute(
                text(
                    "INSERT INTO audit_event (actor, action, details, created_at) "
                    "VALUES ('x', :action, '{}', '2026-01-01 00:00:00')"
                ),
                {"action": old},
            )
    upgrade(sqlite_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT action FROM audit_event ORDER BY id"))
        actions = [row[0] for row in rows]
    engine.dispose()
    assert actions == [*(new.value for new in LEGACY_ACTIONS.values()), "api_key.create"]
    assert set(actions) <= {a.value for a in AuditAction}
