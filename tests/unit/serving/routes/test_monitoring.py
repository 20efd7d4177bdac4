"""POST /v1/monitoring/run with retrain: the check answers at once, a due retrain runs in
the background (one at a time), and its outcome is audited; a check that cannot run is a
conflict; GET /v1/monitoring/reports*."""

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
    """Stands in for ``run_monitoring``: stores a real report row and, for a due retrain,
    hands ``spawn`` a job that blocks until released (like a training that takes minutes)
    and then records its outcome on that same report."""

    def __init__(self, url: str, drifted: bool) -> None:
        self.url, self.drifted = url, drifted
        self.release = threading.Event()
        self.calls: list[bool] = []
        self.settings: list[Any] = []
        self.jobs_run = 0

    def __call__(self, retrain: bool = False, spawn: Any = None, **options: Any) -> dict[str, Any]:
        self.calls.append(retrain)
        self.settings.append(options.get("settings"))
        with session_scope(self.url) as session:
            row = DriftReport(
                model_name="m", model_version="1", source="prediction_log",
                reference_rows=100, current_rows=50, dataset_drift=self.drifted,
                drift_share=0.5 if self.drifted else 0.0, prediction_drift=False,
                drifted_features=["OverTime"] if self.drifted else [], summary={},
            )  # fmt: skip
            session.add(row)
            session.flush()
            report_id = row.id
        status = "not_requested"
        if retrain:
            status = "not_needed"
            if self.drifted:
                started = spawn(report_id, lambda: self.retrain(report_id))
                status = "started" if started else "already_running"
        return {"report_id": report_id, "drift_detected": self.drifted,
                "retrain": {"status": status}}  # fmt: skip

    def retrain(self, report_id: int) -> dict[str, Any]:
        assert self.release.wait(20)
        self.jobs_run += 1
        with session_scope(self.url) as session:
            row = session.get(DriftReport, report_id)
            assert row is not None
            row.retrained, row.new_version = True, "2"
        return {"status": "trained", "new_version": "2", "promoted": False}


def auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def run(client: TestClient, key: str, retrain: bool) -> Any:
    return client.post("/v1/monitoring/run", json={"retrain": retrain}, headers=auth(key))


def test_a_due_retrain_runs_in_the_background_once(
    client: TestClient, keys: dict[str, str], serving_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeMonitoring(serving_env, drifted=True)
    monkeypatch.setattr("attrition.monitoring.service.run_monitoring", fake)
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
    assert fake.calls == [True, True, False] and fake.jobs_run == 1
    with session_scope(serving_env) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("monitoring.background_retrain%"))
        ).all()
        assert [e.action for e in events] == [
            "monitoring.background_retrain.started",
            "monitoring.background_retrain.finished",
        ]
        assert events[1].details["new_version"] == "2" and events[1].actor.startswith("key:")
        reports = session.scalars(select(DriftReport).order_by(DriftReport.id)).all()
        # one report per check; the retrain wrote its outcome on the report that asked for it
        assert [r.retrained for r in reports] == [True, False, False]
        assert events[0].target == events[1].target == str(reports[0].id)


def test_no_retrain_without_a_confirmed_problem(
    client: TestClient, keys: dict[str, str], serving_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeMonitoring(serving_env, drifted=False)
    monkeypatch.setattr("attrition.monitoring.service.run_monitoring", fake)
    body = run(client, keys["admin"], True).json()
    assert body["retrain"] == "not_needed" and fake.calls == [True] and fake.jobs_run == 0
    assert fake.settings == [client.app.state.serving.settings]  # the app's, not re-read
    schema = client.app.openapi()["paths"]["/v1/monitoring/run"]["post"]["responses"]
    assert "MonitoringRunResult" in str(schema["200"]) and {"409", "503"} <= set(schema)


def test_a_check_that_cannot_run_is_a_conflict_and_reports_read_the_table(
    client: TestClient, keys: dict[str, str]
) -> None:
    """The served champion carries no reference sample: the real check cannot run (409)."""
    response = client.post("/v1/monitoring/run", json={}, headers=auth(keys["admin"]))
    assert response.status_code == 409, response.text
    assert response.json()["detail"].startswith("monitoring could not run: ")
    listing = client.get("/v1/monitoring/reports", headers=auth(keys["viewer"]))
    assert listing.status_code == 200 and listing.json()["total"] >= 0
    missing = client.get("/v1/monitoring/reports/999999", headers=auth(keys["viewer"]))
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no drift report with id 999999"}
    html = client.get("/v1/monitoring/reports/999999/html", headers=auth(keys["viewer"]))
    assert html.status_code == 404 and html.json() == {"detail": "no HTML for drift report 999999"}
