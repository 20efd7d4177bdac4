"""Files built from the real dev data, and views of what ingest stored."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from attrition.db.engine import get_engine, session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import EmployeeSnapshot, IngestBatch, QuarantineRow

Records = tuple[list[str], list[list[str]]]


@pytest.fixture(scope="session")
def dev_records(dev_csv: Path) -> Records:
    """The header and every record of the real dev file, as strings."""
    rows = list(csv.reader(io.StringIO(dev_csv.read_text(), newline="")))
    return rows[0], rows[1:]


def csv_text(header: list[str], rows: list[list[str]], newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([header, *rows])
    return out.getvalue()


@pytest.fixture
def csv_text_of() -> Callable[..., str]:
    return csv_text


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session; tests get copies (fast, still isolated)."""
    path = tmp_path_factory.mktemp("template") / "attrition.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    get_engine(url).dispose()  # closing the last connection folds the WAL into the file
    return path


def _sqlite_copy(url: str, template: Path) -> str:
    database = make_url(url).database
    assert database is not None
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, database)
    return url


@pytest.fixture
def migrated(database_url: str, migrated_sqlite_template: Path) -> str:
    """The parametrised database (SQLite, PostgreSQL), migrated to head."""
    if database_url.startswith("sqlite"):
        return _sqlite_copy(database_url, migrated_sqlite_template)
    upgrade(database_url)
    return database_url


@pytest.fixture
def migrated_sqlite(sqlite_url: str, migrated_sqlite_template: Path) -> str:
    return _sqlite_copy(sqlite_url, migrated_sqlite_template)


def stored(url: str, day: date) -> dict[str, Any]:
    """What the database holds for one snapshot date."""
    with session_scope(url) as session:
        snapshots = session.scalars(
            select(EmployeeSnapshot).where(EmployeeSnapshot.snapshot_date == day)
        ).all()
        quarantined = session.scalars(
            select(QuarantineRow)
            .where(QuarantineRow.snapshot_date == day)
            .order_by(QuarantineRow.row_number)
        ).all()
        batches = session.scalars(select(IngestBatch).where(IngestBatch.snapshot_date == day)).all()
        return {
            "snapshots": [(s.employee_key, s.attrition, s.features, s.batch_id) for s in snapshots],
            "quarantine": [
                (q.row_number, q.employee_key, q.raw, q.errors, q.batch_id) for q in quarantined
            ],
            "batches": [
                (b.id, b.rows_read, b.rows_loaded, b.rows_quarantined, b.file_sha256)
                for b in batches
            ],
        }


def total_rows(url: str) -> int:
    with session_scope(url) as session:
        return sum(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (EmployeeSnapshot, QuarantineRow, IngestBatch)
        )


@pytest.fixture
def stored_rows() -> Callable[[str, date], dict[str, Any]]:
    return stored


@pytest.fixture
def count_all_rows() -> Callable[[str], int]:
    return total_rows
