"""The dashboard's only way to the system: a typed httpx client for the Attrition API.

Every failure becomes an :class:`ApiError` subclass whose message tells the user what to do
(start the API, check the key, wait for a model, ...). Responses are parsed into the models
of :mod:`attrition.dashboard.api.responses`, which ignore fields they do not know so that a
newer API keeps working with this dashboard.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from attrition.dashboard.api.responses import (
    BatchPrediction,
    Me,
    ModelInfo,
    ModelVersions,
    Prediction,
    PredictionPage,
    Ready,
    ReloadResult,
    ReportDetail,
    ReportPage,
    ReportSummary,
    WorkforceSummary,
)

logger = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)
DEFAULT_TIMEOUT_S = 30.0
PURPOSE_HEADER = "X-Prediction-Purpose"
_BATCH_LIMIT_RE = re.compile(r"at most (\d+) employees")


class ApiError(Exception):
    """A call to the API failed; the message is meant for the dashboard user."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiUnavailableError(ApiError):
    """The API cannot be reached at all."""


class AuthenticationError(ApiError):
    """401: the key is missing or not accepted."""


class PermissionDeniedError(ApiError):
    """403: the key's role may not use the route."""


class NotSupportedError(ApiError):
    """The route does not exist in this API version."""


class NotFoundError(ApiError):
    """404 for a resource (a report id, ...)."""


class InvalidRequestError(ApiError):
    """422: the body failed validation; ``problems`` holds (field, message) pairs."""

    def __init__(self, message: str, problems: list[tuple[str, str]]) -> None:
        super().__init__(message, 422)
        self.problems = problems


class TooLargeError(ApiError):
    """413: the batch or body is over the API's limit (``limit`` rows when it says so)."""

    def __init__(self, message: str, limit: int | None) -> None:
        super().__init__(message, 413)
        self.limit = limit


class RateLimitedError(ApiError):
    """429: too many requests; ``retry_after`` seconds to wait."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message, 429)
        self.retry_after = retry_after


class ServiceUnavailableError(ApiError):
    """503: the API runs but cannot answer (no model yet, database down, ...)."""


class NoModelError(ServiceUnavailableError):
    """503 because no model is loaded yet."""


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    return body.get("detail", body) if isinstance(body, dict) else body


def _problems(detail: Any) -> list[tuple[str, str]]:
    """(field, message) pairs from FastAPI's 422 detail list."""
    if not isinstance(detail, list):
        return [("request", str(detail))]
    pairs: list[tuple[str, str]] = []
    for item in detail:
        location = [str(part) for part in item.get("loc", ()) if part not in ("body", "query")]
        pairs.append((".".join(location) or "request", str(item.get("msg", item))))
    return pairs


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _refusal(status: int, detail: Any, route: str) -> ApiError:
    """401, 403, 404, 405 and 409: the API refused this key, route or resource."""
    if status == 401:
        return AuthenticationError(
            f"The API refused the key ({detail}). Sign in again with a valid key "
            "(create one with `attrition keys create --name NAME --role viewer`).",
            status,
        )
    if status == 403:
        return PermissionDeniedError(f"This key may not do that: {detail}.", status)
    if status == 405 or (status == 404 and detail == "Not Found"):
        return NotSupportedError(f"{route} is not available from this API version.", status)
    if status == 404:
        return NotFoundError(str(detail), status)
    return ApiError(f"The API could not do that now: {detail}.", status)


def _unavailable(detail: Any) -> ServiceUnavailableError:
    """503: no model yet, or something else the API cannot answer without."""
    if "model" in str(detail).lower():
        return NoModelError(
            f"The API has no model to serve yet ({detail}). Train one with `attrition train` "
            "(or `attrition quickstart`); the API picks up the champion by itself.",
            503,
        )
    return ServiceUnavailableError(f"The API is temporarily unavailable: {detail}.", 503)


def error_for(response: httpx.Response, route: str) -> ApiError:
    """The :class:`ApiError` for a failed response, with an actionable message."""
    status, detail = response.status_code, _detail(response)
    if status in (401, 403, 404, 405, 409):
        return _refusal(status, detail, route)
    if status == 413:
        match = _BATCH_LIMIT_RE.search(str(detail))
        return TooLargeError(f"Too large for the API: {detail}.", int(match[1]) if match else None)
    if status == 422:
        problems = _problems(detail)
        listed = "; ".join(f"{field}: {message}" for field, message in problems[:10])
        return InvalidRequestError(f"The API rejected the input: {listed}", problems)
    if status == 429:
        wait = _retry_after(response)
        return RateLimitedError(
            f"Rate limited by the API; try again in {wait or 'a few'} seconds.", wait
        )
    if status == 503:
        return _unavailable(detail)
    return ApiError(f"The API answered {status} on {route}: {detail}", status)


class ApiClient:
    """Typed calls to the Attrition API with one API key."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": "attrition-dashboard"}
        if api_key:
            headers["X-API-Key"] = api_key
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport -----------------------------------------------------------------
    def _request(self, method: str, route: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, route, **kwargs)
        except httpx.TimeoutException:
            raise ApiUnavailableError(
                f"The API at {self.base_url} did not answer in time. Try again; if it keeps "
                "happening, check the API's logs."
            ) from None
        except httpx.TransportError:
            raise ApiUnavailableError(
                f"Cannot reach the API at {self.base_url}. Start it with `attrition serve` "
                "(or `attrition up`) and check ATTRITION_API_URL."
            ) from None
        if response.status_code >= 400:
            raise error_for(response, route)
        return response

    def _get(self, route: str, model: type[Model], **params: Any) -> Model:
        query = {k: v for k, v in params.items() if v is not None}
        return model.model_validate(self._request("GET", route, params=query).json())

    def _post(self, route: str, model: type[Model], body: Any, **kwargs: Any) -> Model:
        return model.model_validate(self._request("POST", route, json=body, **kwargs).json())

    # --- routes --------------------------------------------------------------------
    def ready(self) -> Ready:
        """``GET /health/ready`` (no key needed); a 503 still carries the readiness body."""
        try:
            response = self._http.get("/health/ready")
        except httpx.TransportError:
            raise ApiUnavailableError(
                f"Cannot reach the API at {self.base_url}. Start it with `attrition serve` "
                "(or `attrition up`) and check ATTRITION_API_URL."
            ) from None
        if response.status_code not in (200, 503):
            raise error_for(response, "/health/ready")
        return Ready.model_validate(response.json())

    def model(self) -> ModelInfo:
        return self._get("/v1/model", ModelInfo)

    def predict(
        self, employee: Mapping[str, Any], *, purpose: str | None = None, levers: bool = False
    ) -> Prediction:
        headers = {PURPOSE_HEADER: purpose} if purpose else None
        params = {"levers": "true"} if levers else None
        return self._post(
            "/v1/predictions", Prediction, dict(employee), headers=headers, params=params
        )

    def predict_batch(
        self, employees: Sequence[Mapping[str, Any]], *, levers: bool = False
    ) -> BatchPrediction:
        body = {"employees": [dict(e) for e in employees]}
        params = {"levers": "true"} if levers else None
        return self._post("/v1/predictions/batch", BatchPrediction, body, params=params)

    def predictions(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        at_risk: bool | None = None,
        since: datetime | None = None,
        model_version: str | None = None,
    ) -> PredictionPage:
        return self._get(
            "/v1/predictions",
            PredictionPage,
            limit=limit,
            offset=offset,
            at_risk=at_risk,
            since=since.isoformat() if since else None,
            model_version=model_version,
        )

    def workforce(
        self, days: int, *, department: str | None = None, job_role: str | None = None
    ) -> WorkforceSummary:
        params: dict[str, Any] = {"days": days}
        params |= {k: v for k, v in (("department", department), ("job_role", job_role)) if v}
        response = self._request("GET", "/v1/workforce/summary", params=params)
        return WorkforceSummary.from_api(response.json())

    def me(self) -> Me:
        """The key's id, name and role."""
        return self._get("/v1/auth/me", Me)

    def reports(self, *, limit: int = 20, offset: int = 0) -> ReportPage:
        return self._get("/v1/monitoring/reports", ReportPage, limit=limit, offset=offset)

    def report(self, report_id: int) -> ReportDetail:
        return self._get(f"/v1/monitoring/reports/{report_id}", ReportDetail)

    def report_html(self, report_id: int) -> str:
        return self._request("GET", f"/v1/monitoring/reports/{report_id}/html").text

    def model_versions(self) -> ModelVersions:
        return self._get("/v1/models", ModelVersions)

    def promote(self, version: str) -> dict[str, Any]:
        body: dict[str, Any] = self._request(
            "POST", "/v1/admin/promote", json={"version": version}
        ).json()
        return body

    def rollback(self) -> dict[str, Any]:
        body: dict[str, Any] = self._request("POST", "/v1/admin/rollback").json()
        return body

    def run_monitoring(self) -> ReportSummary:
        return self._post("/v1/monitoring/run", ReportSummary, {"retrain": False})

    def reload_model(self) -> ReloadResult:
        return self._post("/v1/admin/reload", ReloadResult, None)

    def report_html_url(self, report_id: int) -> str:
        """Where the full HTML report lives (needs the key, so the dashboard downloads it)."""
        return f"{self.base_url}/v1/monitoring/reports/{report_id}/html"
