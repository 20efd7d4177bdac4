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


# --- dates, one rule set, duplicates, integral decimals ---------------------------------
@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "9999-12-31", "2100-01-01"])
def test_outcome_dates_out_of_bounds_are_422(
    client: TestClient, keys: dict[str, str], day: str
) -> None:
    body = {"outcomes": [{"employee_number": 5, "left": True, "outcome_date": day}]}
    response = client.post("/v1/outcomes", json=body, headers=auth(keys["predictor"]))
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "outcomes", 0, "outcome_date"]
    assert "must be from 1900-01-01" in problem["msg"]


@pytest.mark.parametrize(
    "since",
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "1800-01-01T00:00:00Z"],
)
def test_extreme_since_and_until_are_422_not_503(
    client: TestClient, keys: dict[str, str], since: str
) -> None:
    for name in ("since", "until"):
        response = client.get("/v1/predictions", params={name: since}, headers=auth(keys["viewer"]))
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["query", name]
    fine = {"since": "2026-01-01T00:00:00+14:00", "until": "9999-12-01T00:00:00Z"}
    assert client.get("/v1/predictions", params=fine, headers=auth(keys["viewer"])).is_success


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"YearsAtCompany": 30, "TotalWorkingYears": 2}, "YearsAtCompany", "TotalWorkingYears"),
        ({"Age": 18, "TotalWorkingYears": 40, "YearsAtCompany": 1, "YearsInCurrentRole": 0,
          "YearsSinceLastPromotion": 0, "YearsWithCurrManager": 0}, "TotalWorkingYears", "Age"),
    ],
)  # fmt: skip
def test_rows_that_ingest_quarantines_are_refused_naming_the_fields(
    client: TestClient,
    keys: dict[str, str],
    person: dict[str, Any],
    changes: dict[str, int],
    field: str,
    words: str,
) -> None:
    row = {**person, **changes}
    single = client.post("/v1/predictions", json=row, headers=auth(keys["predictor"]))
    batch = client.post(
        "/v1/predictions/batch",
        json={"employees": [person | {"EmployeeNumber": 1}, row]},
        headers=auth(keys["predictor"]),
    )
    for response, location in ((single, ["body", field]), (batch, ["body", "employees", 1, field])):
        assert response.status_code == 422, response.text
        (problem,) = response.json()["detail"]
        assert problem["loc"] == location and problem["type"] == "cross_field"
        assert words in problem["msg"] and "cross-field rule" in problem["msg"]


def test_the_api_and_ingest_give_the_same_reason(person: dict[str, Any]) -> None:
    from attrition.data.validation import row_problems, validate_frame

    row = {**person, "YearsAtCompany": 30, "TotalWorkingYears": 2}
    frame = pd.DataFrame([{k: str(v) for k, v in row.items()}])
    (rejected,) = validate_frame(frame).rejected
    assert [(e["field"], e["reason"]) for e in rejected.errors] == [
        (p["field"], p["reason"]) for p in row_problems(row)
    ]


def test_duplicate_ids_in_one_request_are_refused_naming_them(
    client: TestClient, keys: dict[str, str], person: dict[str, Any]
) -> None:
    employees = [person, person | {"EmployeeNumber": 2}, person, person | {"EmployeeNumber": None}]
    employees.append(person | {"EmployeeNumber": None})  # no id: not a duplicate
    response = client.post(
        "/v1/predictions/batch", json={"employees": employees}, headers=auth(keys["predictor"])
    )
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "employees", 2, "EmployeeNumber"]
    assert "8675309" in problem["msg"] and problem["type"] == "duplicate"
    one = {"employee_number": 7, "left": True, "outcome_date": "2026-01-31"}
    outcomes = {"outcomes": [one, {**one, "employee_number": 8}, {**one, "left": False}]}
    response = client.post("/v1/outcomes", json=outcomes, headers=auth(keys["predictor"]))
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "outcomes", 2, "employee_number"] and "7" in problem["msg"]


def test_integral_decimals_are_integers_and_fractions_are_refused(
    client: TestClient, keys: dict[str, str], person: dict[str, Any]
) -> None:
    whole = client.post(
        "/v1/predictions", json=person | {"Age": 41.0}, headers=auth(keys["predictor"])
    )
    assert whole.status_code == 200
    half = client.post(
        "/v1/predictions", json=person | {"Age": 41.5}, headers=auth(keys["predictor"])
    )
    assert half.status_code == 422 and half.json()["detail"][0]["loc"] == ["body", "Age"]


# --- authentication ---------------------------------------------------------------------
def forged(i: int) -> str:
    return f"atk_{i:016x}_{'A' * 43}"


def test_two_different_credentials_are_refused(
    client: TestClient, keys: dict[str, str], person: dict[str, Any]
) -> None:
    mixed = {"Authorization": f"Bearer {keys['viewer']}", "X-API-Key": keys["admin"]}
    assert client.get("/v1/admin/keys", headers=mixed).status_code in (400, 404)
    assert client.get("/v1/model", headers=mixed).status_code == 400
    assert client.post("/v1/predictions", json=person, headers=mixed).status_code == 400
    same = {"Authorization": f"Bearer {keys['predictor']}", "X-API-Key": keys["predictor"]}
    assert client.post("/v1/predictions", json=person, headers=same).status_code == 200


def test_failed_authentication_is_rate_limited_and_valid_keys_still_pass(
    client: TestClient, keys: dict[str, str]
) -> None:
    answers = [client.get("/v1/model", headers=auth(forged(i))).status_code for i in range(21)]
    assert answers[:20] == [401] * 20 and answers[20] == 429
    refused = client.get("/v1/model", headers=auth("not-even-a-key"))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert client.get("/v1/model", headers=auth(keys["viewer"])).status_code == 200
    client.app.state.serving.keys._ttl = 0  # type: ignore[attr-defined]  # every entry stale
    assert client.get("/v1/model", headers=auth(keys["viewer"])).status_code == 200


def test_failures_are_counted_per_address_and_per_key_id_in_bounded_memory() -> None:
    from attrition.serving.platform.ratelimit import FailureLimiter

    limiter = FailureLimiter(3, max_names=100)
    for address in ("addr:a", "addr:b", "addr:c"):
        limiter.record(address, "key:k")
    assert limiter.retry_after("addr:z", "key:k") > 0  # the key id, from any address
    assert limiter.retry_after("addr:a", "key:other") == 0
    for i in range(5000):
        limiter.record(f"addr:{i}", f"key:{i}")
    assert len(limiter) == 100


def test_forged_key_ids_do_not_grow_the_key_cache(serving_env: str) -> None:
    from attrition.serving.platform.api_keys import KeyStore

    store = KeyStore(serving_env, b"secret", max_unknown=256)
    known = store.warm()
    for i in range(2000):
        assert store.verify(forged(i)) is None
    assert store.cached_ids <= known + 256
