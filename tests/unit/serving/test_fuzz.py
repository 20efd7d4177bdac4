"""Property-based attack on every route of the OpenAPI document (issue 13's acceptance):
NaN, Infinity, extreme dates and time-zone offsets, duplicate ids and mixed credentials, in
bodies, query strings, path parameters and headers. No answer is a 5xx, and no log line
(at any level, formatted by the API's own JSON formatter) holds a value a request carried
in its body or query string."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attrition.serving.platform.logs import JsonFormatter

from .conftest import support

# Values no route would log by itself: if one appears in a log line, a request leaked it.
MARK_NUMBER = 86753091
MARK_INCOME = 987653
MARK_TEXT = "zqxmarker"
CLIENT_LOGGERS = ("httpx", "httpcore")
HOSTILE_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e309", "-1e309", "1.5", "9" * 40, "-0.0"]
HOSTILE_STRINGS = [
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31",
    "0001-01-01",
    "1899-12-31T23:59:59Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:00+99:99",
    f"{MARK_TEXT}\u0000\u202e",
    MARK_TEXT * 300,
    "",
]


@pytest.fixture
def captured() -> Iterator[list[str]]:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not record.name.startswith(CLIENT_LOGGERS):  # the test's client, not the API
                lines.append(JsonFormatter().format(record))

    handler, root = Keep(level=logging.DEBUG), logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def operations(client: TestClient) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(method, path template, parameters) of every operation of the document."""
    spec = client.get("/openapi.json").json()
    return [
        (method.upper(), path, operation.get("parameters", []))
        for path, items in spec["paths"].items()
        for method, operation in items.items()
    ]


def employee(base: dict[str, Any], number: int) -> dict[str, Any]:
    return {**base, "EmployeeNumber": number, "MonthlyIncome": MARK_INCOME}


def hostile_body(draw: Any, base: dict[str, Any]) -> str:
    """A JSON text for any POST route: employees, batches, outcomes, odd shapes, with a
    hostile token where a value should be."""
    token = draw(st.sampled_from(HOSTILE_NUMBERS + [json.dumps(s) for s in HOSTILE_STRINGS]))
    field = draw(st.sampled_from(["Age", "YearsAtCompany", "EmployeeNumber", "OverTime"]))
    person = employee(base, MARK_NUMBER)
    one = (
        json.dumps({k: v for k, v in person.items() if k != field})[:-1] + f', "{field}": {token}}}'
    )
    outcome = {"employee_number": MARK_NUMBER, "left": True, "outcome_date": "2026-01-31"}
    day = json.dumps(draw(st.sampled_from(HOSTILE_STRINGS)))
    choices = [
        one,
        json.dumps(person),
        '{"employees": [' + one + "]}",
        json.dumps({"employees": [person, person]}),  # duplicate ids
        json.dumps({"employees": [person | {"YearsAtCompany": 40, "TotalWorkingYears": 2}]}),
        json.dumps({"outcomes": [outcome, outcome]}),
        '{"outcomes": [{"employee_number": 86753091, "left": ' + token + ', "outcome_date": '
        '"2026-01-31"}]}',
        '{"outcomes": [{"employee_number": 86753091, "left": true, "outcome_date": ' + day + "}]}",
        '{"retrain": ' + token + "}",
        '{"version": ' + token + "}",
        token,
        "[" + token + "]",
    ]
    return str(draw(st.sampled_from(choices)))


@st.composite
def attacks(draw: Any, ops: list[Any], keys: dict[str, str], base: dict[str, Any]) -> Any:
    method, path, parameters = draw(st.sampled_from(ops))
    values = HOSTILE_NUMBERS + HOSTILE_STRINGS
    for name in re.findall(r"\{(\w+)\}", path):
        path = path.replace("{" + name + "}", draw(st.sampled_from(["1", "NaN", "-1", "9" * 30])))
    query = {
        p["name"]: draw(st.sampled_from(values))
        for p in parameters
        if p.get("in") == "query" and draw(st.booleans())
    }
    role = draw(st.sampled_from(["admin", "predictor", "viewer"]))
    headers = {"Content-Type": "application/json", "X-Request-Id": draw(st.sampled_from(
        ["ok-1", "x" * 80, "a b"]
    ))}  # fmt: skip
    credentials = draw(st.sampled_from(["one", "mixed", "both-same", "none"]))
    if credentials in ("one", "both-same"):
        headers["X-API-Key"] = keys[role]
    if credentials == "both-same":
        headers["Authorization"] = f"Bearer {keys[role]}"
    if credentials == "mixed":
        headers |= {"X-API-Key": keys["admin"], "Authorization": f"Bearer {keys['viewer']}"}
    body = hostile_body(draw, base) if method == "POST" else None
    return method, path, query, headers, body


@pytest.fixture
def base(dev_frame: pd.DataFrame) -> dict[str, Any]:
    return dict(support.employee(dev_frame.iloc[3]))


def test_no_route_answers_5xx_or_logs_what_it_was_sent(
    client: TestClient, keys: dict[str, str], base: dict[str, Any], captured: list[str]
) -> None:
    ops = operations(client)
    assert len(ops) >= 15
    seen: list[tuple[str, str, int]] = []

    @settings(
        max_examples=250,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(attacks(ops, keys, base))
    def attack(case: Any) -> None:
        method, path, query, headers, body = case
        response = client.request(
            method, path, params=query, headers=headers,
            content=body.encode() if body is not None else None,
        )  # fmt: skip
        seen.append((method, path, response.status_code))
        assert response.status_code < 500, (method, path, query, body, response.text)
        if response.status_code >= 400:  # an error never echoes (a score shows its factors)
            assert str(MARK_INCOME) not in response.text and MARK_TEXT not in response.text

    attack()
    statuses = {status for _, _, status in seen}
    assert {400, 422} <= statuses  # the attacks did reach validation and the credential check
    logged = "\n".join(captured)
    for marker in (str(MARK_NUMBER), str(MARK_INCOME), MARK_TEXT, "9" * 40, "1e309"):
        assert marker not in logged, marker
