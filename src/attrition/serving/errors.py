"""One table from typed errors to HTTP statuses, installed on the app by ``create_app``.

Handlers raise the domain's own errors (``attrition.errors``): ``NotFoundError`` answers
404, ``ConflictError`` 409 and ``UnavailableError`` 503, each with its message as the
detail. A database error answers 503 with a fixed message: its text names hosts, tables
and SQL, which a client must not see. Access checks (401, 403, 429) and validation (422)
keep FastAPI's own answers; a batch over the limit is the one validation error that
answers 413.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from attrition.errors import AttritionError, ConflictError, NotFoundError, UnavailableError
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
    return JSONResponse({"detail": detail}, status_code=status)


async def validation_response(request: Request, error: Exception) -> Response:
    """422 naming each bad field, except a batch over the app's limit: 413."""
    assert isinstance(error, RequestValidationError)
    await record_refusal(request, error)  # data quality: fields and reasons, never values
    for item in error.errors():
        location = tuple(item.get("loc", ()))[:2]
        if item.get("type") == "too_long" and location == ("body", "employees"):
            limit = request.app.state.serving.settings.max_batch_rows
            detail = f"batch too large: at most {limit} employees per request"
            return JSONResponse({"detail": detail}, status_code=413)
    return await request_validation_exception_handler(request, error)


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
