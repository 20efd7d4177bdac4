"""The local journal and spool of prediction-log rows: no answered row is lost to a crash or
to a database outage.

Rows are appended as JSON lines to segment files named ``<time_ns>-<pid>-<seq>.jsonl``
(so names sort in write order). ``append`` writes them to the operating system before it
returns (``sync=True`` also fsyncs, for machine crashes; without it a process crash still
keeps them, as they are in the page cache). The writer ``rotate``s the journal each flush
and deletes the closed segments once their rows are committed. The segment being
written is held under an exclusive ``flock``; a closed segment can be claimed by any process
(its lock taken without waiting), replayed, and deleted. A segment left behind by a process
that died is unlocked, so another worker replays it.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson

Row = dict[str, Any]


def spool_folder(var_dir: Path) -> Path:
    """Where the API spools prediction-log rows, under the state folder."""
    return var_dir / "spool" / "prediction_log"


class Spool:
    """Append rows durably; hand closed segments, oldest first, to a replay function."""

    def __init__(self, folder: Path, max_segment_rows: int = 50_000) -> None:
        self.folder = folder
        self._max_rows = max_segment_rows
        self._seq = itertools.count()
        self._active: IO[bytes] | None = None
        self._active_path: Path | None = None
        self._active_rows = 0
        self._closed: list[Path] = []  # closed by this spool since the last ``rotate``

    @property
    def has_active(self) -> bool:
        return self._active is not None

    def append(self, rows: list[Row], *, sync: bool = True) -> None:
        """Write rows to the active segment (one ``write``); ``sync`` also fsyncs them."""
        if not rows:
            return
        handle = self._active or self._open_segment()
        handle.write(b"".join(orjson.dumps(row) + b"\n" for row in rows))
        handle.flush()
        if sync:
            os.fsync(handle.fileno())
        self._active_rows += len(rows)
        if self._active_rows >= self._max_rows:
            self.close_active()

    def _open_segment(self) -> IO[bytes]:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._seq):06d}.jsonl"
        handle = (self.folder / name).open("ab")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        self._active, self._active_path, self._active_rows = handle, self.folder / name, 0
        return handle

    def close_active(self) -> None:
        """Close the segment being written so it can be replayed."""
        if self._active is not None:
            self._active.close()  # closing releases the lock
            self._active = None
            if self._active_path is not None:
                self._closed.append(self._active_path)
            self._active_path = None

    def rotate(self) -> list[Path]:
        """Close the active segment; every segment this spool closed since the last call."""
        self.close_active()
        closed, self._closed = self._closed, []
        return closed

    def segments(self) -> list[Path]:
        """Every segment on disk, oldest first (including other processes' ones)."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.jsonl"))

    def replay(self, sink: Callable[[list[Row]], None], chunk_rows: int = 2_000) -> int:
        """Send every claimable closed segment to ``sink`` in order; returns rows replayed.

        Stops at the first failure, leaving that segment (and later ones) in place.
        """
        replayed = 0
        for path in self.segments():
            with _claimed(path) as handle:
                if handle is None:
                    continue
                for chunk in _chunks(handle, chunk_rows):
                    sink(chunk)
                    replayed += len(chunk)
                path.unlink(missing_ok=True)
        return replayed


def scrub(folder: Path, keys: set[str]) -> int:
    """Remove the rows of these pseudonyms from every closed segment (erasure); the rows
    removed. A segment a live process is writing stays locked and is skipped: that process's
    writer drops the rows when it writes them (they predate the tombstone)."""
    removed = 0
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        with _claimed(path) as handle:
            if handle is None:
                continue
            lines = [line for line in handle if line.endswith(b"\n")]
            kept = [line for line in lines if orjson.loads(line).get("employee_key") not in keys]
            if len(kept) == len(lines):
                continue
            removed += len(lines) - len(kept)
            _replace(path, kept)
    return removed


def _replace(path: Path, lines: list[bytes]) -> None:
    """Swap the segment for one holding only ``lines`` (or none), atomically."""
    if not lines:
        path.unlink(missing_ok=True)
        return
    fresh = path.with_suffix(".scrub")
    with fresh.open("wb") as handle:
        handle.write(b"".join(lines))
        handle.flush()
        os.fsync(handle.fileno())
    fresh.replace(path)


@contextmanager
def _claimed(path: Path) -> Iterator[IO[bytes] | None]:
    """The segment opened under its lock, or None if another process holds it or it is gone."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield handle if os.fstat(handle.fileno()).st_nlink > 0 else None


def _chunks(handle: IO[bytes], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for line in handle:
        if not line.endswith(b"\n"):
            break  # a torn last line from a crash mid-write: never acknowledged, skip it
        chunk.append(orjson.loads(line))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def spooled_rows(folder: Path) -> int:
    """Rows currently waiting in the spool (counts lines; for health and tests)."""
    if not folder.is_dir():
        return 0
    total = 0
    for path in folder.glob("*.jsonl"):
        try:
            with path.open("rb") as handle:
                total += sum(1 for line in handle if line.endswith(b"\n"))
        except FileNotFoundError:
            continue
    return total
