"""GET /v1/models, POST /v1/admin/promote and /v1/admin/rollback against a registry of
their own (two versions), audited with the key id; the API serves the moved champion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from attrition.db.engine import session_scope
from attrition.db.models import AuditEvent
from attrition.settings import get_settings

from ..conftest import support


@pytest.fixture
def two_versions(
    tmp_path: Path, logistic_model: Any, serving_env: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    support.register_model(logistic_model, uri, tmp_path / "artifacts")
    support.register_model(logistic_model, uri, tmp_path / "artifacts", champion=False)
    monkeypatch.setenv("ATTRITION_MLFLOW_TRACKING_URI", uri)
    get_settings.cache_clear()
    return uri


@pytest.fixture
def api(two_versions: str, keys: dict[str, str]) -> Iterator[TestClient]:
    from attrition.serving.app import create_app

    with TestClient(create_app(get_settings())) as test_client:
        yield test_client


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_versions_promote_and_rollback(
    api: TestClient, keys: dict[str, str], serving_env: str
) -> None:
    listing = api.get("/v1/models", headers=auth(keys["viewer"])).json()["versions"]
    assert [v["version"] for v in listing] == ["2", "1"]
    assert listing[1]["aliases"] == ["champion"] and listing[0]["aliases"] == []
    assert listing[1]["metrics"] == {"roc_auc": 0.8} and listing[1]["run_id"]
    assert listing[1]["gate_passed"] is None  # the test runs carry no gate tag

    assert (
        api.post(
            "/v1/admin/promote", json={"version": "2"}, headers=auth(keys["predictor"])
        ).status_code
        == 403
    )
    for version in ("1", "2"):
        moved = api.post(
            "/v1/admin/promote", json={"version": version}, headers=auth(keys["admin"])
        )
        assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["version"] == "2" and body["previous"] == "1" and body["serving_version"] == "2"
    model = api.get("/v1/model", headers=auth(keys["viewer"])).json()
    assert model["version"] == "2" and model["aliases"] == {"champion": "2"}

    unknown = api.post("/v1/admin/promote", json={"version": "99"}, headers=auth(keys["admin"]))
    assert unknown.status_code == 404 and "99" in unknown.json()["detail"]

    back = api.post("/v1/admin/rollback", headers=auth(keys["admin"]))
    assert back.status_code == 200 and back.json()["version"] == "1"
    assert back.json()["serving_version"] == "1"
    nothing = api.post("/v1/admin/rollback", headers=auth(keys["admin"]))
    assert nothing.status_code == 409 and "no previous champion" in nothing.json()["detail"]

    admin_id = keys["admin"].split("_")[1]
    with session_scope(serving_env) as session:
        moves = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "model.alias.champion")
        ).all()
        assert [(m.actor, m.details["kind"]) for m in moves] == [
            (f"key:{admin_id}", "promote"),
            (f"key:{admin_id}", "promote"),
            (f"key:{admin_id}", "rollback"),
        ]
