"""Random ids: every prediction id and generated request id is a version 4 UUID (122 random
bits from the kernel's random source), so an id says nothing about the process that made it
or about the ids before and after it (docs/security.md).

The random bytes are read from ``os.urandom`` 256 ids at a time: one system call per id
cost more than the rest of the id (two ids per prediction, thousands of predictions a second
per worker). The pool is per process (a forked child reads its own) and never reused.
"""

from __future__ import annotations

import os
import threading

_POOL_BYTES = 16 * 256


class IdSource:
    """Random ids drawn from a pool of kernel random bytes; one source per app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._next = 0
        self._pid = os.getpid()

    def _random16(self) -> bytearray:
        with self._lock:
            if self._next + 16 > len(self._pool) or self._pid != os.getpid():
                self._pool, self._next, self._pid = os.urandom(_POOL_BYTES), 0, os.getpid()
            start, self._next = self._next, self._next + 16
            return bytearray(self._pool[start : start + 16])

    def hex(self) -> str:
        """A 32-character random hex id (a version 4 UUID without dashes: request ids)."""
        raw = self._random16()
        raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
        return raw.hex()

    def uuid(self) -> str:
        """A 36-character random version 4 UUID."""
        h = self.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
