"""`maintenance prune` deletes refused-input counts past the prediction-log retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import RefusedInput
from attrition.operations import maintenance


def test_old_refused_inputs_are_pruned(database_url: str) -> None:
    upgrade(database_url)
    now = datetime.now(UTC)
    with session_scope(database_url) as session:
        for age_days in (400, 1):
            session.add(
                RefusedInput(
                    request_id=f"r{age_days}", route="/v1/predictions", field="Age",
                    reason="int_type", count=1, created_at=now - timedelta(days=age_days),
                )
            )  # fmt: skip
    assert maintenance.prune_refused_inputs(database_url, now - timedelta(days=365)) == 1
    with session_scope(database_url) as session:
        left = session.scalars(select(RefusedInput.request_id)).all()
        assert left == ["r1"]
        assert session.scalar(select(func.count()).select_from(RefusedInput)) == 1
