"""Which replica answered: an ``X-Replica-Id`` header on every HTTP response.

Behind a load balancer the header tells operators (and the balancer's access log) which API
process served a request. The id comes from ``ATTRITION_REPLICA_ID``; without it, an opaque
random id drawn once per worker process (``r-`` and 12 hex digits): it tells processes apart
without telling clients a host name or process id. Each process logs its id with its pid at
start-up, so an operator can map one to the other.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attrition.errors import AttritionError
from attrition.settings import Settings

logger = logging.getLogger(__name__)
HEADER = b"x-replica-id"
MAX_LENGTH = 64
_ALLOWED = re.compile(r"^[A-Za-z0-9._:@-]+$")


def default_replica_id() -> str:
    """The calling process's opaque id (drawn on first use, per process)."""
    return _process_replica_id(os.getpid())


@lru_cache(maxsize=4)
def _process_replica_id(pid: int) -> str:
    replica_id = f"r-{secrets.token_hex(6)}"
    logger.info("replica id", extra={"replica_id": replica_id, "pid": pid})
    return replica_id


def validate_replica_id(value: str) -> str:
    """The id, stripped; refused unless it is a short, header-safe token."""
    candidate = value.strip()
    if not candidate or len(candidate) > MAX_LENGTH or not _ALLOWED.match(candidate):
        raise AttritionError(
            f"ATTRITION_REPLICA_ID: {value!r} is not allowed; use 1 to {MAX_LENGTH} characters "
            "among letters, digits and . _ : @ -"
        )
    return candidate


def replica_id_for(settings: Settings) -> str:
    """The configured replica id, else the default for this process."""
    configured = settings.replica_id
    return validate_replica_id(configured) if configured else default_replica_id()


class ReplicaIdMiddleware:
    """Pure ASGI middleware adding ``X-Replica-Id`` to every HTTP response."""

    def __init__(self, app: ASGIApp, replica_id: str) -> None:
        self.app = app
        self._header = (HEADER, validate_replica_id(replica_id).encode("ascii"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != HEADER]
                message["headers"] = [*headers, self._header]
            await send(message)

        await self.app(scope, receive, send_with_header)
