"""``/v1/admin/promote``, ``/v1/admin/rollback`` and ``/v1/admin/reload``: move the champion
alias and load it in every worker of this API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from attrition.audit import AuditAction
from attrition.errors import UnavailableError
from attrition.serving import payloads
from attrition.serving.admin_events import record_admin_event
from attrition.serving.deps import Admin, State
from attrition.serving.errors import registry_unavailable
from attrition.serving.openapi import PROTECTED, error_responses
from attrition.serving.platform.api_keys import Principal
from attrition.serving.state import ServingState

router = APIRouter(tags=["admin"])


@router.post(
    "/v1/admin/promote",
    response_model=payloads.AliasMoveResult,
    responses=error_responses(*PROTECTED, 400, 404, 503),
)
def promote(body: payloads.PromoteIn, who: Admin, state: State) -> payloads.AliasMoveResult:
    """Make a version the champion (audited with the key id); the API reloads it. 404 for
    a version the registry does not have."""
    from attrition import registry

    with registry_unavailable("alias move"):
        move = registry.promote(body.version, actor=f"key:{who.key_id}", config=state.registry)
    return _after_move(state, who, move)


@router.post(
    "/v1/admin/rollback",
    response_model=payloads.AliasMoveResult,
    responses=error_responses(*PROTECTED, 409, 503),
)
def rollback(who: Admin, state: State) -> payloads.AliasMoveResult:
    """Move the champion back to the previous one in the audit trail (audited); the API
    reloads it. 409 when there is nothing to roll back to."""
    from attrition import registry

    with registry_unavailable("alias move"):
        move = registry.rollback(actor=f"key:{who.key_id}", config=state.registry)
    return _after_move(state, who, move)


@router.post(
    "/v1/admin/reload",
    response_model=payloads.ReloadResult,
    responses=error_responses(*PROTECTED, 503),
)
def reload(who: Admin, state: State) -> payloads.ReloadResult:
    """Reload the champion from the registry in every worker; a broken version is refused
    and the current model keeps serving."""
    try:
        previous, served = state.models.reload(broadcast=True)
    except Exception as error:
        kept = _serving_version(state)
        failed = {"error": type(error).__name__}
        record_admin_event(state, who, AuditAction.MODEL_RELOAD_FAILED, kept, failed)
        raise UnavailableError(
            f"reload failed ({type(error).__name__}); still serving version {kept}"
        ) from None
    old = previous.version if previous else None
    moved = {"previous_version": old}
    record_admin_event(state, who, AuditAction.MODEL_RELOAD, served.version, moved)
    return payloads.ReloadResult(
        reloaded=old != served.version,
        previous_version=old,
        version=served.version,
        source=served.source,
    )


def _serving_version(state: ServingState) -> str | None:
    return state.models.current.version if state.models.current else None


def _after_move(state: ServingState, who: Principal, move: Any) -> payloads.AliasMoveResult:
    """Reload the moved champion in every worker; a failed reload keeps the old model."""
    try:
        _, served = state.models.reload(broadcast=True)
        serving: str | None = served.version
    except Exception as error:
        serving = _serving_version(state)
        failed = {"error": type(error).__name__}
        record_admin_event(state, who, AuditAction.MODEL_RELOAD_FAILED, serving, failed)
    state.extras.aliases(fresh=True)
    # the move's alias, version, previous, kind and actor; its other fields are not shown
    return payloads.AliasMoveResult.model_validate({**move.to_dict(), "serving_version": serving})
