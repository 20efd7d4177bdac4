"""The audit trail of alias moves: one ``audit_event`` per move, replayed for rollback.

Rows are written only through :func:`attrition.audit.record_event` (action
``model.alias.<alias>``). The database must be migrated already: the commands that move
aliases migrate it when they start, never this module.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from attrition.audit import alias_action, record_event
from attrition.db.engine import session_scope
from attrition.db.models import AuditEvent


@dataclass(frozen=True, slots=True)
class AliasMove:
    """One alias move: which alias, to which version, from which, why, by whom."""

    model_name: str
    alias: str
    version: str
    previous: str | None
    kind: str
    reason: str
    actor: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_move(move: AliasMove, database_url: str) -> None:
    """Write one alias move to the audit trail."""
    with session_scope(database_url) as session:
        record_event(
            session,
            actor=move.actor,
            action=alias_action(move.alias),
            target=f"{move.model_name}/{move.version}",
            details=move.to_dict(),
        )


def alias_history(alias: str, *, model_name: str, database_url: str) -> list[AliasMove]:
    """The moves of ``alias`` for the model, oldest first, from the audit trail."""
    with session_scope(database_url) as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == alias_action(alias).value)
            .order_by(AuditEvent.id)
        ).all()
        details = [dict(row.details) for row in rows]
    return [AliasMove(**d) for d in details if d.get("model_name") == model_name]


def champion_stack(moves: list[AliasMove]) -> list[str]:
    """Replay champion moves: promotions push a version, rollbacks pop (pure)."""
    stack: list[str] = []
    for move in moves:
        if move.kind == "rollback":
            while stack and stack[-1] != move.version:
                stack.pop()
            if not stack:
                stack.append(move.version)
        elif not stack or stack[-1] != move.version:
            stack.append(move.version)
    return stack
