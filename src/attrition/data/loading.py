"""Reading training data back from the database: one function, one snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from attrition.data.tables import require_tables
from attrition.data.validation import typed_frame
from attrition.db.engine import get_engine
from attrition.db.models import EmployeeSnapshot
from attrition.errors import AttritionError
from attrition.schema import FEATURE_NAMES, NEGATIVE_LABEL, POSITIVE_LABEL, TARGET

EMPLOYEE_KEY = "employee_key"
_LABELLED = EmployeeSnapshot.attrition.is_not(None)


def load_training_frame(database_url: str, snapshot_date: date | None = None) -> pd.DataFrame:
    """The labelled rows of one snapshot as a typed frame, in ingest (file) order.

    Without ``snapshot_date``, the newest snapshot that has labelled rows. Columns:
    ``employee_key`` (the pseudonym), every schema feature (int64 numerics, str
    categoricals) and ``Attrition`` ("Yes"/"No"); ``frame.attrs["snapshot_date"]`` is the
    snapshot's ISO date. Unlabelled rows (no Attrition) are left out.
    """
    engine = get_engine(database_url)
    require_tables(engine, EmployeeSnapshot.__tablename__)
    with engine.connect() as connection:
        day = snapshot_date or _newest_labelled_snapshot(connection)
        rows = (
            connection.execute(
                select(
                    EmployeeSnapshot.employee_key,
                    EmployeeSnapshot.attrition,
                    EmployeeSnapshot.features,
                )
                .where(EmployeeSnapshot.snapshot_date == day, _LABELLED)
                .order_by(EmployeeSnapshot.id)
            )
            .tuples()
            .all()
        )
        if not rows:
            raise AttritionError(_no_rows_message(day, _labelled_snapshots(connection)))
    frame = training_frame(rows)
    frame.attrs["snapshot_date"] = day.isoformat()
    return frame


def training_frame(rows: Sequence[tuple[str, bool | None, dict[str, Any]]]) -> pd.DataFrame:
    """Pure: (employee_key, attrition, features) rows to the typed training frame."""
    features = pd.DataFrame.from_records([row[2] for row in rows])
    missing = [name for name in FEATURE_NAMES if name not in features.columns]
    if missing:
        raise AttritionError(
            f"stored snapshot rows lack feature(s) {', '.join(missing)}; ingest the file again"
        )
    frame = typed_frame(features.loc[:, list(FEATURE_NAMES)])
    frame.insert(0, EMPLOYEE_KEY, [row[0] for row in rows])
    frame[TARGET] = [POSITIVE_LABEL if row[1] else NEGATIVE_LABEL for row in rows]
    return frame


def _newest_labelled_snapshot(connection: Connection) -> date:
    newest = connection.execute(select(func.max(EmployeeSnapshot.snapshot_date)).where(_LABELLED))
    day = newest.scalar_one_or_none()
    if day is None:
        raise AttritionError(
            "no labelled employee rows in the database; load a file with an Attrition "
            "column first: `attrition data ingest FILE`"
        )
    return day


def _labelled_snapshots(connection: Connection) -> list[date]:
    dates = select(EmployeeSnapshot.snapshot_date).where(_LABELLED).distinct()
    return sorted(connection.execute(dates).scalars(), reverse=True)


def _no_rows_message(day: date, available: list[date]) -> str:
    shown = ", ".join(d.isoformat() for d in available[:10]) or "none"
    return f"snapshot {day.isoformat()} has no labelled rows; snapshots with labels: {shown}"
