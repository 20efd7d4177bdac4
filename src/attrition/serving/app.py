"""The FastAPI application factory: docs/reference.md's routes under ``/v1``, health and metrics."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from attrition.serving.errors import install_error_handlers
from attrition.serving.inference.model_service import ModelUnavailableError
from attrition.serving.openapi import openapi_document
from attrition.serving.platform.encoding import SafeJSONResponse
from attrition.serving.platform.logs import configure_logging
from attrition.serving.platform.metrics import MULTIPROC_ENV
from attrition.serving.platform.middleware import ServingMiddleware
from attrition.serving.routes import ROUTERS, docs
from attrition.serving.routes.predictions import request_bodies
from attrition.serving.state import ServingState, build_state
from attrition.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, json_logs: bool = False, tune_gc: bool = False
) -> FastAPI:
    """A new app for ``settings`` (default: the environment's); the model is loaded and the
    log writer started when it starts up."""
    settings = settings or get_settings()
    if json_logs:
        configure_logging(settings.log_level)
    state = build_state(settings)
    app = FastAPI(
        title="Attrition prediction API",
        version="1",
        description="Employee attrition risk scores with explanations; every prediction is logged.",
        lifespan=partial(_lifespan, tune_gc=tune_gc),
        default_response_class=SafeJSONResponse,
        # a body without Content-Type is read as JSON, as the fast prediction routes read it;
        # any other declared type is refused with 415 by the middleware
        strict_content_type=False,
        # FastAPI's Swagger UI and ReDoc load scripts from a CDN: never served (routes/docs.py)
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.api_docs else None,
    )
    app.state.serving = state
    app.openapi = partial(openapi_document, app, request_bodies(state.bodies))  # type: ignore[method-assign]
    for router in ROUTERS:
        app.include_router(router)
    if settings.api_docs:
        app.include_router(docs.router)
    install_error_handlers(app)
    _add_middleware(app, settings, state)
    return app


def _add_middleware(app: FastAPI, settings: Settings, state: ServingState) -> None:
    """CORS when configured, the serving middleware, and the replica id outermost."""
    from attrition.serving.platform.replica import ReplicaIdMiddleware, replica_id_for

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
    app.add_middleware(ReplicaIdMiddleware, replica_id=replica_id_for(settings))


@asynccontextmanager
async def _lifespan(app: FastAPI, *, tune_gc: bool) -> AsyncIterator[None]:
    state: ServingState = app.state.serving
    await _start(state)
    if tune_gc:
        _freeze_startup_objects()
    try:
        yield
    finally:
        await _stop(state)


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
