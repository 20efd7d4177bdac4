"""The access check of every protected request: authenticate the key, apply its rate limit,
check its role (as a FastAPI dependency, or called directly by the fast routes)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from attrition.serving.platform.api_keys import Principal, Role, split_key
from attrition.serving.platform.logs import key_id_var
from attrition.serving.platform.middleware import KEY_ID_SCOPE

logger = logging.getLogger(__name__)

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")
bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


async def authorize(request: Request, raw: str | None, role: Role) -> Principal:
    """Authenticate ``raw``, apply its rate limit, check its role; raises 401/429/403/503."""
    if not raw:
        raise HTTPException(
            401, "missing API key (Authorization: Bearer or X-API-Key)", headers=_UNAUTHORIZED
        )
    state = request.app.state.serving
    hit, principal = state.keys.cached(raw)
    if not hit:
        try:
            principal = await run_in_threadpool(state.keys.verify, raw)
        except Exception as error:
            # A key this process has never seen, while the database is unreachable.
            logger.warning("cannot verify API key %s: %s", split_key(raw), type(error).__name__)
            raise HTTPException(503, "cannot verify the API key right now") from None
    if principal is None:
        raise HTTPException(401, "invalid API key", headers=_UNAUTHORIZED)
    request.scope[KEY_ID_SCOPE] = principal.key_id
    key_id_var.set(principal.key_id)
    decision = await state.limiter.hit(principal.key_id)
    if not decision.allowed:
        state.metrics.rate_limited.inc()
        raise HTTPException(
            429, "rate limit exceeded", headers={"Retry-After": str(decision.retry_after)}
        )
    if principal.role < role:
        raise HTTPException(
            403, f"role {principal.role.name} may not do this; needs {role.name} or above"
        )
    result: Principal = principal
    return result


def key_from_headers(request: Request) -> str | None:
    """The key from ``X-API-Key`` or ``Authorization: Bearer`` (for routes without the
    dependency machinery; their OpenAPI entry declares the same security schemes)."""
    headers = request.headers
    key = headers.get("x-api-key")
    if key:
        return key
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting keys of ``role`` or above, within their rate limit."""

    async def dependency(
        request: Request,
        x_api_key: str | None = Security(api_key_header),
        authorization: HTTPAuthorizationCredentials | None = Security(bearer),
    ) -> Principal:
        raw = x_api_key or (authorization.credentials if authorization else None)
        return await authorize(request, raw, role)

    return dependency
