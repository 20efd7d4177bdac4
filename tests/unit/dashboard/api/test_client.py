"""Error mapping and typed parsing of the API client (transport stubbed per status)."""

from __future__ import annotations

import httpx
import pytest

from attrition.dashboard.api.client import (
    ApiClient,
    ApiUnavailableError,
    AuthenticationError,
    InvalidRequestError,
    NoModelError,
    NotFoundError,
    NotSupportedError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    TooLargeError,
)


def _client(status: int, body: object, headers: dict[str, str] | None = None) -> ApiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-API-Key"] == "k"
        return httpx.Response(status, json=body, headers=headers)

    return ApiClient("http://api.test", "k", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (401, {"detail": "invalid API key"}, AuthenticationError, "keys create"),
        (
            403,
            {"detail": "role viewer may not do this; needs predictor or above"},
            PermissionDeniedError,
            "needs predictor",
        ),
        (404, {"detail": "Not Found"}, NotSupportedError, "not available from this API version"),
        (404, {"detail": "no drift report with id 9"}, NotFoundError, "id 9"),
        (
            413,
            {"detail": "batch too large: at most 50 employees per request"},
            TooLargeError,
            "at most 50",
        ),
        (503, {"detail": "no model loaded yet"}, NoModelError, "attrition train"),
        (
            503,
            {"detail": "database unavailable, try again shortly"},
            ServiceUnavailableError,
            "database unavailable",
        ),
    ],
)
def test_statuses_become_actionable_errors(
    status: int, body: object, error: type[Exception], text: str
) -> None:
    with pytest.raises(error, match=text):
        _client(status, body).model()


def test_limits_and_validation_details() -> None:
    with pytest.raises(TooLargeError) as too_large:
        _client(413, {"detail": "batch too large: at most 50 employees per request"}).predict_batch(
            [{}]
        )
    assert too_large.value.limit == 50
    with pytest.raises(RateLimitedError) as limited:
        _client(429, {"detail": "rate limit exceeded"}, {"Retry-After": "7"}).model()
    assert limited.value.retry_after == 7.0
    detail = [{"loc": ["body", "OverTime"], "msg": "Input should be 'No' or 'Yes'"}]
    with pytest.raises(InvalidRequestError) as invalid:
        _client(422, {"detail": detail}).predict({})
    assert invalid.value.problems == [("OverTime", "Input should be 'No' or 'Yes'")]


def test_unreachable_api_says_how_to_start_it() -> None:
    client = ApiClient("http://127.0.0.1:9", "k", timeout=2.0)
    with pytest.raises(ApiUnavailableError, match="attrition serve"):
        client.model()
    with pytest.raises(ApiUnavailableError):
        client.ready()


def test_workforce_groupings_are_parsed_by_name() -> None:
    body = {
        "since": "2026-01-01T00:00:00Z",
        "employees": 1,
        "at_risk": 0,
        "over_time": [],
        "by_department": [
            {
                "group": "Sales",
                "employees": 1,
                "at_risk": 0,
                "at_risk_share": 0.0,
                "mean_probability": 0.1,
            }
        ],
        "by_tenure_band": [],
        "future_field": 1,
    }
    summary = _client(200, body).workforce(30)
    assert set(summary.groupings) == {"department", "tenure_band"}
    assert summary.groupings["department"][0].group == "Sales"


def test_workforce_filters_and_me_reach_the_api() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/auth/me":
            return httpx.Response(200, json={"key_id": "abc", "name": "n", "role": "admin"})
        return httpx.Response(
            200, json={"since": "2026-01-01T00:00:00Z", "employees": 0, "at_risk": 0}
        )

    client = ApiClient("http://api.test", "k", transport=httpx.MockTransport(handler))
    client.workforce(30, department="Sales", job_role=None)
    assert dict(seen[-1].url.params) == {"days": "30", "department": "Sales"}
    me = client.me()
    assert me.is_admin and me.key_id == "abc"
