"""One table from typed errors to HTTP statuses, installed on the app by ``create_app``.

Handlers raise the domain's own errors (``attrition.errors``): ``NotFoundError`` answers
404, ``ConflictError`` 409 and ``UnavailableError`` 503, each with its message as the
detail. A database error answers 503 with a fixed message: its text names hosts, tables
and SQL, which a client must not see. Access checks (401, 403, 429) and validation (422)
keep FastAPI's status codes; a list body over its limit (employees, outcomes) is the one
validation error that answers 413.

A 422 names each bad field (``loc``), the problem (``type``, ``msg``) and nothing else: the
submitted value is never echoed (FastAPI's own handler sends it back as ``input``, the
whole body for a missing field). NaN and Infinity, which Python's and pydantic's JSON
parsers read as numbers though JSON has no such values, are refused as such.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from attrition.errors import AttritionError, ConflictError, NotFoundError, UnavailableError
from attrition.serving.platform.encoding import SafeJSONResponse
from attrition.serving.refusals import record_refusal

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "database unavailable, try again shortly"
REGISTRY_UNAVAILABLE = "model registry unavailable, try again shortly"

# error class -> (status, detail); a detail of None sends the error's own message. A plain
# AttritionError has no row: the code that raises it in a request says which kind it is.
STATUSES: dict[type[Exception], tuple[int, str | None]] = {
    NotFoundError: (404, None),
    ConflictError: (409, None),
    UnavailableError: (503, None),
    SQLAlchemyError: (503, DATABASE_UNAVAILABLE),
}
TYPED_ERRORS = tuple(kind for kind in STATUSES if issubclass(kind, AttritionError))


def status_of(error: Exception) -> tuple[int, str]:
    """The status and detail for ``error`` (by its nearest class in the table)."""
    for kind in type(error).__mro__:
        if kind in STATUSES:
            status, detail = STATUSES[kind]
            return status, str(error) if detail is None else detail
    raise LookupError(f"{type(error).__name__} has no HTTP status")


async def error_response(request: Request, error: Exception) -> Response:
    """The answer to an error of the table: ``{"detail": ...}`` with its status."""
    status, detail = status_of(error)
    if isinstance(error, SQLAlchemyError):
        logger.warning("database action failed: %s", type(error).__name__)
    return SafeJSONResponse({"detail": detail}, status_code=status)


NON_FINITE = "finite_number"
NON_FINITE_MESSAGE = "NaN and Infinity are not JSON numbers; send a finite number"
MAX_LOCATION_CHARS = 64
OUTCOMES_LIMIT = 10_000  # payloads.OutcomeBatch's max_length


async def validation_response(request: Request, error: Exception) -> Response:
    """422 naming each bad field without its value, except a list over its limit: 413."""
    assert isinstance(error, RequestValidationError)
    items = error.errors()
    public = [public_error(item) for item in items]
    # data quality: fields and the reasons a client sees (finite_number, cross_field, ...)
    await record_refusal(request, RequestValidationError(public))
    too_large = _too_large(request, items)
    if too_large is not None:
        return SafeJSONResponse({"detail": too_large}, status_code=413)
    return SafeJSONResponse({"detail": public}, status_code=422)


def _too_large(request: Request, items: Any) -> str | None:
    for item in items:
        location = tuple(item.get("loc", ()))[:2]
        if item.get("type") != "too_long":
            continue
        if location == ("body", "employees"):
            limit = request.app.state.serving.settings.max_batch_rows
            return f"batch too large: at most {limit} employees per request"
        if location == ("body", "outcomes"):
            return f"batch too large: at most {OUTCOMES_LIMIT} outcomes per request"
    return None


def public_error(item: Any) -> dict[str, Any]:
    """One validation error as a client may see it: where, what kind, why; never the value."""
    value = item.get("input")
    if isinstance(value, float) and not math.isfinite(value):
        kind, message = NON_FINITE, NON_FINITE_MESSAGE
    else:
        kind, message = str(item.get("type", "invalid")), str(item.get("msg", "invalid value"))
    location = [
        part if isinstance(part, int) else str(part)[:MAX_LOCATION_CHARS]
        for part in item.get("loc", ())
    ]
    return {"type": kind, "loc": location, "msg": message}


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of the table, and validation errors, as above."""
    for kind in STATUSES:
        app.add_exception_handler(kind, error_response)
    app.add_exception_handler(RequestValidationError, validation_response)


@contextmanager
def registry_unavailable(action: str) -> Iterator[None]:
    """Failures reaching the model registry become ``UnavailableError``: MLflow raises its
    own and the network's exceptions, which say nothing a client could act on. Typed errors
    pass through."""
    try:
        yield
    except TYPED_ERRORS:
        raise
    except Exception as error:
        logger.warning("%s failed: %s", action, type(error).__name__)
        raise UnavailableError(REGISTRY_UNAVAILABLE) from None
