"""What the OpenAPI document says beyond FastAPI's own reading of the routes: the error
answers of each route, the security schemes of the routes that check keys themselves, and
the request bodies those routes validate themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from attrition.serving.payloads import ErrorResponse

# The statuses every protected route can answer: two different keys, no or a bad key, a role
# too low, a body too large, a body that is not JSON, over the rate limit.
PROTECTED = (400, 401, 403, 413, 415, 429)
# Both ways of sending a key, for the routes without FastAPI's security dependencies.
SECURITY_REQUIREMENT: list[dict[str, list[str]]] = [{"APIKeyHeader": []}, {"HTTPBearer": []}]
_COMPONENT = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "Two different API keys in one request",
    401: "Missing or invalid API key",
    403: "The key's role may not use this route",
    404: "Not found",
    409: "Conflict",
    413: "Request body or batch too large",
    415: "Content-Type is not application/json",
    429: "Rate limit, or failed authentications, exceeded; see Retry-After",
    503: "Temporarily unavailable (model not loaded or database unreachable)",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error codes a route can answer with."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {"model": ErrorResponse, "description": _ERROR_TEXT[code]}
        if code == 429:
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
            }
        responses[code] = entry
    return responses


def openapi_document(app: FastAPI, bodies: Mapping[str, type[BaseModel]]) -> dict[str, Any]:
    """FastAPI's document plus ``bodies`` (path of a POST route -> the model it validates
    by itself): each one's request body and its schema among the components."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = FastAPI.openapi(app)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for path, model in bodies.items():
        body = model.model_json_schema(ref_template=_COMPONENT)
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body
        reference = {"$ref": _COMPONENT.format(model=model.__name__)}
        content = {"application/json": {"schema": reference}}
        schema["paths"][path]["post"]["requestBody"] = {"required": True, "content": content}
    app.openapi_schema = schema
    return schema
