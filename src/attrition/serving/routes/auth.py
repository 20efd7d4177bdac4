"""``/v1/auth/me``: who the calling key is (the dashboard signs in with it)."""

from __future__ import annotations

from fastapi import APIRouter

from attrition.serving import payloads
from attrition.serving.deps import Viewer
from attrition.serving.openapi import PROTECTED, error_responses

router = APIRouter(tags=["auth"])


@router.get("/v1/auth/me", response_model=payloads.Me, responses=error_responses(*PROTECTED, 503))
async def me(who: Viewer) -> payloads.Me:
    """The calling key's id, name and role (any valid key)."""
    return payloads.Me(key_id=who.key_id, name=who.name, role=who.role.name)
