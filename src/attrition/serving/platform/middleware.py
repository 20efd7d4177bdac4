"""Pure ASGI middleware (no per-request task overhead): request id, access log, latency
metric, the request body size limit, security headers on every response, HEAD answered as
GET without a body, JSON bodies only (415 otherwise), and a last-resort 500 that logs the
error's kind and frames, never its message (see ``logs.py``)."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attrition.serving.platform.encoding import dumps
from attrition.serving.platform.ids import IdSource
from attrition.serving.platform.logs import key_id_var, request_id_var
from attrition.serving.platform.metrics import Metrics

logger = logging.getLogger("attrition.access")
errors_logger = logging.getLogger("attrition.errors")
_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
KEY_ID_SCOPE = "attrition.key_id"
# The API sends JSON, the /docs page (loads nothing) and the HTML drift report (no script).
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    # inline styles only: the HTML drift report (routes/monitoring.py) carries its own
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        b"form-action 'none'; frame-ancestors 'none'",
    ),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)
_SECURITY_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)
_JSON_TYPES = re.compile(rb"^application/([a-z0-9.+-]*\+)?json\s*(;.*)?$", re.IGNORECASE)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
INTERNAL_ERROR = {"detail": "internal error; the request id is in the X-Request-Id header"}
UNSUPPORTED_TYPE = {"detail": "Content-Type must be application/json (or absent)"}


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A JSON response serialised with the one encoder (no second validation pass)."""
    return Response(dumps(body), status_code, headers, media_type="application/json")


def _allow_table(methods: dict[str, set[str]]) -> list[tuple[re.Pattern[str], bytes]]:
    """Path template -> the ``Allow`` value listing all its methods."""
    table = []
    for template, names in methods.items():
        regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        upper = {n.upper() for n in names}
        if "GET" in upper:
            upper.add("HEAD")
        table.append((re.compile(regex), ", ".join(sorted(upper)).encode()))
    return table


class BodyTooLargeError(Exception):
    """The request body passed the configured limit while it was being read."""


def _request_id(scope: Scope, ids: IdSource) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id" and _REQUEST_ID.match(value):
            return str(value.decode())
    return ids.hex()


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _unsupported_type(scope: Scope) -> bool:
    """A request declaring a body type other than JSON (every body of this API is JSON)."""
    if scope.get("method") not in _BODY_METHODS:
        return False
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return not _JSON_TYPES.match(value.strip())
    return False


def with_security_headers(headers: list[Any]) -> list[Any]:
    """``headers`` plus the security headers (replacing any of the same name)."""
    kept = [(k, v) for k, v in headers if k.lower() not in _SECURITY_NAMES]
    return [*kept, *SECURITY_HEADERS]


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: list[Any]) -> None:
    payload = dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *with_security_headers(headers),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class ServingMiddleware:
    """Assigns the request id, enforces the body limit, logs and times every request."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        max_body_bytes: int,
        methods: dict[str, set[str]] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes
        self.ids = IdSource()
        self.allow = _allow_table(methods or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = _request_id(scope, self.ids)
        rid_header = (b"x-request-id", request_id.encode())
        request_token = request_id_var.set(request_id)
        key_token = key_id_var.set(None)
        method = str(scope.get("method", ""))
        head = method == "HEAD"
        if head:  # answered as GET, without the body
            scope = {**scope, "method": "GET"}
        status = 500
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                headers = [*with_security_headers(message.get("headers", [])), rid_header]
                if status == 405:  # list every method of the path, not just one route's
                    headers = self._with_allow(headers, scope.get("path", ""))
                message = {**message, "headers": headers}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self._guarded(scope, receive, send_wrapper)
        except BodyTooLargeError:
            if started:
                raise
            status = 413
            await _send_json(send, 413, self._too_large(), [rid_header])
        except Exception as error:  # the last resort: no message, no value in the log
            errors_logger.error("unhandled error", exc_info=error)
            if started:
                raise
            status = 500
            await _send_json(send, 500, INTERNAL_ERROR, [rid_header])
        finally:
            self._record(scope, method, status, time.perf_counter() - start)
            request_id_var.reset(request_token)
            key_id_var.reset(key_token)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized or non-JSON body up front, else call the app."""
        length = _content_length(scope)
        if length is not None and length > self.max_body:
            await _send_json(send, 413, self._too_large(), [])
        elif _unsupported_type(scope):
            await _send_json(send, 415, UNSUPPORTED_TYPE, [])
        else:
            await self.app(scope, self._limited(receive), send)

    def _with_allow(self, headers: list[Any], path: str) -> list[Any]:
        for pattern, allowed in self.allow:
            if pattern.match(path):
                kept = [(k, v) for k, v in headers if k.lower() != b"allow"]
                return [*kept, (b"allow", allowed)]
        return headers

    def _too_large(self) -> dict[str, str]:
        return {"detail": f"request body too large: at most {self.max_body} bytes"}

    def _limited(self, receive: Receive) -> Receive:
        seen = 0
        limit = self.max_body

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLargeError
            return message

        return wrapped

    def _record(self, scope: Scope, method: str, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        self.metrics.latency.labels(method, template, str(status)).observe(seconds)
        logger.info(
            "request",
            extra={
                "method": method,
                "route": template,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "key_id": scope.get(KEY_ID_SCOPE),
            },
        )
