"""The prediction-log writer: batched writes, a durable spool while the database is down,
replayed by the writer, and journals left by dead processes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from attrition.db.engine import get_engine, session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import PredictionLog
from attrition.serving.predlog.spool import Spool, spooled_rows
from attrition.serving.predlog.writer import PredictionLogWriter, insert_ignoring_duplicates
from attrition_testkit import prediction_log_row as row


class FlakySink:
    """A real database sink that can be switched off, like a database going down."""

    def __init__(self, url: str) -> None:
        self.inner = insert_ignoring_duplicates(get_engine(url))
        self.up = True
        self.calls = 0

    def __call__(self, rows: list[dict[str, Any]]) -> None:
        self.calls += 1
        if not self.up:
            raise ConnectionError("database down")
        self.inner(rows)


def stored(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(PredictionLog.request_id).order_by(PredictionLog.id)))


def wait(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.02)
    assert predicate()


def test_rows_are_written_in_batches_off_the_caller(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    sink = FlakySink(sqlite_url)
    writer = PredictionLogWriter(sink, tmp_path / "spool", flush_seconds=0.05)
    writer.start()
    for n in range(300):
        writer.submit([row(n)])
    wait(lambda: len(stored(sqlite_url)) == 300)
    writer.close()
    assert stored(sqlite_url) == [f"r{n}" for n in range(300)]
    assert sink.calls < 100  # batched, not one insert per row


def test_outage_spools_durably_and_replays_in_order(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    sink = FlakySink(sqlite_url)
    spool_dir = tmp_path / "spool"
    writer = PredictionLogWriter(sink, spool_dir, flush_seconds=0.02, retry_seconds=0.1)
    writer.start()
    writer.submit([row(n) for n in range(10)])
    wait(lambda: len(stored(sqlite_url)) == 10)
    sink.up = False
    for n in range(10, 60):
        writer.submit([row(n)])
        time.sleep(0.002)
    wait(lambda: writer.pending() == 0)
    assert spooled_rows(spool_dir) == 50 and writer.spooled == 50
    sink.up = True
    writer.submit([row(n) for n in range(60, 70)])
    wait(lambda: len(stored(sqlite_url)) == 70)
    writer.close()
    assert stored(sqlite_url) == [f"r{n}" for n in range(70)]
    assert spooled_rows(spool_dir) == 0
    assert writer.replayed == writer.spooled >= 50  # rows answered before the replay wait too


def test_close_spools_what_the_database_does_not_take(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    sink = FlakySink(sqlite_url)
    sink.up = False
    writer = PredictionLogWriter(sink, tmp_path / "spool", flush_seconds=10)
    writer.start()
    writer.submit([row(n) for n in range(5)])
    writer.close()
    assert spooled_rows(tmp_path / "spool") == 5
    # a later process (same spool folder) replays them
    sink.up = True
    later = PredictionLogWriter(sink, tmp_path / "spool", flush_seconds=0.02)
    later.start()
    wait(lambda: len(stored(sqlite_url)) == 5)
    later.close()
    assert spooled_rows(tmp_path / "spool") == 0


def test_rows_are_journaled_before_submit_returns_and_dropped_once_committed(
    sqlite_url: str, tmp_path: Path
) -> None:
    upgrade(sqlite_url)
    journal = tmp_path / "spool"
    writer = PredictionLogWriter(FlakySink(sqlite_url), journal, flush_seconds=0.02)
    writer.submit([row(n) for n in range(7)])  # thread not started: nothing flushed yet
    assert spooled_rows(journal) == 7  # a crash now would lose nothing
    writer.start()
    wait(lambda: len(stored(sqlite_url)) == 7)
    wait(lambda: spooled_rows(journal) == 0)  # committed segments are deleted
    writer.close()
    assert writer.spooled == 0 and list(journal.iterdir()) == []


def test_a_dead_writers_journal_is_replayed_once(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    journal = tmp_path / "spool"
    dead = Spool(journal)
    rows = [row(n) for n in range(5)]
    dead.append(rows, sync=False)
    dead.close_active()  # what the kernel does for a killed process: the lock goes
    insert_ignoring_duplicates(get_engine(sqlite_url))(rows[:2])  # flushed before the kill
    writer = PredictionLogWriter(FlakySink(sqlite_url), journal, flush_seconds=0.02)
    writer.start()
    wait(lambda: len(stored(sqlite_url)) == 5)
    writer.close()
    assert sorted(stored(sqlite_url)) == [f"r{n}" for n in range(5)]
    assert spooled_rows(journal) == 0
