"""The prediction log writer: a local journal, batched background inserts, and replay.

``submit`` appends the rows to the journal (one ``write`` of JSON lines, no fsync: a process
crash keeps page-cache writes) and to an in-memory queue, so no request waits for the
database and no answered row dies with the process. A background thread drains the queue
every ``flush_seconds`` (or sooner when a batch fills) with multi-row inserts and then deletes
the journal segments it committed. If the insert fails the segments simply stay: they are
the spool, and while anything is spooled new rows stay in the journal too, so rows reach the
table in the order they were answered. Segments are replayed when the database accepts
writes again, and at start-up (a killed process's segments are unlocked). Inserts ignore
rows whose ``prediction_id`` is already stored, so a replay never duplicates a row.
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
from attrition.serving.predlog.spool import Row, Spool

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
        self._lock = threading.Lock()  # journal order == queue order
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
        """Journal rows and queue them for the database; never blocks on the database.

        The rows are in the journal (the operating system's page cache) when this returns,
        so a process killed before the next flush loses none of them: the next writer on the
        same folder replays them.
        """
        with self._lock:
            self._spool.append(rows, sync=False)
            self._queue.extend(rows)
        if len(self._queue) >= self._batch_rows:
            self._wake.set()

    def pending(self) -> int:
        """Rows in memory not yet written or left to the spool."""
        return len(self._queue)

    def close(self, timeout: float = 10.0) -> None:
        """Flush what is queued (to the database, else it stays spooled) and stop the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._drain(final=True)
        with self._lock:
            self._spool.close_active()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            try:
                self._drain(final=False)
            except Exception:  # the writer must outlive any single failure
                logger.exception("prediction log: unexpected writer error")

    def _drain(self, *, final: bool) -> None:
        with self._lock:
            # while spooling, rows stay in the journal segment until the replay takes it
            closed = self._spool.rotate() if not self._spooling or final else []
            batch = list(self._queue)
            self._queue.clear()
        if batch:
            if not self._spooling and self._write(batch):
                for path in closed:  # committed: the journal no longer needs them
                    path.unlink(missing_ok=True)
            else:
                self._note_spooled(len(batch))
        if final or time.monotonic() >= self._next_retry:
            self._next_retry = time.monotonic() + self._retry_seconds
            if self._spooling or self._spool.segments():
                self._try_replay()

    def _write(self, batch: list[Row]) -> bool:
        try:
            for start in range(0, len(batch), self._batch_rows):
                self._sink(batch[start : start + self._batch_rows])
        except Exception as error:
            logger.warning(
                "prediction log: database write failed, rows stay spooled (%s)",
                type(error).__name__,
            )
            self._spooling = True
            self._next_retry = time.monotonic() + self._retry_seconds
            return False
        self.written += len(batch)
        return True

    def _note_spooled(self, rows: int) -> None:
        self.spooled += rows
        self._on_spooled(rows)

    def _try_replay(self) -> None:
        if self._spooling:  # hand the journal segment being written to the replay too
            with self._lock:
                self._spool.rotate()
                left = len(self._queue)
                self._queue.clear()
            if left:
                self._note_spooled(left)
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
                logger.info("prediction log: replayed %d journal rows", replayed)
        finally:
            # rows another (killed) process journaled were never counted as spooled here
            self._on_replayed(max(0, min(replayed, self.spooled - self.replayed)))
            self.replayed += replayed
            self.written += replayed

    def stats(self) -> dict[str, Any]:
        return {
            "pending": self.pending(),
            "written": self.written,
            "spooled": self.spooled,
            "replayed": self.replayed,
            "spooling": self._spooling,
        }
