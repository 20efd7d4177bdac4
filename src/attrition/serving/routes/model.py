"""``/v1/model`` and ``/v1/models``: the model being served, and every registered version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError

from attrition.errors import UnavailableError
from attrition.registry import version_history
from attrition.serving import payloads
from attrition.serving.deps import State, Viewer
from attrition.serving.errors import registry_unavailable
from attrition.serving.openapi import PROTECTED, error_responses

router = APIRouter(tags=["model"])


@router.get(
    "/v1/model", response_model=payloads.ModelInfo, responses=error_responses(*PROTECTED, 503)
)
def model_info(who: Viewer, state: State) -> payloads.ModelInfo:
    """The model being served: name, version, run, metrics, threshold (and why),
    features, aliases, batch limit, fairness report, importance, curves and the capacity
    trade-off (share flagged -> leavers caught, with the served threshold's point)."""
    served = state.models.current
    if served is None:
        raise UnavailableError("no model loaded yet")
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
        capacity=_capacity(extras.capacity),
    )


def _capacity(curve: dict[str, Any] | None) -> payloads.CapacityTradeoff | None:
    """The version's capacity trade-off, or None when its run has none (or an unreadable one)."""
    if not curve:
        return None
    try:
        return payloads.CapacityTradeoff.model_validate(curve)
    except ValidationError:
        return None


@router.get(
    "/v1/models",
    response_model=payloads.ModelVersions,
    responses=error_responses(*PROTECTED, 503),
)
def versions(who: Viewer, state: State) -> payloads.ModelVersions:
    """Every registered version, newest first: aliases, creation time, run, holdout
    metrics and the promotion gate's verdict."""
    with registry_unavailable("version history"):
        history = [entry.to_dict() for entry in version_history(state.registry)]
    return payloads.ModelVersions.model_validate({"versions": history})
