"""Issue 13's attack pass, replayed in process: each finding is refused with a 4xx that names
the field and echoes nothing, and nothing a client sent reaches a log line."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from attrition.serving.platform.logs import JsonFormatter

from .conftest import support

SECURITY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every log record of the app, formatted by the API's JSON formatter."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(JsonFormatter().format(record))

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.fixture
def person(dev_frame: pd.DataFrame) -> dict[str, Any]:
    """A valid employee with values distinctive enough to be found in a log line."""
    body = support.employee(dev_frame.iloc[0])
    return {**body, "EmployeeNumber": 8675309, "MonthlyIncome": 123457, "DailyRate": 9871}


def raw(client: TestClient, path: str, text: str, key: str) -> Any:
    headers = {**auth(key), "Content-Type": "application/json"}
    return client.post(path, content=text.encode(), headers=headers)


def as_json(body: dict[str, Any], nan_field: str, token: str) -> str:
    import json

    text = json.dumps({k: v for k, v in body.items() if k != nan_field})
    return text[:-1] + f', "{nan_field}": {token}}}'


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_422_naming_the_field_and_never_logged(
    client: TestClient,
    keys: dict[str, str],
    person: dict[str, Any],
    log_lines: list[str],
    token: str,
) -> None:
    single = raw(client, "/v1/predictions", as_json(person, "Age", token), keys["predictor"])
    batch_text = '{"employees": [' + as_json(person, "Age", token) + "]}"
    batch = raw(client, "/v1/predictions/batch", batch_text, keys["predictor"])
    outcome = '{"outcomes": [{"employee_number": 8675309, "outcome_date": "2026-01-31", '
    outcomes = raw(client, "/v1/outcomes", outcome + f'"left": {token}}}]}}', keys["predictor"])
    for response, location in (
        (single, ["body", "Age"]),
        (batch, ["body", "employees", 0, "Age"]),
        (outcomes, ["body", "outcomes", 0, "left"]),
    ):
        assert response.status_code == 422, response.text
        problems = response.json()["detail"]
        assert {"type": "finite_number", "loc": location, "msg": problems[0]["msg"]} in problems
        assert "8675309" not in response.text and "123457" not in response.text
    logged = "\n".join(log_lines)
    for value in ("8675309", "123457", "9871", person["JobRole"]):
        assert value not in logged


def test_validation_errors_echo_no_input(client: TestClient, keys: dict[str, str]) -> None:
    body = {"EmployeeNumber": 8675309, "MonthlyIncome": 123457}  # every other field missing
    response = client.post("/v1/predictions", json=body, headers=auth(keys["predictor"]))
    assert response.status_code == 422
    assert all(set(item) == {"type", "loc", "msg"} for item in response.json()["detail"])
    assert "8675309" not in response.text and "123457" not in response.text


def test_too_many_outcomes_is_413_without_echo(client: TestClient, keys: dict[str, str]) -> None:
    one = {"employee_number": 8675309, "left": True, "outcome_date": "2026-01-31"}
    body = {"outcomes": [{**one, "employee_number": 8675309 + i} for i in range(10_001)]}
    response = client.post("/v1/outcomes", json=body, headers=auth(keys["predictor"]))
    assert response.status_code == 413
    assert response.json() == {"detail": "batch too large: at most 10000 outcomes per request"}


def test_non_json_bodies_are_415_on_every_body_route(
    client: TestClient, keys: dict[str, str], person: dict[str, Any]
) -> None:
    import json

    text = json.dumps(person).encode()
    for path in ("/v1/predictions", "/v1/outcomes", "/v1/monitoring/run"):
        plain = {**auth(keys["admin"]), "Content-Type": "text/plain"}
        response = client.post(path, content=text, headers=plain)
        assert response.status_code == 415, (path, response.text)
    # absent: read as JSON, on the fast routes and on FastAPI's alike
    bare = client.post("/v1/predictions", content=text, headers=auth(keys["predictor"]))
    assert bare.status_code == 200
    outcome = {"outcomes": [{"employee_number": 1, "left": True, "outcome_date": "2026-01-31"}]}
    bare = client.post(
        "/v1/outcomes", content=json.dumps(outcome).encode(), headers=auth(keys["predictor"])
    )
    assert bare.status_code == 200, bare.text


def test_security_headers_on_every_response_and_head_answered(
    client: TestClient, keys: dict[str, str]
) -> None:
    responses = [
        client.get("/health/live"),
        client.get("/v1/model"),  # 401
        client.get("/nowhere"),  # 404
        client.put("/v1/model", headers=auth(keys["viewer"])),  # 405
        client.post("/v1/predictions", json={}, headers=auth(keys["predictor"])),  # 422
        client.get("/docs"),
    ]
    for response in responses:
        for name, value in SECURITY.items():
            assert response.headers.get(name) == value, (response.url, name)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "server" not in response.headers
    head = client.head("/v1/model", headers=auth(keys["viewer"]))
    get = client.get("/v1/model", headers=auth(keys["viewer"]))
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert client.head("/health/live").status_code == 200


def test_docs_page_loads_nothing_from_anywhere(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "/v1/predictions" in page.text
    assert not re.search(r"<script|<link|<img|https?://", page.text)
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


def test_docs_off_serves_neither_page_nor_document(
    serving_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from attrition.serving.app import create_app
    from attrition.settings import get_settings

    monkeypatch.setenv("ATTRITION_API_DOCS", "false")
    get_settings.cache_clear()
    app = create_app(get_settings())
    with TestClient(app) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 404


def test_prediction_and_request_ids_are_random_uuid4(
    client: TestClient, keys: dict[str, str], person: dict[str, Any]
) -> None:
    ids = [
        client.post("/v1/predictions", json=person, headers=auth(keys["predictor"])).json()[
            "prediction_id"
        ]
        for _ in range(3)
    ]
    uuid4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert all(uuid4.match(i) for i in ids)
    assert len({i[:18] for i in ids}) == 3  # no shared per-process prefix


@pytest.mark.parametrize(
    ("sent", "kept"), [("abc-123.X_y", True), ("x" * 65, False), ("a b", False), ("a;drop", False)]
)
def test_client_request_ids_are_kept_only_when_short_and_plain(
    client: TestClient, sent: str, kept: bool
) -> None:
    response = client.get("/health/live", headers={"X-Request-Id": sent})
    got = response.headers["x-request-id"]
    assert (got == sent) is kept
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", got)
