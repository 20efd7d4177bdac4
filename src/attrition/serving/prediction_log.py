"""The prediction log writer: batched background inserts, spooled while the database is down.

``submit`` only appends to an in-memory queue, so no request waits for the database. A
background thread drains the queue every ``flush_seconds`` (or sooner when a batch fills)
with one multi-row insert. If the insert fails the batch goes to the durable spool, and
while anything is spooled new rows are spooled too, so rows reach the table in the order
they were answered; the spool is replayed as soon as the database accepts writes again.
Inserts ignore rows whose ``prediction_id`` is already stored, so a replay after an
ambiguous failure never duplicates a row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Insert, delete, exists, insert, select

from attrition.db.models import ErasureTombstone, PredictionLog
from attrition.serving.spool import Row, Spool

logger = logging.getLogger(__name__)
_TABLE: Any = PredictionLog.__table__
_TOMBS: Any = ErasureTombstone.__table__


def insert_ignoring_duplicates(engine: Engine) -> Callable[[list[Row]], None]:
    """A sink that inserts rows, skipping prediction ids that are already stored."""
    dialect = engine.dialect.name
    statement: Insert
    if dialect in ("sqlite", "postgresql"):
        module = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
        statement = module.insert(_TABLE).on_conflict_do_nothing(index_elements=["prediction_id"])
    else:
        statement = insert(_TABLE)

    def sink(rows: list[Row]) -> None:
        keys = {row["employee_key"] for row in rows if row.get("employee_key")}
        with engine.begin() as connection:
            connection.execute(statement, [_to_db(row) for row in rows])
            if keys:  # a person erased while their rows were queued or spooled
                connection.execute(_erased_rows(keys))

    return sink


def _erased_rows(keys: set[str]) -> Any:
    tombstone_covers = exists(
        select(_TOMBS.c.id).where(
            _TOMBS.c.employee_key == _TABLE.c.employee_key,
            _TOMBS.c.erased_at >= _TABLE.c.created_at,
        )
    )
    return delete(_TABLE).where(_TABLE.c.employee_key.in_(keys), tombstone_covers)


def _to_db(row: Row) -> Row:
    created = row["created_at"]
    if isinstance(created, str):
        row = {**row, "created_at": datetime.fromisoformat(created)}
    return row


class PredictionLogWriter:
    """Owns the queue, the background thread and the spool of one process."""

    def __init__(
        self,
        sink: Callable[[list[Row]], None],
        spool_dir: Path,
        *,
        batch_rows: int = 1_000,
        flush_seconds: float = 0.05,
        retry_seconds: float = 1.0,
        on_spooled: Callable[[int], None] | None = None,
        on_replayed: Callable[[int], None] | None = None,
    ) -> None:
        self._sink = sink
        self._spool = Spool(spool_dir)
        self._queue: deque[Row] = deque()
        self._batch_rows = batch_rows
        self._flush_seconds = flush_seconds
        self._retry_seconds = retry_seconds
        self._on_spooled = on_spooled or (lambda n: None)
        self._on_replayed = on_replayed or (lambda n: None)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._spooling = False  # True: new rows go to the spool to keep their order
        self._next_retry = 0.0  # also the next look for segments left by other processes
        self.written = 0
        self.spooled = 0
        self.replayed = 0

    @property
    def spool(self) -> Spool:
        return self._spool

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def submit(self, rows: list[Row]) -> None:
        """Queue rows for writing; never blocks on the database."""
        self._queue.extend(rows)
        if len(self._queue) >= self._batch_rows:
            self._wake.set()

    def pending(self) -> int:
        """Rows in memory not yet written or spooled."""
        return len(self._queue)

    def close(self, timeout: float = 10.0) -> None:
        """Flush what is queued (to the database or the spool) and stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._drain(final=True)
        self._spool.close_active()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            try:
                self._drain(final=False)
            except Exception:  # the writer must outlive any single failure
                logger.exception("prediction log: unexpected writer error")

    def _take(self) -> list[Row]:
        batch: list[Row] = []
        while self._queue and len(batch) < self._batch_rows:
            batch.append(self._queue.popleft())
        return batch

    def _drain(self, *, final: bool) -> None:
        if time.monotonic() >= self._next_retry:
            self._next_retry = time.monotonic() + self._retry_seconds
            if self._spooling or self._spool.segments():
                self._try_replay()
        while batch := self._take():
            if self._spooling or not self._write(batch):
                self._to_spool(batch)
        if final and self._spooling:
            self._try_replay()

    def _write(self, batch: list[Row]) -> bool:
        try:
            self._sink(batch)
        except Exception as error:
            logger.warning(
                "prediction log: database write failed, spooling (%s)", type(error).__name__
            )
            self._spooling = True
            self._next_retry = time.monotonic() + self._retry_seconds
            return False
        self.written += len(batch)
        return True

    def _to_spool(self, batch: list[Row]) -> None:
        self._spool.append(batch)
        self.spooled += len(batch)
        self._on_spooled(len(batch))

    def _try_replay(self) -> None:
        self._spool.close_active()
        replayed = 0

        def counting_sink(rows: list[Row]) -> None:
            nonlocal replayed
            self._sink(rows)
            replayed += len(rows)

        try:
            self._spool.replay(counting_sink)
        except Exception as error:
            self._next_retry = time.monotonic() + self._retry_seconds
            logger.info("prediction log: database still unavailable (%s)", type(error).__name__)
        else:
            self._spooling = False
            if replayed:
                logger.info("prediction log: replayed %d spooled rows", replayed)
        finally:
            self.replayed += replayed
            self.written += replayed
            self._on_replayed(replayed)

    def stats(self) -> dict[str, Any]:
        return {
            "pending": self.pending(),
            "written": self.written,
            "spooled": self.spooled,
            "replayed": self.replayed,
            "spooling": self._spooling,
        }
