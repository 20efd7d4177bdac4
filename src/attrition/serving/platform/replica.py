"""Which replica answered: an ``X-Replica-Id`` header on every HTTP response.

Behind a load balancer the header tells operators (and the balancer's access log) which API
process served a request. The id comes from ``ATTRITION_REPLICA_ID``; without it, the host
name and process id (unique per worker process, also under ``--workers N``).
"""

from __future__ import annotations

import os
import re
import socket

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attrition.errors import AttritionError
from attrition.settings import Settings

HEADER = b"x-replica-id"
MAX_LENGTH = 64
_ALLOWED = re.compile(r"^[A-Za-z0-9._:@-]+$")


def default_replica_id() -> str:
    """``<host name>:<process id>`` of the calling process."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
