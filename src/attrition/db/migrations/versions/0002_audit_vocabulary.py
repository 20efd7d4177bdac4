"""audit actions: one vocabulary (rename the actions stored before it was fixed)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (not imported) so the migration keeps meaning what it meant when written.
RENAMED = {
    "alert": "monitoring.alert",
    "alert_resolved": "monitoring.alert_resolved",
    "monitor.retrain.started": "monitoring.retrain.started",
    "monitor.retrain.skipped": "monitoring.retrain.skipped",
    "monitor.retrain.failed": "monitoring.retrain.failed",
    "monitor.retrain.finished": "monitoring.retrain.finished",
    "monitor.retrain.reload": "monitoring.retrain.reload",
    "monitoring.retrain_started": "monitoring.background_retrain.started",
    "monitoring.retrain_finished": "monitoring.background_retrain.finished",
    "monitoring.retrain_failed": "monitoring.background_retrain.failed",
}
AUDIT = sa.table("audit_event", sa.column("action", sa.String(64)))


def _rename(pairs: dict[str, str]) -> None:
    for old, new in pairs.items():
        op.execute(AUDIT.update().where(AUDIT.c.action == old).values(action=new))


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMED.items()})
