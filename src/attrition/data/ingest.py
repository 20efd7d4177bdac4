"""Validated ingest of an HR snapshot CSV into ``employee_snapshot`` and ``quarantine_row``.

Idempotency rule: a snapshot date holds exactly one file. Ingesting a file for date D
replaces, in one transaction, everything an earlier ingest stored for D (its
``employee_snapshot`` rows, its ``quarantine_row`` rows and its ``ingest_batch`` record).
Re-ingesting the same file for the same date therefore leaves the same table contents
(surrogate ids and timestamps aside); ingesting a different file for D replaces D, and
the result says how many earlier rows it replaced.

Employee ids are never stored: valid rows are keyed by ``pseudonymise(EmployeeNumber)``,
and in quarantined rows the raw id is replaced by its pseudonym (or redacted when it is
not an integer). The database must already be migrated (``attrition db upgrade``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from attrition.data.reading import read_csv_table
from attrition.data.tables import require_tables
from attrition.data.validation import FieldError, RejectedRow, ValidationResult, validate_table
from attrition.db.engine import get_engine
from attrition.db.models import EmployeeSnapshot, IngestBatch, QuarantineRow
from attrition.db.types import utcnow
from attrition.errors import AttritionError
from attrition.privacy import pseudonymise
from attrition.schema import FEATURE_NAMES, IDENTIFIER, POSITIVE_LABEL, TARGET

logger = logging.getLogger(__name__)

REDACTED_ID = "<redacted: not an integer>"
_TABLES = (IngestBatch.__tablename__, EmployeeSnapshot.__tablename__, QuarantineRow.__tablename__)


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one ingest read, loaded and quarantined."""

    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    snapshot_date: date
    batch_id: int
    source: str
    warnings: list[str]
    replaced_rows: int
    top_reasons: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings."""
        return {**asdict(self), "snapshot_date": self.snapshot_date.isoformat()}


def ingest_file(
    path: Path,
    snapshot_date: date | None,
    database_url: str,
    *,
    pseudonym_key: bytes,
) -> IngestResult:
    """Validate ``path`` and load it as the snapshot of ``snapshot_date`` (None: today, UTC)
    into ``database_url``, employee ids pseudonymised with ``pseudonym_key``."""
    engine = get_engine(database_url)
    require_tables(engine, *_TABLES)
    table = read_csv_table(path)
    result = validate_table(table)
    snapshots = snapshot_records(result.valid, pseudonym_key)
    quarantined = quarantine_records(result.rejected, pseudonym_key)
    day = snapshot_date or datetime.now(UTC).date()
    batch = _Batch(day, path.name[:255], table.sha256, utcnow())
    batch_id, replaced = _store(engine, batch, result.rows_read, snapshots, quarantined)
    outcome = _outcome(result, batch, batch_id, replaced)
    logger.info(
        "ingested snapshot %s: %d read, %d loaded, %d quarantined (batch %d)",
        day.isoformat(),
        outcome.rows_read,
        outcome.rows_loaded,
        outcome.rows_quarantined,
        batch_id,
    )
    return outcome


def _outcome(result: ValidationResult, batch: _Batch, batch_id: int, replaced: int) -> IngestResult:
    day = batch.snapshot_date.isoformat()
    warnings = list(result.warnings)
    if replaced:
        warnings.append(f"replaced {replaced} row(s) stored earlier for snapshot {day}")
    return IngestResult(
        rows_read=result.rows_read,
        rows_loaded=len(result.valid),
        rows_quarantined=len(result.rejected),
        snapshot_date=batch.snapshot_date,
        batch_id=batch_id,
        source=batch.source_name,
        warnings=warnings,
        replaced_rows=replaced,
        top_reasons=[
            {"field": name, "reason": reason, "rows": rows}
            for name, reason, rows in result.top_reasons()
        ],
    )


@dataclass(frozen=True, slots=True)
class _Batch:
    snapshot_date: date
    source_name: str
    file_sha256: str
    at: datetime


def _store(
    engine: Engine,
    batch: _Batch,
    rows_read: int,
    snapshots: list[dict[str, Any]],
    quarantined: list[dict[str, Any]],
) -> tuple[int, int]:
    """Replace the snapshot in one transaction; returns (batch id, rows replaced)."""
    day = batch.snapshot_date
    source = {"source_name": batch.source_name, "file_sha256": batch.file_sha256}
    counts = {"rows_read": rows_read, "rows_loaded": len(snapshots)}
    try:
        with engine.begin() as connection:
            replaced = _delete_snapshot(connection, day)
            batch_id = _insert_batch(
                connection,
                {**source, **counts, "rows_quarantined": len(quarantined)},
                day,
                batch.at,
            )
            common = {"snapshot_date": day, "batch_id": batch_id}
            _insert_many(
                connection, EmployeeSnapshot, snapshots, {**common, "ingested_at": batch.at}
            )
            quarantine_common = {**common, **source, "quarantined_at": batch.at}
            _insert_many(connection, QuarantineRow, quarantined, quarantine_common)
    except IntegrityError:
        raise AttritionError(
            f"another ingest of snapshot {day.isoformat()} ran at the same time; run it again"
        ) from None
    return batch_id, replaced


def snapshot_records(valid: pd.DataFrame, key: bytes) -> list[dict[str, Any]]:
    """``employee_snapshot`` values for validated rows: pseudonym, label, features."""
    names = list(FEATURE_NAMES)
    # itertuples yields Python scalars (JSON-safe), far faster than to_dict("records").
    features = [dict(zip(names, v, strict=True)) for v in valid[names].itertuples(index=False)]
    keys = [pseudonymise(int(number), key) for number in valid[IDENTIFIER]]
    if TARGET in valid.columns:
        attrition = [None if label is None else label == POSITIVE_LABEL for label in valid[TARGET]]
    else:
        attrition = [None] * len(valid)
    return [
        {"employee_key": k, "attrition": a, "features": f}
        for k, a, f in zip(keys, attrition, features, strict=True)
    ]


def quarantine_records(rejected: Sequence[RejectedRow], key: bytes) -> list[dict[str, Any]]:
    """``quarantine_row`` values: raw values and reasons with the employee id pseudonymised."""
    records = []
    for row in rejected:
        raw_id = row.raw.get(IDENTIFIER)
        token = _pseudonym(raw_id, key)
        masked = token if token is not None or raw_id is None else REDACTED_ID
        raw = {**row.raw, IDENTIFIER: masked} if IDENTIFIER in row.raw else dict(row.raw)
        records.append(
            {
                "row_number": row.row_number,
                "employee_key": token,
                "raw": raw,
                "errors": [_mask_error(error, masked) for error in row.errors],
            }
        )
    return records


def _pseudonym(value: str | None, key: bytes) -> str | None:
    if value is None:
        return None
    try:
        return pseudonymise(value.strip(), key)
    except ValueError:
        return None


def _mask_error(error: FieldError, masked_id: str | None) -> dict[str, Any]:
    if error["field"] != IDENTIFIER:
        return dict(error)
    return {**error, "value": masked_id}


def _delete_snapshot(connection: Connection, day: date) -> int:
    """Remove what earlier ingests stored for ``day``; returns the data rows removed."""
    removed = 0
    for model in (EmployeeSnapshot, QuarantineRow):
        outcome = connection.execute(delete(model).where(model.snapshot_date == day))
        removed += outcome.rowcount
    connection.execute(delete(IngestBatch).where(IngestBatch.snapshot_date == day))
    return removed


def _insert_batch(connection: Connection, values: dict[str, Any], day: date, at: datetime) -> int:
    statement = (
        insert(IngestBatch)
        .values(**values, snapshot_date=day, ingested_at=at)
        .returning(IngestBatch.id)
    )
    return int(connection.execute(statement).scalar_one())


def _insert_many(
    connection: Connection, model: type[Any], rows: list[dict[str, Any]], common: dict[str, Any]
) -> None:
    """One bulk (executemany) insert of ``rows``, each completed with ``common``."""
    if rows:
        connection.execute(insert(model), [{**common, **row} for row in rows])
