"""The FastAPI application factory: docs/reference.md's routes under ``/v1``, health and metrics."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from attrition.serving.inference.model_service import ModelUnavailableError
from attrition.serving.payloads import batch_model, employee_model
from attrition.serving.platform.logs import configure_logging
from attrition.serving.platform.metrics import MULTIPROC_ENV
from attrition.serving.platform.middleware import ServingMiddleware, json_response
from attrition.serving.routes import build_router
from attrition.serving.state import ServingState, build_state
from attrition.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, json_logs: bool = False, tune_gc: bool = False
) -> FastAPI:
    """A new app; the model is loaded and the log writer started when it starts up."""
    settings = settings or get_settings()
    if json_logs:
        configure_logging(settings.log_level)
    state = build_state(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await _start(state)
        if tune_gc:
            _freeze_startup_objects()
        try:
            yield
        finally:
            await _stop(state)

    app = FastAPI(
        title="Attrition prediction API",
        version="1",
        description="Employee attrition risk scores with explanations; every prediction is logged.",
        lifespan=lifespan,
    )
    app.state.serving = state
    app.openapi = lambda: _openapi(app, settings)  # type: ignore[method-assign]
    app.include_router(build_router(settings))
    app.add_exception_handler(RequestValidationError, _validation_handler(settings.max_batch_rows))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
        )
    methods = {path: set(ops) for path, ops in app.openapi()["paths"].items()}
    app.add_middleware(
        ServingMiddleware,
        metrics=state.metrics,
        max_body_bytes=settings.max_body_bytes,
        methods=methods,
    )
    from attrition.serving.platform.replica import ReplicaIdMiddleware, replica_id_for

    app.add_middleware(ReplicaIdMiddleware, replica_id=replica_id_for(settings))  # outermost
    return app


async def _start(state: ServingState) -> None:
    state.writer.start()
    try:
        await run_in_threadpool(state.keys.warm)
    except Exception as error:  # keys are then loaded one by one once the database is back
        logger.warning("API keys not preloaded: database unreachable (%s)", type(error).__name__)
    try:
        await run_in_threadpool(state.models.load_initial)
    except ModelUnavailableError as error:
        logger.error("starting without a model (not ready): %s", error)
    state.models.start_polling()


async def _stop(state: ServingState) -> None:
    state.models.stop()
    await run_in_threadpool(state.writer.close)
    await state.limiter.close()
    mark_worker_dead()


def mark_worker_dead() -> None:
    """Drop this worker's live gauges from the shared metrics folder (multi-worker serve)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def _validation_handler(max_rows: int) -> Any:
    async def handler(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        for item in error.errors():
            if item.get("type") == "too_long" and tuple(item.get("loc", ()))[:2] == (
                "body",
                "employees",
            ):
                return json_response(
                    {"detail": f"batch too large: at most {max_rows} employees per request"},
                    status_code=413,
                )
        return await request_validation_exception_handler(request, error)

    return handler


def _openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """FastAPI's schema plus the request models the hot routes validate by themselves."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = FastAPI.openapi(app)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (employee_model(), batch_model(settings.max_batch_rows)):
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body
    app.openapi_schema = schema
    return schema


def serve_factory() -> FastAPI:
    """Entry for uvicorn worker processes (``--factory``): JSON logs, settings from env,
    and a garbage collector tuned for request latency."""
    return create_app(json_logs=True, tune_gc=True)


def _freeze_startup_objects() -> None:
    """Move everything allocated at start-up (model, libraries) out of the collector's way,
    and collect the young generation less often: fewer and shorter pauses under load."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
