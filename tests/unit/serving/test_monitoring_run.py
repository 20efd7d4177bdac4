"""POST /v1/monitoring/run with retrain: the check answers at once, a due retrain runs in
the background (one at a time), and its outcome is audited."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from attrition.db.engine import session_scope
from attrition.db.models import AuditEvent, DriftReport


class FakeMonitoring:
    """Stands in for ``run_monitoring``: stores a real report row; a retrain run blocks
    until released, like a training that takes minutes."""

    def __init__(self, url: str, drifted: bool) -> None:
        self.url, self.drifted = url, drifted
        self.release = threading.Event()
        self.calls: list[bool] = []

    def __call__(self, retrain: bool = False, **options: Any) -> dict[str, Any]:
        self.calls.append(retrain)
        if retrain:
            assert self.release.wait(20)
        with session_scope(self.url) as session:
            row = DriftReport(
                model_name="m", model_version="1", source="prediction_log",
                reference_rows=100, current_rows=50, dataset_drift=self.drifted,
                drift_share=0.5 if self.drifted else 0.0, prediction_drift=False,
                drifted_features=["OverTime"] if self.drifted else [], summary={},
                retrained=retrain, new_version="2" if retrain else None,
            )  # fmt: skip
            session.add(row)
            session.flush()
            report_id = row.id
        retrained = {"status": "trained", "new_version": "2", "promoted": False}
        return {
            "report_id": report_id,
            "drift_detected": self.drifted,
            "retrain": retrained if retrain else {"status": "not_requested"},
        }


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def run(client: TestClient, key: str, retrain: bool) -> Any:
    return client.post("/v1/monitoring/run", json={"retrain": retrain}, headers=auth(key))


def test_a_due_retrain_runs_in_the_background_once(
    client: TestClient, keys: dict[str, str], serving_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeMonitoring(serving_env, drifted=True)
    monkeypatch.setattr("attrition.serving.routes._monitoring_runner", lambda: fake)
    started = time.monotonic()
    first = run(client, keys["admin"], True)
    assert first.status_code == 200, first.text
    assert first.json()["retrain"] == "started" and first.json()["dataset_drift"]
    assert time.monotonic() - started < 5  # the retrain (blocked) does not hold the request
    assert run(client, keys["admin"], True).json()["retrain"] == "already_running"
    assert run(client, keys["admin"], False).json()["retrain"] == "not_requested"
    fake.release.set()
    state = client.app.state.serving
    state.retrains.join(20)
    assert not state.retrains.running
    assert fake.calls.count(True) == 1
    with session_scope(serving_env) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("monitoring.retrain%"))
        ).all()
        assert [e.action for e in events] == [
            "monitoring.retrain_started",
            "monitoring.retrain_finished",
        ]
        assert events[1].details["new_version"] == "2" and events[1].actor.startswith("key:")
        reports = session.scalars(select(DriftReport).order_by(DriftReport.id)).all()
        assert reports[-1].retrained  # the background run's report is the newest


def test_no_retrain_without_a_confirmed_problem(
    client: TestClient, keys: dict[str, str], serving_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeMonitoring(serving_env, drifted=False)
    monkeypatch.setattr("attrition.serving.routes._monitoring_runner", lambda: fake)
    body = run(client, keys["admin"], True).json()
    assert body["retrain"] == "not_needed" and fake.calls == [False]
    schema = client.app.openapi()["paths"]["/v1/monitoring/run"]["post"]["responses"]
    assert "MonitoringRunResult" in str(schema["200"]) and {"409", "503"} <= set(schema)
