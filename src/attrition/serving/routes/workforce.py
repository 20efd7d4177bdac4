"""``/v1/workforce/summary``: risk across the workforce from the latest predictions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from attrition.schema import allowed_values, categories_of
from attrition.serving import payloads, queries
from attrition.serving.deps import DatabaseSession, Viewer
from attrition.serving.openapi import PROTECTED, error_responses

router = APIRouter(tags=["workforce"])


@router.get(
    "/v1/workforce/summary",
    response_model=payloads.WorkforceSummary,
    responses=error_responses(*PROTECTED, 503),
)
def workforce(
    who: Viewer,
    session: DatabaseSession,
    days: int = Query(90, ge=1, le=3650),
    department: str | None = Query(
        None, max_length=64, json_schema_extra={"enum": list(categories_of("Department"))}
    ),
    job_role: str | None = Query(
        None, max_length=64, json_schema_extra={"enum": list(categories_of("JobRole"))}
    ),
) -> payloads.WorkforceSummary:
    """Risk by department, job role, job level, tenure band, overtime and risk band
    (latest prediction per employee; what-if scores and rows without an employee number
    left out), expected leavers, and a daily series, over the last ``days`` days;
    optionally for one department and/or job role."""
    where = queries.WorkforceFilter(
        since=datetime.now(UTC) - timedelta(days=days),
        department=_category("department", "Department", department),
        job_role=_category("job_role", "JobRole", job_role),
    )
    return queries.workforce_summary(session, where)


def _category(parameter: str, feature: str, value: str | None) -> str | None:
    """``value`` if it is one of the feature's categories; else a 422 naming them."""
    if value is None or value in categories_of(feature):
        return value
    raise RequestValidationError(
        [
            {
                "type": "enum",
                "loc": ("query", parameter),
                "msg": f"{parameter} must be {allowed_values(feature)}",
                "input": value,
            }
        ]
    )
