"""Erasure of one person's data, by pseudonym, with a tombstone and an audit event."""

from __future__ import annotations

from sqlalchemy import delete

from attrition.audit import AuditAction, record_event
from attrition.db.engine import session_scope
from attrition.db.models import (
    EmployeeSnapshot,
    ErasureTombstone,
    Outcome,
    PredictionLog,
    QuarantineRow,
)
from attrition.errors import AttritionError
from attrition.privacy.pseudonyms import pseudonymise
from attrition.schema import IDENTIFIER, IDENTIFIER_RANGE

_TABLES = (EmployeeSnapshot, QuarantineRow, PredictionLog, Outcome)


def erase_employee(
    employee_number: int, *, database_url: str, secret: bytes, actor: str = "cli"
) -> dict[str, int]:
    """Delete every row keyed by the person's pseudonym; returns rows deleted per table.

    The tombstone keeps only the pseudonym and the counts. Prediction-log rows still in a
    server's queue or spool when this runs are dropped when they are written (the writer
    deletes rows older than a tombstone for the same pseudonym).
    """
    low, high = IDENTIFIER_RANGE
    if not low <= employee_number <= high:
        raise AttritionError(f"{IDENTIFIER}: must be an integer from {low} to {high}")
    key = pseudonymise(employee_number, secret)
    counts: dict[str, int] = {}
    with session_scope(database_url) as session:
        for table in _TABLES:
            result = session.execute(delete(table).where(table.employee_key == key))
            counts[str(table.__tablename__)] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        session.add(ErasureTombstone(employee_key=key, actor=actor, rows_deleted=counts))
        record_event(
            session, actor=actor, action=AuditAction.EMPLOYEE_ERASE, target=key, details=counts
        )
    return counts
