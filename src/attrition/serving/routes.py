"""Route handlers. Hot paths are ``async`` and never touch the database; other routes are
plain functions that FastAPI runs in its thread pool."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel as PydanticModel
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from attrition.audit import AuditAction, record_event
from attrition.db.engine import session_scope
from attrition.errors import AttritionError
from attrition.privacy import pseudonymise
from attrition.schema import IDENTIFIER_RANGE, allowed_values, categories_of
from attrition.serving import payloads, queries
from attrition.serving.inference.model_extras import version_history
from attrition.serving.platform.access import (
    PROTECTED,
    SECURITY_REQUIREMENT,
    authorize,
    error_responses,
    key_from_headers,
    require,
)
from attrition.serving.platform.api_keys import Principal, Role
from attrition.serving.platform.logs import request_id_var
from attrition.serving.platform.metrics import exposition
from attrition.serving.platform.middleware import json_response
from attrition.serving.state import ServingState
from attrition.settings import Settings

if TYPE_CHECKING:  # the monitoring stack is imported only when a check runs
    from attrition.monitoring.service import RetrainJob, Spawn

logger = logging.getLogger(__name__)

viewer = Depends(require(Role.viewer))
predictor = Depends(require(Role.predictor))
admin = Depends(require(Role.admin))


def _state(request: Request) -> ServingState:
    state: ServingState = request.app.state.serving
    return state


def _db(action: Callable[[], Any]) -> Any:
    """Run a database action; an unreachable database becomes a 503, not a 500."""
    try:
        return action()
    except HTTPException:
        raise
    except Exception as error:
        logger.warning("database action failed: %s", type(error).__name__)
        raise HTTPException(503, "database unavailable, try again shortly") from None


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter()
    _health_routes(router)
    _prediction_routes(router, settings)
    _data_routes(router)
    _monitoring_routes(router)
    _admin_routes(router)
    return router


def _health_routes(router: APIRouter) -> None:
    @router.get("/health/live", response_model=payloads.Live, tags=["health"])
    async def live() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @router.get(
        "/health/ready",
        response_model=payloads.Ready,
        tags=["health"],
        responses={503: {"model": payloads.Ready, "description": "No model loaded"}},
    )
    async def ready(request: Request) -> Response:
        """Model loaded (and from where), database reachable, rows waiting in the spool."""
        state = _state(request)
        served = state.models.current
        body = payloads.Ready(
            ready=served is not None,
            model_version=served.version if served else None,
            model_source=served.source if served else None,
            database=await state.database_ok(),
            spool_rows=max(0, state.writer.spooled - state.writer.replayed),
        )
        return json_response(body.model_dump(), status_code=200 if served else 503)

    @router.get(
        "/metrics",
        tags=["health"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus"}},
    )
    async def metrics(request: Request) -> Response:
        """Prometheus metrics."""
        payload, content_type = exposition(_state(request).metrics)
        return Response(payload, media_type=content_type)


def _parse(model: type[PydanticModel], body: bytes) -> Any:
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


def _json_body(schema_name: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema_name}"}
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
        "security": SECURITY_REQUIREMENT,
    }


PURPOSES = {"what-if": "what-if"}  # header value -> prediction_log.source
PURPOSE_PARAMETER: dict[str, Any] = {
    "name": "X-Prediction-Purpose",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "enum": sorted(PURPOSES)},
    "description": "what-if: an exploratory score, excluded from the workforce summary",
}


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


def _prediction_routes(router: APIRouter, settings: Settings) -> None:
    """The hot paths: auth, validation and scoring without FastAPI's dependency machinery
    (measurably cheaper per request); their OpenAPI entries declare the same body models
    and security schemes as the other routes."""
    employee = payloads.employee_model()
    batch = payloads.batch_model(settings.max_batch_rows)
    errors = error_responses(*PROTECTED, 503)
    errors[422] = {
        "description": "Validation Error (each bad field named)",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
        },
    }

    async def answer(
        request: Request, rows: list[dict[str, Any]], who: Principal, source: str = "api"
    ) -> Any:
        state = _state(request)
        request_id = request_id_var.get() or "-"
        served = state.models.current
        if served is None:
            raise HTTPException(503, "no model loaded yet")
        if served.scorer.kind == "compiled" and len(rows) <= 64:
            return state.score_rows(rows, request_id, who.key_id, source)
        return await run_in_threadpool(state.score_rows, rows, request_id, who.key_id, source)

    @router.post(
        "/v1/predictions",
        response_model=payloads.Prediction,
        tags=["predictions"],
        responses=errors,
        openapi_extra={**_json_body(employee.__name__), "parameters": [PURPOSE_PARAMETER]},
    )
    async def predict(request: Request) -> Response:
        """Score one employee: probability, decision, threshold, model version, top factors.
        ``X-Prediction-Purpose: what-if`` marks an exploratory score: logged with source
        "what-if" and left out of the workforce summary."""
        who = await authorize(request, key_from_headers(request), Role.predictor)
        source = _purpose_source(request)
        row = _parse(employee, await request.body()).model_dump()
        _, items = await answer(request, [row], who, source)
        return json_response(items[0])

    @router.post(
        "/v1/predictions/batch",
        response_model=payloads.BatchPrediction,
        tags=["predictions"],
        responses=errors,
        openapi_extra=_json_body(batch.__name__),
    )
    async def predict_batch(request: Request) -> Response:
        """Score up to the configured number of employees; the same fields per row."""
        who = await authorize(request, key_from_headers(request), Role.predictor)
        rows = [e.model_dump() for e in _parse(batch, await request.body()).employees]
        served, items = await answer(request, rows, who)
        return json_response(
            {"model_name": served.name, "model_version": served.version, "predictions": items}
        )

    @router.get(
        "/v1/predictions",
        response_model=payloads.PredictionPage,
        tags=["predictions"],
        responses=error_responses(*PROTECTED, 503),
    )
    def history(
        request: Request,
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=10_000_000),
        model_version: str | None = Query(None, max_length=32),
        at_risk: bool | None = None,
        since: payloads.IsoDateTime | None = None,
        until: payloads.IsoDateTime | None = None,
        employee_number: int | None = Query(None, ge=IDENTIFIER_RANGE[0], le=IDENTIFIER_RANGE[1]),
        include_features: bool = False,
        who: Principal = viewer,
    ) -> payloads.PredictionPage:
        """Logged predictions, newest first; filter by version, decision, time or employee."""
        state = _state(request)
        key = pseudonymise(employee_number, state.secret) if employee_number else None
        filters = queries.history_filters(
            model_version=model_version,
            at_risk=at_risk,
            since=_aware(since),
            until=_aware(until),
            employee_key=key,
        )

        def run() -> payloads.PredictionPage:
            with session_scope(state.settings.database_url) as session:
                return queries.prediction_page(
                    session, filters, limit=limit, offset=offset, include_features=include_features
                )

        result: payloads.PredictionPage = _db(run)
        return result


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _data_routes(router: APIRouter) -> None:
    @router.post(
        "/v1/outcomes",
        response_model=payloads.OutcomeResult,
        tags=["outcomes"],
        responses=error_responses(*PROTECTED, 400, 503),
    )
    def outcomes(
        request: Request, body: payloads.OutcomeBatch, who: Principal = predictor
    ) -> payloads.OutcomeResult:
        """Record real outcomes (left or stayed, as of a date) for performance monitoring."""
        state = _state(request)
        items = [
            (pseudonymise(o.employee_number, state.secret), o.left, o.outcome_date)
            for o in body.outcomes
        ]

        def run() -> payloads.OutcomeResult:
            with session_scope(state.settings.database_url) as session:
                return queries.record_outcomes(session, items, recorded_by=who.key_id)

        result: payloads.OutcomeResult = _db(run)
        return result

    @router.get(
        "/v1/workforce/summary",
        response_model=payloads.WorkforceSummary,
        tags=["workforce"],
        responses=error_responses(*PROTECTED, 503),
    )
    def workforce(
        request: Request,
        days: int = Query(90, ge=1, le=3650),
        department: str | None = Query(
            None, max_length=64, json_schema_extra={"enum": list(categories_of("Department"))}
        ),
        job_role: str | None = Query(
            None, max_length=64, json_schema_extra={"enum": list(categories_of("JobRole"))}
        ),
        who: Principal = viewer,
    ) -> payloads.WorkforceSummary:
        """Risk by department, job role, job level, tenure band, overtime and risk band
        (latest prediction per employee; what-if scores and rows without an employee number
        left out), expected leavers, and a daily series, over the last ``days`` days;
        optionally for one department and/or job role."""
        state = _state(request)
        where = queries.WorkforceFilter(
            since=datetime.now(UTC) - timedelta(days=days),
            department=_category("department", "Department", department),
            job_role=_category("job_role", "JobRole", job_role),
        )

        def run() -> payloads.WorkforceSummary:
            with session_scope(state.settings.database_url) as session:
                return queries.workforce_summary(session, where)

        result: payloads.WorkforceSummary = _db(run)
        return result


def _category(parameter: str, feature: str, value: str | None) -> str | None:
    """``value`` if it is one of the feature's categories; else a 422 naming them."""
    if value is None or value in categories_of(feature):
        return value
    raise RequestValidationError(
        [
            {
                "type": "enum",
                "loc": ("query", parameter),
                "msg": f"{parameter} must be {allowed_values(feature)}",
                "input": value,
            }
        ]
    )


def _monitoring_routes(router: APIRouter) -> None:
    @router.post(
        "/v1/monitoring/run",
        response_model=payloads.MonitoringRunResult,
        tags=["monitoring"],
        responses=error_responses(*PROTECTED, 400, 409, 503),
    )
    def run_monitoring(
        request: Request, body: payloads.MonitoringRunIn | None = None, who: Principal = admin
    ) -> payloads.MonitoringRunResult:
        """Run a drift and performance check now (admin). With ``retrain`` and a confirmed
        problem, a retrain of this check starts in the background (one at a time per process;
        ``retrain: "started"``); its outcome is written to this report when it ends, and
        recorded as audit events."""
        state = _state(request)
        runner = _monitoring_runner()
        if runner is None:
            raise HTTPException(503, "monitoring not available in this installation yet")
        retrain = body.retrain if body else False
        result = _run_monitoring(runner, retrain, partial(_spawn_retrain, state, who))
        report_id = _report_id(result)
        status = _retrain_status(result) if retrain else "not_requested"
        _audit(state, who, AuditAction.MONITORING_RUN, str(report_id), {"retrain": status})

        def read() -> payloads.ReportSummary | None:
            with session_scope(state.settings.database_url) as session:
                return queries.report_detail(session, report_id)

        report = _db(read)
        if report is None:
            raise HTTPException(503, "monitoring ran but its report is not readable yet")
        return payloads.MonitoringRunResult.model_validate(
            {**report.model_dump(), "retrain": status}
        )

    @router.get(
        "/v1/monitoring/reports",
        response_model=payloads.ReportPage,
        tags=["monitoring"],
        responses=error_responses(*PROTECTED, 503),
    )
    def reports(
        request: Request,
        limit: int = Query(20, ge=1, le=200),
        offset: int = Query(0, ge=0, le=10_000_000),
        who: Principal = viewer,
    ) -> payloads.ReportPage:
        """Drift reports, newest first."""
        state = _state(request)

        def run() -> payloads.ReportPage:
            with session_scope(state.settings.database_url) as session:
                return queries.report_page(session, limit=limit, offset=offset)

        result: payloads.ReportPage = _db(run)
        return result

    @router.get(
        "/v1/monitoring/reports/{report_id}",
        response_model=payloads.ReportDetail,
        tags=["monitoring"],
        responses=error_responses(*PROTECTED, 404, 503),
    )
    def report(
        request: Request, report_id: int = PathParam(ge=1, le=2**62), who: Principal = viewer
    ) -> payloads.ReportDetail:
        """One drift report with its full summary."""
        state = _state(request)

        def run() -> payloads.ReportDetail | None:
            with session_scope(state.settings.database_url) as session:
                return queries.report_detail(session, report_id)

        found: payloads.ReportDetail | None = _db(run)
        if found is None:
            raise HTTPException(404, f"no drift report with id {report_id}")
        return found

    @router.get(
        "/v1/monitoring/reports/{report_id}/html",
        response_model=None,
        tags=["monitoring"],
        responses={
            200: {
                "content": {"text/html": {"schema": {"type": "string"}}},
                "description": "HTML report",
            },
            **error_responses(*PROTECTED, 404, 503),
        },
    )
    def report_html(
        request: Request, report_id: int = PathParam(ge=1, le=2**62), who: Principal = viewer
    ) -> HTMLResponse:
        """The drift report as a standalone HTML page."""
        state = _state(request)

        def run() -> str | None:
            with session_scope(state.settings.database_url) as session:
                return queries.report_html(session, report_id)

        html: str | None = _db(run)
        if html is None:
            raise HTTPException(404, f"no HTML for drift report {report_id}")
        return HTMLResponse(html)


def _monitoring_runner() -> Callable[..., Any] | None:
    """``attrition.monitoring.service.run_monitoring`` if it is installed, else None."""
    try:
        from attrition.monitoring import service  # type: ignore[attr-defined]
    except ImportError:
        return None
    runner = getattr(service, "run_monitoring", None)
    return runner if callable(runner) else None


def _run_monitoring(runner: Callable[..., Any], retrain: bool, spawn: "Spawn") -> Any:
    try:
        return runner(retrain=retrain, spawn=spawn)
    except AttritionError as error:  # e.g. no reference or too few current rows
        raise HTTPException(409, f"monitoring could not run: {error}") from None
    except Exception as error:
        logger.exception("monitoring run failed")
        raise HTTPException(
            503, f"monitoring failed ({type(error).__name__}); details are in the server log"
        ) from None


def _retrain_status(result: Any) -> str:
    """started, already_running or not_needed: what the check did about retraining."""
    status = result.get("retrain", {}).get("status") if isinstance(result, dict) else None
    return status if status in ("started", "already_running") else "not_needed"


def _spawn_retrain(state: ServingState, who: Principal, report_id: int, job: "RetrainJob") -> bool:
    """Run ``job`` (the retrain of report ``report_id``'s check) on the background runner,
    one at a time per process; False when one is already running."""
    return state.retrains.start(lambda: _retrain(state, who, report_id, job))


def _retrain(state: ServingState, who: Principal, report_id: int, job: "RetrainJob") -> None:
    """The background retrain of a checked report, audited; reload if promoted."""
    _audit(state, who, AuditAction.BACKGROUND_RETRAIN_STARTED, str(report_id), {})
    try:
        outcome = job()
    except Exception as error:
        logger.warning("background retrain failed: %s", type(error).__name__)
        _audit(state, who, AuditAction.BACKGROUND_RETRAIN_FAILED, str(report_id),
               {"error": type(error).__name__})  # fmt: skip
        return
    details = {
        "report_id": report_id,
        "status": outcome.get("status"),
        "new_version": outcome.get("new_version"),
        "promoted": bool(outcome.get("promoted")),
    }
    _audit(state, who, AuditAction.BACKGROUND_RETRAIN_FINISHED, str(report_id), details)
    if details["promoted"]:
        try:
            state.models.reload(broadcast=True)
        except Exception as error:
            logger.warning("reload after retrain failed: %s", type(error).__name__)


def _report_id(result: Any) -> int:
    if isinstance(result, int):
        return result
    if isinstance(result, dict):
        return int(result.get("report_id") or result["id"])
    return int(getattr(result, "report_id", None) or result.id)


def _audit(
    state: ServingState,
    who: Principal,
    action: AuditAction,
    target: str | None,
    details: dict[str, Any],
) -> None:
    """Record an admin action; a database outage is logged, not raised."""
    try:
        with session_scope(state.settings.database_url) as session:
            record_event(
                session, actor=f"key:{who.key_id}", action=action, target=target, details=details
            )
    except Exception as error:
        logger.error("audit event %s not recorded: %s", action, type(error).__name__)


def _move(action: Callable[[], Any], user_error_status: int) -> Any:
    """Run a registry alias move; a user error (unknown version, nothing to roll back)
    becomes ``user_error_status`` with its message, anything else a 503."""
    try:
        return action()
    except AttritionError as error:
        raise HTTPException(user_error_status, str(error)) from None
    except Exception as error:
        logger.warning("alias move failed: %s", type(error).__name__)
        raise HTTPException(503, "model registry unavailable, try again shortly") from None


def _after_move(state: ServingState, who: Principal, move: Any) -> payloads.AliasMoveResult:
    """Reload the moved champion in every worker; a failed reload keeps the old model."""
    try:
        _, served = state.models.reload(broadcast=True)
        serving: str | None = served.version
    except Exception as error:
        serving = state.models.current.version if state.models.current else None
        _audit(
            state, who, AuditAction.MODEL_RELOAD_FAILED, serving, {"error": type(error).__name__}
        )
    state.extras.aliases(fresh=True)
    return payloads.AliasMoveResult(
        alias=move.alias,
        version=move.version,
        previous=move.previous,
        kind=move.kind,
        actor=move.actor,
        serving_version=serving,
    )


def _admin_routes(router: APIRouter) -> None:
    @router.get(
        "/v1/auth/me",
        response_model=payloads.Me,
        tags=["auth"],
        responses=error_responses(*PROTECTED, 503),
    )
    async def me(who: Principal = viewer) -> payloads.Me:
        """The calling key's id, name and role (any valid key)."""
        return payloads.Me(key_id=who.key_id, name=who.name, role=who.role.name)

    @router.get(
        "/v1/model",
        response_model=payloads.ModelInfo,
        tags=["model"],
        responses=error_responses(*PROTECTED, 503),
    )
    def model_info(request: Request, who: Principal = viewer) -> payloads.ModelInfo:
        """The model being served: name, version, run, metrics, threshold (and why),
        features, aliases, batch limit, fairness report, importance and curves."""
        state = _state(request)
        served = state.models.current
        if served is None:
            raise HTTPException(503, "no model loaded yet")
        extras = state.extras.extras(served.version, served.run_id)
        return payloads.ModelInfo(
            name=served.name,
            version=served.version,
            run_id=served.run_id,
            trained_at=served.trained_at,
            source=served.source,
            loaded_at=served.loaded_at,
            metrics=served.metrics,
            threshold=served.threshold,
            features=list(served.feature_names),
            threshold_reason=extras.threshold_reason,
            aliases=state.extras.aliases(),
            max_batch_rows=state.settings.max_batch_rows,
            fairness=extras.fairness,
            importance=extras.importance,
            curves=payloads.Curves.model_validate(extras.curves) if extras.curves else None,
        )

    @router.get(
        "/v1/models",
        response_model=payloads.ModelVersions,
        tags=["model"],
        responses=error_responses(*PROTECTED, 503),
    )
    def versions(request: Request, who: Principal = viewer) -> payloads.ModelVersions:
        """Every registered version, newest first: aliases, creation time, run, holdout
        metrics and the promotion gate's verdict."""
        state = _state(request)
        try:
            history = version_history(state.models.config)
        except Exception as error:
            logger.warning("version history unavailable: %s", type(error).__name__)
            raise HTTPException(503, "model registry unavailable, try again shortly") from None
        return payloads.ModelVersions.model_validate({"versions": history})

    @router.post(
        "/v1/admin/promote",
        response_model=payloads.AliasMoveResult,
        tags=["admin"],
        responses=error_responses(*PROTECTED, 400, 404, 503),
    )
    def promote(
        request: Request, body: payloads.PromoteIn, who: Principal = admin
    ) -> payloads.AliasMoveResult:
        """Make a version the champion (audited with the key id); the API reloads it."""
        from attrition import registry

        move = _move(lambda: registry.promote(body.version, actor=f"key:{who.key_id}"), 404)
        return _after_move(_state(request), who, move)

    @router.post(
        "/v1/admin/rollback",
        response_model=payloads.AliasMoveResult,
        tags=["admin"],
        responses=error_responses(*PROTECTED, 409, 503),
    )
    def rollback(request: Request, who: Principal = admin) -> payloads.AliasMoveResult:
        """Move the champion back to the previous one in the audit trail (audited); the API
        reloads it. 409 when there is nothing to roll back to."""
        from attrition import registry

        move = _move(lambda: registry.rollback(actor=f"key:{who.key_id}"), 409)
        return _after_move(_state(request), who, move)

    @router.post(
        "/v1/admin/reload",
        response_model=payloads.ReloadResult,
        tags=["admin"],
        responses=error_responses(*PROTECTED, 503),
    )
    def reload(request: Request, who: Principal = admin) -> payloads.ReloadResult:
        """Reload the champion from the registry in every worker; a broken version is refused
        and the current model keeps serving."""
        state = _state(request)
        try:
            previous, served = state.models.reload(broadcast=True)
        except Exception as error:
            kept = state.models.current.version if state.models.current else None
            _audit(
                state, who, AuditAction.MODEL_RELOAD_FAILED, kept, {"error": type(error).__name__}
            )
            raise HTTPException(
                503, f"reload failed ({type(error).__name__}); still serving version {kept}"
            ) from None
        old = previous.version if previous else None
        _audit(state, who, AuditAction.MODEL_RELOAD, served.version, {"previous_version": old})
        return payloads.ReloadResult(
            reloaded=old != served.version,
            previous_version=old,
            version=served.version,
            source=served.source,
        )
