"""GET /v1/model and /v1/models: 503 while no model is loaded or the registry is
unreachable (the route itself, and the model info with its extras, in inference/)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from attrition.settings import get_settings


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_no_model_loaded_yet_is_503(serving_env: str, keys: dict[str, str]) -> None:
    from attrition.serving.app import create_app

    client = TestClient(create_app(get_settings()))  # not started: no model is loaded
    response = client.get("/v1/model", headers=auth(keys["viewer"]))
    assert response.status_code == 503 and response.json() == {"detail": "no model loaded yet"}


def test_an_unreachable_registry_is_503(
    client: TestClient, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_: object) -> None:
        raise ConnectionError("mlflow.internal refused")

    monkeypatch.setattr("attrition.serving.routes.model.version_history", down)
    response = client.get("/v1/models", headers=auth(keys["viewer"]))
    assert response.status_code == 503
    assert response.json() == {"detail": "model registry unavailable, try again shortly"}
