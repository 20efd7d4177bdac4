"""``/health/live``, ``/health/ready`` and ``/metrics``: public, for probes and scrapers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from attrition.serving import payloads
from attrition.serving.deps import state_of
from attrition.serving.platform.metrics import exposition
from attrition.serving.platform.middleware import json_response

# Probes and scrapers call these often: they read the state directly, without dependencies.
router = APIRouter(tags=["health"])


@router.get("/health/live", response_model=payloads.Live)
async def live() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/health/ready",
    response_model=payloads.Ready,
    responses={503: {"model": payloads.Ready, "description": "No model loaded"}},
)
async def ready(request: Request) -> Response:
    """Model loaded (and from where), database reachable, rows waiting in the spool."""
    state = state_of(request)
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
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus"}},
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics."""
    payload, content_type = exposition(state_of(request).metrics)
    return Response(payload, media_type=content_type)
