"""The OpenAPI document: the bodies the fast routes validate themselves are declared once
(``routes.predictions.request_bodies``) with the app's batch limit; error answers and the
security schemes of the routes without dependencies."""

from __future__ import annotations

import pytest

from attrition.serving.openapi import PROTECTED, SECURITY_REQUIREMENT, error_responses
from attrition.serving.routes import predictions
from attrition.settings import get_settings


def test_fast_route_bodies_come_from_one_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    from attrition.serving.app import create_app

    monkeypatch.setenv("ATTRITION_MAX_BATCH_ROWS", "7")
    get_settings.cache_clear()
    app = create_app(get_settings())
    spec = app.openapi()
    components = spec["components"]["schemas"]
    declared = predictions.request_bodies(app.state.serving.bodies)
    assert set(declared) == {"/v1/predictions", "/v1/predictions/batch"}
    for path, model in declared.items():
        operation = spec["paths"][path]["post"]
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert reference == f"#/components/schemas/{model.__name__}"
        assert model.__name__ in components
        assert operation["security"] == SECURITY_REQUIREMENT
    assert components["PredictionBatch"]["properties"]["employees"]["maxItems"] == 7
    for route in predictions.router.routes:  # the routes themselves do not repeat them
        assert "requestBody" not in (getattr(route, "openapi_extra", None) or {})


def test_error_responses_name_each_code_and_retry_after_on_429() -> None:
    responses = error_responses(*PROTECTED, 503)
    assert set(responses) == {400, 401, 403, 413, 415, 429, 503}
    assert "Retry-After" in responses[429]["headers"]
    assert all(entry["description"] for entry in responses.values())
