"""Issue 13 against a real `attrition serve` (uvicorn, JSON logs at DEBUG): hostile
requests answer 4xx, every response has the security headers and no `server` header, the
replica id is opaque, and the server's log holds none of the submitted values."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from attrition.db.migrate import upgrade

from .conftest import live_api, make_keys, support

pytestmark = pytest.mark.integration
MARKERS = ("8675309", "123457", "9871")


def hostile_requests(person: dict[str, Any], keys: dict[str, str]) -> list[dict[str, Any]]:
    text = json.dumps({k: v for k, v in person.items() if k != "Age"})[:-1] + ', "Age": NaN}'
    predictor = {"X-API-Key": keys["predictor"], "Content-Type": "application/json"}
    outcome = '{"outcomes": [{"employee_number": 8675309, "left": Infinity, "outcome_date": "'
    return [
        {"method": "POST", "url": "/v1/predictions", "content": text, "headers": predictor},
        {"method": "POST", "url": "/v1/predictions/batch", "headers": predictor,
         "content": '{"employees": [' + text + "]}"},
        {"method": "POST", "url": "/v1/outcomes", "headers": predictor,
         "content": outcome + '2026-01-31"}]}'},
        {"method": "POST", "url": "/v1/outcomes", "headers": predictor,
         "content": outcome.replace("Infinity", "true") + '9999-12-31"}]}'},
        {"method": "GET", "url": "/v1/predictions", "headers": predictor,
         "params": {"since": "9999-12-31T23:59:59-23:59"}},
        {"method": "GET", "url": "/v1/model", "headers": {
            "Authorization": f"Bearer {keys['viewer']}", "X-API-Key": keys["admin"]}},
        {"method": "POST", "url": "/v1/predictions", "content": json.dumps(person),
         "headers": {**predictor, "Content-Type": "text/plain"}},
    ]  # fmt: skip


def test_hostile_requests_on_a_live_server(
    registry: dict[str, str], sqlite_url: str, tmp_path: Path, dev_frame: pd.DataFrame
) -> None:
    upgrade(sqlite_url)
    keys = make_keys(sqlite_url)
    person = {**support.employee(dev_frame.iloc[0]), "EmployeeNumber": 8675309}
    person |= {"MonthlyIncome": 123457, "DailyRate": 9871}
    env = {
        "ATTRITION_MLFLOW_TRACKING_URI": registry["uri"],
        "ATTRITION_MODEL_POLL_SECONDS": "0",
        "ATTRITION_LOG_LEVEL": "DEBUG",
    }
    log = tmp_path / "api.log"
    with live_api(env, log) as url, httpx.Client(base_url=url, timeout=30) as client:
        answers = [client.request(**request) for request in hostile_requests(person, keys)]
        answers.append(client.head("/v1/model", headers={"X-API-Key": keys["viewer"]}))
        answers.append(client.get("/docs"))
    assert [a.status_code for a in answers] == [422, 422, 422, 422, 422, 400, 415, 200, 200]
    for answer in answers:
        assert "server" not in answer.headers
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert re.fullmatch(r"r-[0-9a-f]{12}", answer.headers["x-replica-id"])
        for marker in MARKERS[1:]:
            assert marker not in answer.text
    logged = log.read_text()
    assert '"logger":"attrition.access"' in logged  # the log was written, as JSON
    for marker in MARKERS:
        assert marker not in logged, marker
