"""Refused inputs: every request body the API answers 422 is counted per field and reason.

``record_refusal`` is called by the 422 handler (``serving/errors.py``). It adds the
fields to the Prometheus counter ``attrition_refused_inputs_total{field,reason}`` and
writes one ``refused_input`` row per (field, reason) of the request, with the request id
and the route template. It never stores a value nor who sent it: a refused body may hold
personal data. Monitoring summarises the table per check (``monitoring/quality.py``).

Only body errors count (what a feeding system sent); a bad query parameter is a client's
bug, not a data-quality signal. A failure to write is logged and never changes the answer.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from attrition.db.engine import session_scope
from attrition.db.models import RefusedInput
from attrition.serving.platform.logs import request_id_var

logger = logging.getLogger(__name__)

BODY: Final = "body"
WRAPPERS: Final = ("employees", "outcomes")  # list wrappers of batch bodies
WHOLE_BODY: Final = "(body)"
MAX_FIELD: Final = 128
MAX_REASON: Final = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")

FieldReason = tuple[str, str]


def field_name(location: Sequence[Any]) -> str | None:
    """Pure: the field a body error is about, without list indexes and batch wrappers
    (``("body", "employees", 3, "Age")`` is ``Age``); None for an error outside the body."""
    if not location or location[0] != BODY:
        return None
    parts = [str(p) for p in location[1:] if not isinstance(p, int)]
    if len(parts) > 1 and parts[0] in WRAPPERS:
        parts = parts[1:]
    name = _UNSAFE.sub("_", ".".join(parts))[:MAX_FIELD]
    return name or WHOLE_BODY


def refused_fields(errors: Iterable[Mapping[str, Any]]) -> Counter[FieldReason]:
    """Pure: how often each (field, reason) failed in one request's validation errors."""
    counts: Counter[FieldReason] = Counter()
    for item in errors:
        name = field_name(tuple(item.get("loc", ())))
        if name is not None:
            reason = _UNSAFE.sub("_", str(item.get("type", "invalid")))[:MAX_REASON]
            counts[(name, reason)] += 1
    return counts


def store_refusal(
    database_url: str, request_id: str, route: str, counts: Mapping[FieldReason, int]
) -> None:
    """Write the request's refused fields; a database failure is logged, not raised."""
    try:
        with session_scope(database_url) as session:
            session.add_all(
                RefusedInput(request_id=request_id, route=route, field=f, reason=r, count=n)
                for (f, r), n in counts.items()
            )
    except SQLAlchemyError as error:
        logger.warning("refused input not recorded: %s", type(error).__name__)


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "") or request.url.path)[:128]


async def record_refusal(request: Request, error: RequestValidationError) -> None:
    """Count a 422's body fields in Prometheus and the ``refused_input`` table."""
    counts = refused_fields(error.errors())
    if not counts:
        return
    try:
        state = request.app.state.serving
        for (name, reason), count in counts.items():
            state.metrics.refused_inputs.labels(name, reason).inc(count)
        database_url = state.settings.database_url
    except AttributeError as failure:  # an app without the serving state: nothing to count in
        logger.warning("refused input not counted: %s", type(failure).__name__)
        return
    request_id = (request_id_var.get() or "unknown")[:64]
    await run_in_threadpool(store_refusal, database_url, request_id, _route(request), counts)
