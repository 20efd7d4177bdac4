"""GET /health/live, /health/ready and /metrics (after a reload, which is audited)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from attrition.db.engine import session_scope
from attrition.db.models import AuditEvent


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


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
