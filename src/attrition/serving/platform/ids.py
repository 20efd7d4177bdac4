"""Random ids: every prediction id and generated request id is a version 4 UUID (122 random
bits from the kernel's random source), so an id says nothing about the process that made it
or about the ids before and after it (docs/security.md)."""

from __future__ import annotations

import uuid


class IdSource:
    """Random ids (``uuid.uuid4``); a class so that callers keep one source to draw from."""

    def uuid(self) -> str:
        """A 36-character random UUID."""
        return str(uuid.uuid4())

    def hex(self) -> str:
        """A 32-character random hex id (request ids)."""
        return uuid.uuid4().hex
