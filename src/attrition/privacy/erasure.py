"""Erasure of one person's data, by pseudonym, with a tombstone and an audit event.

What the database held is gone from its files too: SQLite connections run with
``secure_delete`` (deleted cells and freed pages are overwritten with zeros), and after the
erasure the write-ahead log, which still holds the pages as they were, is checkpointed into
the database and truncated. Nothing else the project writes holds a linkable row (the
model's input example is synthetic, the drift reference holds no rows, reports hold
aggregates); what erasure cannot reach (backups, PostgreSQL's dead tuples until vacuumed,
models trained on the person) is listed in docs/security.md with when it expires.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.engine import make_url

from attrition.audit import AuditAction, record_event
from attrition.db.engine import get_engine, session_scope
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
from attrition.serving.predlog.spool import scrub

ERASED_TABLES = (EmployeeSnapshot, QuarantineRow, PredictionLog, Outcome)
_RECORDED_AT: dict[Any, Any] = {
    EmployeeSnapshot: EmployeeSnapshot.ingested_at,
    QuarantineRow: QuarantineRow.quarantined_at,
    PredictionLog: PredictionLog.created_at,
    Outcome: Outcome.recorded_at,
}


def erase_employee(
    employee_number: int,
    *,
    database_url: str,
    secret: bytes,
    actor: str = "cli",
    spool: Path | None = None,
) -> dict[str, int]:
    """Delete every row keyed by the person's pseudonym; returns rows deleted per table.

    The tombstone keeps only the pseudonym and the counts. Prediction-log rows still in a
    server's queue or spool when this runs are dropped when they are written (the writer
    deletes rows older than a tombstone for the same pseudonym); with ``spool`` (the API's
    spool folder) they are also removed from the closed segments now (``counts["spool"]``).
    """
    low, high = IDENTIFIER_RANGE
    if not low <= employee_number <= high:
        raise AttritionError(f"{IDENTIFIER}: must be an integer from {low} to {high}")
    key = pseudonymise(employee_number, secret)
    counts: dict[str, int] = {}
    with session_scope(database_url) as session:
        for table in ERASED_TABLES:
            result = session.execute(delete(table).where(table.employee_key == key))
            counts[str(table.__tablename__)] = int(result.rowcount or 0)  # type: ignore[attr-defined]
        session.add(ErasureTombstone(employee_key=key, actor=actor, rows_deleted=counts))
        record_event(
            session, actor=actor, action=AuditAction.EMPLOYEE_ERASE, target=key, details=counts
        )
    truncate_wal(database_url)
    if spool is not None:  # rows an API spooled during a database outage
        counts["spool"] = scrub(spool, {key})
    return counts


def truncate_wal(database_url: str) -> None:
    """Copy a SQLite database's write-ahead log into it and empty the log (no-op elsewhere).

    Waits (``busy_timeout``) for readers of older pages; if one still holds them the
    erasure is done but not yet out of the log, and the user is told to run it again."""
    if make_url(database_url).get_backend_name() != "sqlite":
        return
    with get_engine(database_url).connect() as connection:
        busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
    if busy:
        raise AttritionError(
            "the rows are deleted, but another process is still reading the SQLite database, "
            "so its write-ahead log keeps old pages; run the erasure again when it is idle"
        )


def tombstones(connection: Connection) -> list[dict[str, Any]]:
    """Every erasure recorded in the database (to carry over a restore that replaces it)."""
    table = ErasureTombstone.__table__
    rows = connection.execute(select(table).order_by(table.c.id)).mappings()
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def reapply_erasures(connection: Connection, erased: list[dict[str, Any]]) -> int:
    """Erase again, in restored data, what each tombstone's erasure deleted (the person's
    rows recorded up to its time; later rows are new data), and keep the tombstones; how
    many tombstones were applied. A backup older than an erasure would otherwise bring the
    person back."""
    for row in erased:
        key, erased_at = row["employee_key"], row["erased_at"]
        for model, stamp in _RECORDED_AT.items():
            connection.execute(delete(model).where(model.employee_key == key, stamp <= erased_at))
    table = ErasureTombstone.__table__
    present = {(r.employee_key, r.erased_at) for r in connection.execute(select(table))}
    missing = [row for row in erased if (row["employee_key"], row["erased_at"]) not in present]
    if missing:
        connection.execute(insert(ErasureTombstone), missing)
    return len(erased)
