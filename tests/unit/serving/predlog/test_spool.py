"""The spool: journal segments replayed in order, torn lines and stored rows skipped, and
a segment held by a live writer left alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from attrition.db.engine import get_engine, session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import PredictionLog
from attrition.serving.predlog.spool import Spool
from attrition.serving.predlog.writer import insert_ignoring_duplicates
from attrition_testkit import prediction_log_row as row


def stored(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(PredictionLog.request_id).order_by(PredictionLog.id)))


def test_replay_skips_rows_already_stored_and_torn_lines(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    rows = [row(n) for n in range(4)]
    insert_ignoring_duplicates(get_engine(sqlite_url))(rows[:2])  # stored before a crash
    spool = Spool(tmp_path / "spool")
    spool.append(rows)
    spool.close_active()
    segment = spool.segments()[0]
    with segment.open("ab") as handle:
        handle.write(b'{"prediction_id": "torn')  # a write cut short by a crash
    replayed = spool.replay(insert_ignoring_duplicates(get_engine(sqlite_url)))
    assert replayed == 4
    assert stored(sqlite_url) == ["r0", "r1", "r2", "r3"]
    assert spool.segments() == []


def test_a_segment_held_by_a_live_writer_is_not_claimed(tmp_path: Path) -> None:
    writer_spool = Spool(tmp_path / "spool")
    writer_spool.append([row(1)])  # active segment, locked by this spool
    other = Spool(tmp_path / "spool")
    seen: list[Any] = []
    assert other.replay(seen.extend) == 0 and seen == []
    writer_spool.close_active()
    assert other.replay(seen.extend) == 1
    assert not any(p.exists() for p in writer_spool.segments())
    assert list((tmp_path / "spool").iterdir()) == []
