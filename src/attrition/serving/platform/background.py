"""One background job at a time per process (the API's monitoring-triggered retrain)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class BackgroundJob:
    """Runs ``work`` in a daemon thread unless a previous run is still going."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, work: Callable[[], None]) -> bool:
        """Start ``work``; False (nothing started) while the previous run is alive."""
        with self._lock:
            if self.running:
                return False
            self._thread = threading.Thread(
                target=self._guarded, args=(work,), name=self._name, daemon=True
            )
            self._thread.start()
            return True

    def _guarded(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:  # the job reports its own outcome; never kill the process
            logger.exception("%s failed", self._name)

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
