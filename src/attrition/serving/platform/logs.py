"""Structured JSON logs with the request id; never personal data or secrets.

An exception is written as its chain of types and frames (file, line, function), never
its message: a message can quote the value that failed (pydantic's errors quote the whole
request body), and request bodies and row values must not reach a log line on any path.
"""

from __future__ import annotations

import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from attrition.serving.platform.encoding import dumps

request_id_var: ContextVar[str | None] = ContextVar("attrition_request_id", default=None)
key_id_var: ContextVar[str | None] = ContextVar("attrition_key_id", default=None)

# Attributes every LogRecord has; anything else was passed through ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        key_id = key_id_var.get()
        if key_id is not None:
            entry["key_id"] = key_id
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRS and not name.startswith("_"):
                entry[name] = value
        if record.exc_info and record.exc_info[1] is not None:
            entry["exc"] = describe_exception(record.exc_info[1])
        if record.stack_info:
            entry["stack"] = record.stack_info
        return dumps(entry).decode("utf-8", "replace")


def describe_exception(error: BaseException) -> str:
    """The exception's chain as types and frames, without any message (see the module)."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        lines.extend(_frames(current.__traceback__))
        lines.append(f"{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or current.__context__
        if current is not None:
            lines.append("raised while handling:")
    return "\n".join(lines)


def _frames(tb: TracebackType | None) -> list[str]:
    return [
        f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
        for frame in traceback.extract_tb(tb, limit=30)
    ]


def configure_logging(level: str = "INFO") -> None:
    """Send every log record to stderr as JSON (called by the app's start-up, never at import)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs requests
