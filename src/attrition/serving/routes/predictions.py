"""``/v1/predictions`` and ``/v1/predictions/batch``: score employees (the hot paths), and
``GET /v1/predictions``: the log of past predictions.

The two scoring routes skip FastAPI's dependency machinery and body parsing, which is
measurably cheaper per request: they check the key with ``authorize`` and validate the raw
body with pydantic-core's JSON parser themselves. Their OpenAPI entries still declare the
same security schemes, and ``request_bodies`` declares the bodies they validate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from attrition.actions import LEVERS_NOTE
from attrition.errors import UnavailableError
from attrition.privacy import pseudonymise
from attrition.schema import IDENTIFIER_RANGE
from attrition.serving import payloads, queries
from attrition.serving.deps import DatabaseSession, State, Viewer, state_of
from attrition.serving.inference.model_service import ServedModel
from attrition.serving.openapi import PROTECTED, SECURITY_REQUIREMENT, error_responses
from attrition.serving.platform.access import authorize, key_from_headers
from attrition.serving.platform.api_keys import Principal, Role
from attrition.serving.platform.logs import request_id_var
from attrition.serving.platform.middleware import json_response
from attrition.serving.row_checks import refuse_bad_rows
from attrition.serving.state import ServingState
from attrition.workforce import WHAT_IF

router = APIRouter(tags=["predictions"])
SINGLE_PATH = "/v1/predictions"
BATCH_PATH = "/v1/predictions/batch"
INLINE_ROWS = 64  # compiled scoring of up to this many rows is cheaper than a thread hop
INLINE_LEVER_ROWS = 4  # with levers each row is scored for every candidate move too

PURPOSES = {"what-if": WHAT_IF}  # header value -> prediction_log.source (who counts)
PURPOSE_PARAMETER: dict[str, Any] = {
    "name": "X-Prediction-Purpose",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "enum": sorted(PURPOSES)},
    "description": "what-if: an exploratory score, excluded from the workforce summary",
}
LEVERS_PARAMETER: dict[str, Any] = {
    "name": "levers",
    "in": "query",
    "required": False,
    "schema": {"type": "boolean", "default": False},
    "description": "true: add, per employee, the retention levers that lower the predicted "
    "risk most, with the risk after each (the model's associations, not causal promises)",
}
LEVER_FLAGS = {"true": True, "1": True, "false": False, "0": False}
_SCORING_ERRORS = error_responses(*PROTECTED, 503)
_SCORING_ERRORS[422] = {
    "description": "Validation Error (each bad field named)",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
    },
}


def request_bodies(bodies: payloads.PredictionBodies) -> dict[str, type[BaseModel]]:
    """The body each scoring route (POST) validates by itself, for the OpenAPI document."""
    return {SINGLE_PATH: bodies.employee, BATCH_PATH: bodies.batch}


@router.post(
    SINGLE_PATH,
    response_model=payloads.Prediction,
    responses=_SCORING_ERRORS,
    openapi_extra={
        "security": SECURITY_REQUIREMENT,
        "parameters": [PURPOSE_PARAMETER, LEVERS_PARAMETER],
    },
)
async def predict(request: Request) -> Response:
    """Score one employee: probability, decision, threshold, model version, top factors
    (and retention levers with ``?levers=true``). ``X-Prediction-Purpose: what-if`` marks
    an exploratory score: logged with source "what-if" and left out of the workforce
    summary."""
    who = await authorize(request, key_from_headers(request), Role.predictor)
    source = _purpose_source(request)
    levers = _wants_levers(request)
    state = state_of(request)
    row = _parse(state.bodies.employee, await request.body()).model_dump()
    refuse_bad_rows([row], lambda _: ("body",))
    _, items = await _answer(state, [row], who, source, levers=levers)
    if levers:
        items[0]["levers_note"] = LEVERS_NOTE
    return json_response(items[0])


@router.post(
    BATCH_PATH,
    response_model=payloads.BatchPrediction,
    responses=_SCORING_ERRORS,
    openapi_extra={"security": SECURITY_REQUIREMENT, "parameters": [LEVERS_PARAMETER]},
)
async def predict_batch(request: Request) -> Response:
    """Score up to the configured number of employees; the same fields per row."""
    who = await authorize(request, key_from_headers(request), Role.predictor)
    levers = _wants_levers(request)
    state = state_of(request)
    rows = [e.model_dump() for e in _parse(state.bodies.batch, await request.body()).employees]
    refuse_bad_rows(rows, lambda i: ("body", "employees", i))
    served, items = await _answer(state, rows, who, levers=levers)
    body = {"model_name": served.name, "model_version": served.version, "predictions": items}
    if levers:
        body["levers_note"] = LEVERS_NOTE
    return json_response(body)


@router.get(
    SINGLE_PATH,
    response_model=payloads.PredictionPage,
    responses=error_responses(*PROTECTED, 503),
)
def history(
    who: Viewer,
    state: State,
    session: DatabaseSession,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    model_version: str | None = Query(None, max_length=32),
    at_risk: bool | None = None,
    since: payloads.IsoDateTime | None = None,
    until: payloads.IsoDateTime | None = None,
    employee_number: int | None = Query(None, ge=IDENTIFIER_RANGE[0], le=IDENTIFIER_RANGE[1]),
    include_features: bool = False,
) -> payloads.PredictionPage:
    """Logged predictions, newest first; filter by version, decision, time or employee."""
    key = pseudonymise(employee_number, state.secret) if employee_number else None
    filters = queries.history_filters(
        model_version=model_version,
        at_risk=at_risk,
        since=_aware(since),
        until=_aware(until),
        employee_key=key,
    )
    return queries.prediction_page(
        session, filters, limit=limit, offset=offset, include_features=include_features
    )


async def _answer(
    state: ServingState,
    rows: list[dict[str, Any]],
    who: Principal,
    source: str = "api",
    *,
    levers: bool = False,
) -> tuple[ServedModel, list[dict[str, Any]]]:
    """Score validated rows and log them; small compiled batches on the event loop."""
    request_id = request_id_var.get() or "-"
    served = state.models.current
    if served is None:
        raise UnavailableError("no model loaded yet")
    inline = INLINE_LEVER_ROWS if levers else INLINE_ROWS
    if served.scorer.kind == "compiled" and len(rows) <= inline:
        return state.score_rows(rows, request_id, who.key_id, source, levers=levers)
    return await run_in_threadpool(
        partial(state.score_rows, levers=levers), rows, request_id, who.key_id, source
    )


def _parse(model: type[BaseModel], body: bytes) -> Any:
    """Validate a JSON body with pydantic-core's own parser (no intermediate Python dict)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        details = error.errors(include_url=False, include_context=False)
        for item in details:
            item["loc"] = ("body", *item["loc"])
            if isinstance(item.get("input"), bytes):  # undecodable JSON: do not echo it back
                item["input"] = item["input"].decode("utf-8", errors="replace")[:200]
        raise RequestValidationError(details) from None


def _wants_levers(request: Request) -> bool:
    """The ``levers`` query flag (default false); 422 naming the allowed values."""
    value = request.query_params.get("levers")
    if value is None:
        return False
    flag = LEVER_FLAGS.get(value.lower())
    if flag is None:
        raise RequestValidationError(
            [
                {
                    "type": "bool_parsing",
                    "loc": ("query", "levers"),
                    "msg": "must be one of: true, false, 1, 0",
                    "input": value[:64],
                }
            ]
        )
    return flag


def _purpose_source(request: Request) -> str:
    """The log source for the request's purpose header; 422 naming allowed values."""
    value = request.headers.get("x-prediction-purpose")
    if value is None:
        return "api"
    if value not in PURPOSES:
        raise RequestValidationError(
            [
                {
                    "type": "enum",
                    "loc": ("header", "X-Prediction-Purpose"),
                    "msg": f"must be one of: {', '.join(sorted(PURPOSES))}",
                    "input": value[:64],
                }
            ]
        )
    return PURPOSES[value]


def _aware(value: datetime | None) -> datetime | None:
    """A date-time without an offset is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
