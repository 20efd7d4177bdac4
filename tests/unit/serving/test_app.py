"""The API in process: predictions, validation, limits, logging, history and admin routes."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from attrition.db.engine import session_scope
from attrition.db.models import AuditEvent, PredictionLog
from attrition.privacy import pseudonymise
from attrition.schema import FEATURE_NAMES
from attrition.settings import get_settings

from .conftest import support


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def wait_for_rows(url: str, expected: int, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        with session_scope(url) as session:
            count = session.scalar(select(func.count()).select_from(PredictionLog)) or 0
        if count >= expected:
            return count
        time.sleep(0.05)
    return count


def test_single_prediction_matches_the_model_and_is_logged(
    client: TestClient,
    keys: dict[str, str],
    dev_frame: pd.DataFrame,
    logistic_model: Any,
    serving_env: str,
) -> None:
    row = dev_frame.iloc[7]
    response = client.post(
        "/v1/predictions",
        json=support.employee(row),
        headers=auth(keys["predictor"]) | {"X-Request-ID": "req-123"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = logistic_model.predict_proba(dev_frame.iloc[[7]])[0, 1]
    assert body["attrition_probability"] == pytest.approx(expected, abs=1e-9)
    assert body["at_risk"] == (expected >= logistic_model.threshold)
    assert body["threshold"] == logistic_model.threshold
    assert body["model_version"] == "1"
    assert body["employee_number"] == int(row["EmployeeNumber"])
    factors = body["top_factors"]
    assert len(factors) == 5
    assert {f["feature"] for f in factors} <= set(FEATURE_NAMES)
    reference = logistic_model.explain(dev_frame.iloc[[7]], top_k=5)[0]
    assert [f["feature"] for f in factors] == [f.feature for f in reference]
    assert response.headers["x-request-id"] == "req-123"

    assert wait_for_rows(serving_env, 1) == 1
    with session_scope(serving_env) as session:
        logged = session.scalars(select(PredictionLog)).one()
    assert logged.prediction_id == body["prediction_id"]
    assert logged.request_id == "req-123"
    assert logged.employee_key == pseudonymise(
        int(row["EmployeeNumber"]), get_settings().pseudonym_secret()
    )
    assert logged.probability == pytest.approx(expected)
    assert logged.model_version == "1" and logged.source == "api"
    assert set(logged.features) == set(FEATURE_NAMES)
    assert logged.client is not None and logged.client in keys["predictor"]


def test_batch_scores_every_row(
    client: TestClient,
    keys: dict[str, str],
    dev_frame: pd.DataFrame,
    logistic_model: Any,
    serving_env: str,
) -> None:
    rows = dev_frame.iloc[:50]
    response = client.post(
        "/v1/predictions/batch",
        json={"employees": [support.employee(r) for _, r in rows.iterrows()]},
        headers=auth(keys["predictor"]),
    )
    assert response.status_code == 200, response.text
    got = [p["attrition_probability"] for p in response.json()["predictions"]]
    expected = logistic_model.predict_proba(rows)[:, 1]
    assert got == pytest.approx(list(expected), abs=1e-9)
    assert wait_for_rows(serving_env, 50) == 50


def test_invalid_bodies_name_the_field(
    client: TestClient, keys: dict[str, str], dev_frame: pd.DataFrame
) -> None:
    body = support.employee(dev_frame.iloc[0])
    cases = [
        ({**body, "Department": "Marketing"}, "Department"),
        ({**body, "Age": 17}, "Age"),
        ({**body, "JobLevel": "2"}, "JobLevel"),
        ({**body, "Surprise": 1}, "Surprise"),
        ({k: v for k, v in body.items() if k != "OverTime"}, "OverTime"),
    ]
    for payload, field in cases:
        response = client.post("/v1/predictions", json=payload, headers=auth(keys["predictor"]))
        assert response.status_code == 422, (field, response.text)
        locations = [error["loc"][-1] for error in response.json()["detail"]]
        assert field in locations
    detail = client.post(
        "/v1/predictions", json={**body, "Department": "Marketing"}, headers=auth(keys["predictor"])
    ).json()["detail"][0]["msg"]
    assert "Research & Development" in detail


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


def test_outcomes_history_summary_and_model_info(
    client: TestClient, keys: dict[str, str], dev_frame: pd.DataFrame, serving_env: str
) -> None:
    rows = dev_frame.iloc[:20]
    client.post(
        "/v1/predictions/batch",
        json={"employees": [support.employee(r) for _, r in rows.iterrows()]},
        headers=auth(keys["predictor"]),
    )
    wait_for_rows(serving_env, 20)
    number = int(rows.iloc[0]["EmployeeNumber"])
    outcome = {"employee_number": number, "left": True, "outcome_date": "2026-01-31"}
    first = client.post(
        "/v1/outcomes", json={"outcomes": [outcome]}, headers=auth(keys["predictor"])
    )
    assert first.json() == {"recorded": 1, "updated": 0}
    again = client.post(
        "/v1/outcomes",
        json={"outcomes": [{**outcome, "left": False}]},
        headers=auth(keys["predictor"]),
    )
    assert again.json() == {"recorded": 0, "updated": 1}

    page = client.get("/v1/predictions", params={"limit": 5}, headers=auth(keys["viewer"])).json()
    assert page["total"] == 20 and len(page["items"]) == 5 and page["items"][0]["features"] is None
    mine = client.get(
        "/v1/predictions",
        params={"employee_number": number, "include_features": True},
        headers=auth(keys["viewer"]),
    ).json()
    assert mine["total"] == 1 and mine["items"][0]["features"]["JobRole"] == rows.iloc[0]["JobRole"]

    summary = client.get("/v1/workforce/summary", headers=auth(keys["viewer"])).json()
    assert summary["employees"] == 20
    assert sum(g["employees"] for g in summary["by_department"]) == 20
    assert {g["group"] for g in summary["by_band"]} <= {"low", "medium", "high"}

    info = client.get("/v1/model", headers=auth(keys["viewer"])).json()
    assert info["version"] == "1" and info["source"] == "registry"
    assert info["metrics"] == {"roc_auc": 0.8}
    assert "EmployeeNumber" not in info["features"] and "OverTime" in info["features"]


def test_monitoring_run_is_503_until_monitoring_exists_and_reports_read_the_table(
    client: TestClient, keys: dict[str, str]
) -> None:
    from attrition.serving.routes import _monitoring_runner

    response = client.post("/v1/monitoring/run", json={}, headers=auth(keys["admin"]))
    if _monitoring_runner() is None:
        assert response.status_code == 503
        assert "monitoring not available" in response.json()["detail"]
    listing = client.get("/v1/monitoring/reports", headers=auth(keys["viewer"]))
    assert listing.status_code == 200 and listing.json()["total"] >= 0
    assert (
        client.get("/v1/monitoring/reports/999999", headers=auth(keys["viewer"])).status_code == 404
    )


def test_reload_is_audited_and_health_reports_the_source(
    client: TestClient, keys: dict[str, str], serving_env: str
) -> None:
    ready = client.get("/health/ready").json()
    assert ready["ready"] and ready["model_source"] == "registry" and ready["database"]
    assert client.get("/health/live").json() == {"status": "ok"}
    reloaded = client.post("/v1/admin/reload", headers=auth(keys["admin"]))
    assert reloaded.status_code == 200 and reloaded.json()["version"] == "1"
    with session_scope(serving_env) as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "model.reload" in actions
    metrics = client.get("/metrics").text
    assert (
        'attrition_model_info{name="attrition-classifier",source="registry",version="1"} 1.0'
        in metrics
    )
    assert "attrition_http_request_duration_seconds_bucket" in metrics
    assert 'attrition_model_reloads_total{result="success"} 1.0' in metrics


def test_keys_and_employee_ids_never_reach_the_logs(
    client: TestClient,
    keys: dict[str, str],
    dev_frame: pd.DataFrame,
    caplog: pytest.LogCaptureFixture,
    serving_env: str,
) -> None:
    import logging

    from sqlalchemy import text

    from attrition.serving.platform.logs import JsonFormatter

    body = support.employee(dev_frame.iloc[3])
    body["EmployeeNumber"] = 987654321
    with caplog.at_level(logging.INFO):
        for key in (keys["predictor"], keys["viewer"], "atk_" + "0" * 16 + "_" + "y" * 43):
            client.post("/v1/predictions", json=body, headers=auth(key))
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    access = [line for line in lines if '"msg": "request"' in line or '"msg":"request"' in line]
    assert len(access) == 3
    text_out = "\n".join(lines)
    for secret in keys.values():
        assert secret not in text_out and secret.split("_", 2)[2] not in text_out
    assert "987654321" not in text_out
    assert keys["predictor"].split("_")[1] in text_out  # the public key id is logged
    wait_for_rows(serving_env, 1)
    with session_scope(serving_env) as session:
        dump = " ".join(
            str(row)
            for table in ("prediction_log", "api_key", "audit_event")
            for row in session.execute(text(f"SELECT * FROM {table}")).all()
        )
    for secret in keys.values():
        assert secret.split("_", 2)[2] not in dump
    assert "987654321" not in dump


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


def test_what_if_scores_are_logged_but_not_part_of_the_workforce(
    client: TestClient, keys: dict[str, str], dev_frame: pd.DataFrame, serving_env: str
) -> None:
    headers = auth(keys["predictor"])
    real = support.employee(dev_frame.iloc[0])
    anonymous = {
        k: v for k, v in support.employee(dev_frame.iloc[1]).items() if k != "EmployeeNumber"
    }
    what_if = {**support.employee(dev_frame.iloc[2]), "OverTime": "No"}
    assert client.post("/v1/predictions", json=real, headers=headers).status_code == 200
    assert client.post("/v1/predictions", json=anonymous, headers=headers).status_code == 200
    purpose = headers | {"X-Prediction-Purpose": "what-if"}
    assert client.post("/v1/predictions", json=what_if, headers=purpose).status_code == 200
    bad = client.post(
        "/v1/predictions", json=real, headers=headers | {"X-Prediction-Purpose": "payroll"}
    )
    assert bad.status_code == 422 and "what-if" in bad.text
    assert wait_for_rows(serving_env, 3) == 3  # every answered prediction is logged
    with session_scope(serving_env) as session:
        sources = sorted(session.scalars(select(PredictionLog.source)))
    assert sources == ["api", "api", "what-if"]
    summary = client.get("/v1/workforce/summary", headers=auth(keys["viewer"])).json()
    assert summary["employees"] == 1
    assert sum(g["employees"] for g in summary["by_job_role"]) == 1
    assert sum(p["predictions"] for p in summary["over_time"]) == 1


@pytest.mark.parametrize("role", ["viewer", "predictor", "admin"])
def test_auth_me_names_the_calling_key(client: TestClient, keys: dict[str, str], role: str) -> None:
    body = client.get("/v1/auth/me", headers=auth(keys[role])).json()
    assert body["role"] == role and body["name"] == f"test-{role}"
    assert keys[role].startswith(f"atk_{body['key_id']}")


def test_workforce_filters_are_validated_against_the_schema(
    client: TestClient, keys: dict[str, str]
) -> None:
    headers = auth(keys["viewer"])
    bad = client.get("/v1/workforce/summary", params={"department": "Legal"}, headers=headers)
    assert bad.status_code == 422
    assert "department" in bad.text and "Research & Development" in bad.text
    role = client.get("/v1/workforce/summary", params={"job_role": "CEO"}, headers=headers)
    assert role.status_code == 422 and "Sales Executive" in role.text
    ok = client.get("/v1/workforce/summary", params={"department": "Sales"}, headers=headers).json()
    assert ok["employees"] == 0 and ok["expected_leavers"] == 0.0
    assert {"by_job_level", "by_tenure_band", "by_overtime"} <= set(ok)
