"""The app as a whole: size limits, every protected route's access check, CORS."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from attrition.settings import get_settings

from .conftest import support


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_batch_and_body_limits_give_413(
    serving_env: str,
    keys: dict[str, str],
    dev_frame: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from attrition.serving.app import create_app

    monkeypatch.setenv("ATTRITION_MAX_BATCH_ROWS", "3")
    monkeypatch.setenv("ATTRITION_MAX_BODY_BYTES", "4096")
    get_settings.cache_clear()
    employees = [support.employee(r) for _, r in dev_frame.iloc[:4].iterrows()]
    with TestClient(create_app(get_settings())) as client:
        too_many = client.post(
            "/v1/predictions/batch", json={"employees": employees}, headers=auth(keys["predictor"])
        )
        assert too_many.status_code == 413
        assert "at most 3" in too_many.json()["detail"]
        big = client.post(
            "/v1/predictions",
            content=b"{" + b" " * 5000 + b"}",
            headers=auth(keys["predictor"]) | {"Content-Type": "application/json"},
        )
        assert big.status_code == 413


def test_every_protected_route_refuses_missing_wrong_and_over_limit_keys(
    serving_env: str,
    keys: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from attrition.serving.app import create_app

    monkeypatch.setenv("ATTRITION_RATE_LIMIT_PER_MINUTE", "6")
    get_settings.cache_clear()
    app = create_app(get_settings())
    needs = {
        ("POST", "/v1/predictions"): "predictor",
        ("POST", "/v1/predictions/batch"): "predictor",
        ("GET", "/v1/predictions"): "viewer",
        ("POST", "/v1/outcomes"): "predictor",
        ("GET", "/v1/workforce/summary"): "viewer",
        ("GET", "/v1/model"): "viewer",
        ("POST", "/v1/monitoring/run"): "admin",
        ("GET", "/v1/monitoring/reports"): "viewer",
        ("GET", "/v1/monitoring/reports/1"): "viewer",
        ("GET", "/v1/monitoring/reports/1/html"): "viewer",
        ("POST", "/v1/admin/reload"): "admin",
        ("GET", "/v1/auth/me"): "viewer",
        ("GET", "/v1/models"): "viewer",
        ("POST", "/v1/admin/promote"): "admin",
        ("POST", "/v1/admin/rollback"): "admin",
    }
    paths = app.openapi()["paths"]
    protected = {(m.upper(), p) for p, ops in paths.items() for m in ops if p.startswith("/v1")}
    templated = {(m, p.replace("{report_id}", "1")) for m, p in protected}
    assert templated == set(needs), "a /v1 route is missing from this test"
    order = ["viewer", "predictor", "admin"]
    with TestClient(app) as client:
        for (method, path), role in needs.items():
            assert client.request(method, path).status_code == 401
            bad = client.request(method, path, headers=auth("atk_0000000000000000_" + "x" * 43))
            assert bad.status_code == 401
            lower = order[order.index(role) - 1] if role != "viewer" else None
            if lower:
                assert client.request(method, path, headers=auth(keys[lower])).status_code == 403
        # each key has 6 requests a minute: the next ones are refused with Retry-After
        for _ in range(8):
            response = client.get("/v1/model", headers={"X-API-Key": keys["admin"]})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1


def test_cors_is_closed_unless_origins_are_configured(
    client: TestClient, serving_env: str, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from attrition.serving.app import create_app

    preflight = {"Origin": "https://hr.example.org", "Access-Control-Request-Method": "POST"}
    closed = client.options("/v1/predictions", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    monkeypatch.setenv("ATTRITION_CORS_ORIGINS", '["https://hr.example.org"]')
    get_settings.cache_clear()
    with TestClient(create_app(get_settings())) as open_client:
        allowed = open_client.options("/v1/predictions", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "https://hr.example.org"
        other = open_client.options(
            "/v1/predictions", headers={**preflight, "Origin": "https://evil.example.com"}
        )
        assert "access-control-allow-origin" not in other.headers
