"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 15:23:53.966883
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from attrition.db.types import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_key_key_id")),
    )
    op.create_table(
        "audit_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_created_at"), ["created_at"], unique=False)

    op.create_table(
        "drift_report",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model_name", sa.String(length=255), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("reference_rows", sa.Integer(), nullable=False),
        sa.Column("current_rows", sa.Integer(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=True),
        sa.Column("window_end", UTCDateTime(), nullable=True),
        sa.Column("dataset_drift", sa.Boolean(), nullable=False),
        sa.Column("drift_share", sa.Float(), nullable=False),
        sa.Column("prediction_drift", sa.Boolean(), nullable=False),
        sa.Column("performance_decay", sa.Boolean(), nullable=False),
        sa.Column(
            "drifted_features",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "summary",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("alert_sent", sa.Boolean(), nullable=False),
        sa.Column("retrained", sa.Boolean(), nullable=False),
        sa.Column("new_version", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_report")),
    )
    with op.batch_alter_table("drift_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_drift_report_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "erasure_tombstone",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("employee_key", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column(
            "rows_deleted",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("erased_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_tombstone")),
    )
    with op.batch_alter_table("erasure_tombstone", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erasure_tombstone_employee_key"), ["employee_key"], unique=False
        )

    op.create_table(
        "ingest_batch",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_loaded", sa.Integer(), nullable=False),
        sa.Column("rows_quarantined", sa.Integer(), nullable=False),
        sa.Column("ingested_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batch")),
    )
    with op.batch_alter_table("ingest_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_batch_file_sha256"), ["file_sha256"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ingest_batch_snapshot_date"), ["snapshot_date"], unique=False
        )

    op.create_table(
        "outcome",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("employee_key", sa.String(length=64), nullable=False),
        sa.Column("left", sa.Boolean(), nullable=False),
        sa.Column("outcome_date", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome")),
        sa.UniqueConstraint("employee_key", "outcome_date", name=op.f("uq_outcome_employee_key")),
    )
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outcome_employee_key"), ["employee_key"], unique=False)

    op.create_table(
        "prediction_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("prediction_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("employee_key", sa.String(length=64), nullable=True),
        sa.Column("model_name", sa.String(length=255), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column(
            "features",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_log")),
        sa.UniqueConstraint("prediction_id", name=op.f("uq_prediction_log_prediction_id")),
    )
    with op.batch_alter_table("prediction_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prediction_log_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_prediction_log_employee_key"), ["employee_key"], unique=False
        )
        batch_op.create_index(
            "ix_prediction_log_model", ["model_name", "model_version"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_prediction_log_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "employee_snapshot",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("employee_key", sa.String(length=64), nullable=False),
        sa.Column("attrition", sa.Boolean(), nullable=True),
        sa.Column(
            "features",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("ingested_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.id"],
            name=op.f("fk_employee_snapshot_batch_id_ingest_batch"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employee_snapshot")),
        sa.UniqueConstraint(
            "snapshot_date", "employee_key", name=op.f("uq_employee_snapshot_snapshot_date")
        ),
    )
    with op.batch_alter_table("employee_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_employee_snapshot_employee_key"), ["employee_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_employee_snapshot_snapshot_date"), ["snapshot_date"], unique=False
        )

    op.create_table(
        "quarantine_row",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("employee_key", sa.String(length=64), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("quarantined_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.id"],
            name=op.f("fk_quarantine_row_batch_id_ingest_batch"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_row")),
    )
    with op.batch_alter_table("quarantine_row", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quarantine_row_employee_key"), ["employee_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quarantine_row_file_sha256"), ["file_sha256"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quarantine_row_snapshot_date"), ["snapshot_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("quarantine_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_row_snapshot_date"))
        batch_op.drop_index(batch_op.f("ix_quarantine_row_file_sha256"))
        batch_op.drop_index(batch_op.f("ix_quarantine_row_employee_key"))

    op.drop_table("quarantine_row")
    with op.batch_alter_table("employee_snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_employee_snapshot_snapshot_date"))
        batch_op.drop_index(batch_op.f("ix_employee_snapshot_employee_key"))

    op.drop_table("employee_snapshot")
    with op.batch_alter_table("prediction_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prediction_log_request_id"))
        batch_op.drop_index("ix_prediction_log_model")
        batch_op.drop_index(batch_op.f("ix_prediction_log_employee_key"))
        batch_op.drop_index(batch_op.f("ix_prediction_log_created_at"))

    op.drop_table("prediction_log")
    with op.batch_alter_table("outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_employee_key"))

    op.drop_table("outcome")
    with op.batch_alter_table("ingest_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_batch_snapshot_date"))
        batch_op.drop_index(batch_op.f("ix_ingest_batch_file_sha256"))

    op.drop_table("ingest_batch")
    with op.batch_alter_table("erasure_tombstone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_tombstone_employee_key"))

    op.drop_table("erasure_tombstone")
    with op.batch_alter_table("drift_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drift_report_created_at"))

    op.drop_table("drift_report")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))

    op.drop_table("audit_event")
    op.drop_table("api_key")
