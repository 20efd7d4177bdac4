"""`attrition erase`: every row of one person goes, a tombstone and an audit event stay,
and rows still queued when it runs are dropped when written."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from attrition.cli import app
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import (
    AuditEvent,
    EmployeeSnapshot,
    ErasureTombstone,
    Outcome,
    PredictionLog,
)
from attrition.privacy import pseudonymise
from attrition.settings import get_settings

runner = CliRunner()


def last_json(output: str) -> dict[str, Any]:
    return dict(json.loads(output.strip().splitlines()[-1]))


@pytest.fixture
def serving_env(sqlite_url: str) -> str:
    """The configured database, migrated."""
    upgrade(sqlite_url)
    return sqlite_url


def test_erase_deletes_every_row_of_the_person_and_keeps_a_tombstone(serving_env: str) -> None:
    secret = get_settings().pseudonym_secret()
    key, other = pseudonymise(42, secret), pseudonymise(43, secret)
    with session_scope(serving_env) as session:
        for employee_key in (key, other):
            session.add(
                EmployeeSnapshot(
                    snapshot_date=date(2026, 1, 1),
                    employee_key=employee_key,
                    attrition=False,
                    features={},
                )
            )
            session.add(
                PredictionLog(
                    prediction_id=employee_key[:36],
                    request_id="r",
                    employee_key=employee_key,
                    model_name="m",
                    model_version="1",
                    probability=0.1,
                    at_risk=False,
                    threshold=0.5,
                    features={},
                )
            )
            session.add(
                Outcome(employee_key=employee_key, left=True, outcome_date=date(2026, 2, 1))
            )
    result = runner.invoke(app, ["erase", "42", "--json"])
    assert result.exit_code == 0, result.output
    counts = last_json(result.output)["rows_deleted"]
    assert counts == {
        "employee_snapshot": 1,
        "quarantine_row": 0,
        "prediction_log": 1,
        "outcome": 1,
        "spool": 0,
    }
    with session_scope(serving_env) as session:
        for table in (EmployeeSnapshot, PredictionLog, Outcome):
            keys = session.scalars(select(table.employee_key)).all()
            assert keys == [other]
        tombstone = session.scalars(select(ErasureTombstone)).one()
        assert tombstone.employee_key == key
        assert tombstone.rows_deleted == {k: n for k, n in counts.items() if k != "spool"}
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "employee.erase")
        ).one()
        assert event.target == key and "42" not in json.dumps(event.details)


def test_rows_queued_before_an_erasure_are_dropped_when_written(serving_env: str) -> None:
    from attrition.db.engine import get_engine
    from attrition.db.types import utcnow
    from attrition.serving.predlog.writer import insert_ignoring_duplicates

    secret = get_settings().pseudonym_secret()
    answered_at = utcnow()
    assert runner.invoke(app, ["erase", "7"]).exit_code == 0
    late = {
        "prediction_id": "p-late",
        "request_id": "r",
        "employee_key": pseudonymise(7, secret),
        "model_name": "m",
        "model_version": "1",
        "probability": 0.2,
        "at_risk": False,
        "threshold": 0.5,
        "features": {},
        "client": None,
        "source": "api",
        "created_at": answered_at,
    }
    insert_ignoring_duplicates(get_engine(serving_env))([late])
    with session_scope(serving_env) as session:
        assert session.scalar(select(func.count()).select_from(PredictionLog)) == 0


def _raw_bytes(database: Path) -> bytes:
    files = (database, database.with_name(database.name + "-wal"))
    return b"".join(path.read_bytes() for path in files if path.exists())


def test_an_erased_row_is_gone_from_the_sqlite_files_and_the_write_ahead_log(
    serving_env: str,
) -> None:
    secret = get_settings().pseudonym_secret()
    with session_scope(serving_env) as session:
        for number, income in ((42, 987_651), (43, 123_457)):
            session.add(
                EmployeeSnapshot(
                    snapshot_date=date(2026, 1, 1),
                    employee_key=pseudonymise(number, secret),
                    attrition=False,
                    features={"MonthlyIncome": income, "MaritalStatus": "Divorced"},
                )
            )
    database = Path(make_url(serving_env).database or "")
    assert b"987651" in _raw_bytes(database)
    assert runner.invoke(app, ["erase", "42"]).exit_code == 0
    raw = _raw_bytes(database)
    assert b"987651" not in raw and b"123457" in raw
    wal = database.with_name(database.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_erase_removes_the_persons_rows_from_closed_spool_segments_and_skips_a_live_one(
    serving_env: str,
) -> None:
    import fcntl

    import orjson

    from attrition.serving.predlog.spool import spool_folder

    secret = get_settings().pseudonym_secret()
    key, other = pseudonymise(42, secret), pseudonymise(43, secret)
    folder = spool_folder(get_settings().var_dir)
    folder.mkdir(parents=True)
    rows = [{"employee_key": k, "features": {"MonthlyIncome": 987_651}} for k in (key, other)]
    (folder / "1-1-000001.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    (folder / "1-1-000002.jsonl").write_bytes(orjson.dumps(rows[0]) + b"\n")
    live = folder / "1-2-000001.jsonl"
    live.write_bytes(orjson.dumps(rows[0]) + b"\n")
    with live.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # a running API's active segment
        result = runner.invoke(app, ["erase", "42", "--json"])
    assert result.exit_code == 0, result.output
    assert last_json(result.output)["rows_deleted"]["spool"] == 2
    assert sorted(p.name for p in folder.iterdir()) == ["1-1-000001.jsonl", live.name]
    kept = [orjson.loads(line) for line in (folder / "1-1-000001.jsonl").read_bytes().split()]
    assert [row["employee_key"] for row in kept] == [other]
