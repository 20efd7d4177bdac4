"""Tables of docs/reference.md. Employee ids are stored only as keyed pseudonyms."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from attrition.db.types import JSONType, UTCDateTime, utcnow

# Stable constraint names so Alembic migrations are identical on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")
KEY_LEN = 64  # hex HMAC-SHA256


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IngestBatch(Base):
    """One ingest of one file: what was read, loaded and quarantined."""

    __tablename__ = "ingest_batch"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    snapshot_date: Mapped[date] = mapped_column(Date, index=True)
    source_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    rows_read: Mapped[int] = mapped_column(Integer)
    rows_loaded: Mapped[int] = mapped_column(Integer)
    rows_quarantined: Mapped[int] = mapped_column(Integer)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmployeeSnapshot(Base):
    """A validated employee row as of a snapshot date."""

    __tablename__ = "employee_snapshot"
    __table_args__ = (UniqueConstraint("snapshot_date", "employee_key"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    snapshot_date: Mapped[date] = mapped_column(Date, index=True)
    employee_key: Mapped[str] = mapped_column(String(KEY_LEN), index=True)
    attrition: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    features: Mapped[dict[str, Any]] = mapped_column(JSONType)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("ingest_batch.id", ondelete="SET NULL"), nullable=True
    )
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuarantineRow(Base):
    """A rejected input row with one reason per offending field."""

    __tablename__ = "quarantine_row"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    snapshot_date: Mapped[date] = mapped_column(Date, index=True)
    source_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    employee_key: Mapped[str | None] = mapped_column(String(KEY_LEN), nullable=True, index=True)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("ingest_batch.id", ondelete="SET NULL"), nullable=True
    )
    quarantined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PredictionLog(Base):
    """Every answered prediction: who asked, which model, what it said, on what input."""

    __tablename__ = "prediction_log"
    __table_args__ = (Index("ix_prediction_log_model", "model_name", "model_version"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    prediction_id: Mapped[str] = mapped_column(String(36), unique=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    employee_key: Mapped[str | None] = mapped_column(String(KEY_LEN), nullable=True, index=True)
    model_name: Mapped[str] = mapped_column(String(255))
    model_version: Mapped[str] = mapped_column(String(32))
    probability: Mapped[float] = mapped_column(Float)
    at_risk: Mapped[bool] = mapped_column(Boolean)
    threshold: Mapped[float] = mapped_column(Float)
    features: Mapped[dict[str, Any]] = mapped_column(JSONType)
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="api")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class RefusedInput(Base):
    """A request body the API refused (422): which field failed and why, how often in that
    request. Never the value, never who sent it."""

    __tablename__ = "refused_input"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    route: Mapped[str] = mapped_column(String(128))
    field: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Outcome(Base):
    """A real result for an employee: left or stayed, as of a date."""

    __tablename__ = "outcome"
    __table_args__ = (UniqueConstraint("employee_key", "outcome_date"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    employee_key: Mapped[str] = mapped_column(String(KEY_LEN), index=True)
    left: Mapped[bool] = mapped_column(Boolean)
    outcome_date: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DriftReport(Base):
    """One drift and performance check: its summary, verdicts and HTML report."""

    __tablename__ = "drift_report"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(String(255))
    model_version: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(255))
    reference_rows: Mapped[int] = mapped_column(Integer)
    current_rows: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dataset_drift: Mapped[bool] = mapped_column(Boolean)
    drift_share: Mapped[float] = mapped_column(Float)
    prediction_drift: Mapped[bool] = mapped_column(Boolean)
    performance_decay: Mapped[bool] = mapped_column(Boolean, default=False)
    drifted_features: Mapped[list[str]] = mapped_column(JSONType)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType)
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    alert_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    retrained: Mapped[bool] = mapped_column(Boolean, default=False)
    new_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ApiKey(Base):
    """An API key: public id, role and keyed hash of the secret (never the secret)."""

    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEvent(Base):
    """An administrative action: alias moves, key changes, erasures, retraining."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(255), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ErasureTombstone(Base):
    """Proof that a person's data was erased, holding only the pseudonym and counts."""

    __tablename__ = "erasure_tombstone"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    employee_key: Mapped[str] = mapped_column(String(KEY_LEN), index=True)
    actor: Mapped[str] = mapped_column(String(255))
    rows_deleted: Mapped[dict[str, int]] = mapped_column(JSONType)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
