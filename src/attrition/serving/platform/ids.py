"""Cheap unique ids: a random 64-bit prefix per process and a counter, formatted as UUIDs.

``uuid.uuid4()`` reads the kernel's random source on every call, which shows up at
thousands of requests a second; this needs it once per process.
"""

from __future__ import annotations

import itertools
import secrets
import uuid


class IdSource:
    """Unique ids for this process: collisions need two processes drawing the same
    64-bit prefix."""

    def __init__(self) -> None:
        self._prefix = secrets.randbits(64) << 64
        self._counter = itertools.count(1)

    def uuid(self) -> str:
        """A 36-character UUID-formatted id."""
        return str(uuid.UUID(int=self._prefix | next(self._counter)))

    def hex(self) -> str:
        """A 32-character hex id (request ids)."""
        return f"{self._prefix | next(self._counter):032x}"
