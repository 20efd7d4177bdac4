"""The access check of every protected request: authenticate the key, apply its rate limit,
check its role (as a FastAPI dependency, or called directly by the fast routes).

A request carries one credential: ``X-API-Key`` or ``Authorization: Bearer``, or both with
the same key; two different keys are refused (400), never resolved by precedence. Failed
authentications are counted per client address and per key id
(``ATTRITION_AUTH_FAILURES_PER_MINUTE``): past the limit a failure answers 429, and a key id
the key store has never seen is not even looked up; a valid key always passes, so a flood of
bad keys from a shared address (a proxy) locks nobody out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

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
    principal = await _authenticate(state, raw, request)
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


async def _authenticate(state: Any, raw: str, request: Request) -> Principal:
    """The key's principal; 401 for a bad key, 429 past the failure limit, 503 when a key
    this process has never seen cannot be checked (database unreachable)."""
    hit, principal = state.keys.cached(raw)
    if hit and principal is not None:  # the fast path: a known good key
        return principal  # type: ignore[no-any-return]
    names = _failure_names(request, raw)
    if not hit:
        if not state.keys.knows(raw):  # no database lookup for a blocked client's guesses
            _refuse_if_blocked(state, names)
        try:
            principal = await run_in_threadpool(state.keys.verify, raw)
        except Exception as error:
            logger.warning("cannot verify API key %s: %s", split_key(raw), type(error).__name__)
            raise HTTPException(503, "cannot verify the API key right now") from None
    if principal is None:
        _refuse_if_blocked(state, names)  # past the limit: 429, and not counted again
        state.auth_failures.record(*names)
        raise HTTPException(401, "invalid API key", headers=_UNAUTHORIZED)
    result: Principal = principal
    return result


def _failure_names(request: Request, raw: str) -> tuple[str | None, str | None]:
    """The names failures count against: the client address and the key id (if any)."""
    address = request.client.host if request.client else None
    key_id = split_key(raw)
    return (f"addr:{address}" if address else None, f"key:{key_id}" if key_id else None)


def _refuse_if_blocked(state: Any, names: tuple[str | None, str | None]) -> None:
    wait = state.auth_failures.retry_after(*names)
    if wait:
        state.metrics.rate_limited.inc()
        raise HTTPException(
            429, "too many failed authentications", headers={"Retry-After": str(wait)}
        )


def key_from_headers(request: Request) -> str | None:
    """The one key of ``X-API-Key`` and ``Authorization: Bearer`` (every copy of either
    header counted); 400 when they hold different keys."""
    headers = request.headers
    keys = {key.strip() for key in headers.getlist("x-api-key") if key.strip()}
    for value in headers.getlist("authorization"):
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            keys.add(credentials.strip())
    if len(keys) > 1:
        raise HTTPException(
            400, "two different credentials in one request: send one key, in X-API-Key or "
            "Authorization: Bearer",
        )  # fmt: skip
    return next(iter(keys), None)


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting keys of ``role`` or above, within their rate limit."""

    async def dependency(
        request: Request,
        x_api_key: str | None = Security(api_key_header),
        authorization: HTTPAuthorizationCredentials | None = Security(bearer),
    ) -> Principal:
        # The parameters declare the security schemes in the OpenAPI document; the key
        # itself is read by key_from_headers, which refuses two different ones.
        return await authorize(request, key_from_headers(request), role)

    return dependency
