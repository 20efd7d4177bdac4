"""refused inputs: the fields and reasons of request bodies the API answered 422 (no values)

Revision ID: 0003_refused_inputs
Revises: 0002
Create Date: 2026-12-06 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from attrition.db.types import UTCDateTime

revision: str = "0003_refused_inputs"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refused_input",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=128), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_input")),
    )
    with op.batch_alter_table("refused_input", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refused_input_request_id"), ["request_id"])
        batch_op.create_index(batch_op.f("ix_refused_input_created_at"), ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("refused_input", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refused_input_created_at"))
        batch_op.drop_index(batch_op.f("ix_refused_input_request_id"))
    op.drop_table("refused_input")
