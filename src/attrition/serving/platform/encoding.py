"""The one JSON encoder of the API: every response body and every log line goes through
:func:`dumps`, which cannot fail on a value.

orjson writes NaN and Infinity as ``null`` (never the invalid tokens ``NaN``/``Infinity``),
numpy values natively and anything it does not know as ``str``. What orjson still refuses
(an integer beyond 64 bits, a dict with non-string keys, nesting deeper than it allows) is
made encodable by :func:`_plain` and encoded again, so an answer is always sent and a log
line always written.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.responses import JSONResponse

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
_MAX_DEPTH = 64


def dumps(value: Any) -> bytes:
    """``value`` as JSON bytes; never raises."""
    try:
        return orjson.dumps(value, default=_fallback, option=_OPTIONS)
    except (orjson.JSONEncodeError, TypeError, ValueError, RecursionError):
        return orjson.dumps(_plain(value, 0), default=_fallback, option=_OPTIONS)


def _fallback(value: Any) -> str:
    return str(value) if not isinstance(value, bytes) else value.decode("utf-8", "replace")


def _plain(value: Any, depth: int) -> Any:
    """A structure orjson can always encode: nested containers, finite numbers, strings."""
    if depth > _MAX_DEPTH:
        return "..."
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, depth + 1) for v in value]
    return _fallback(value)


class SafeJSONResponse(JSONResponse):
    """A JSON response rendered by :func:`dumps` (the app's default response class)."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
