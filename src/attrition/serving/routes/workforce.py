"""``/v1/workforce/summary``: risk across the workforce from the latest predictions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from attrition.capacity import CAPACITY_HELP, CAPACITY_PATTERN, Capacity
from attrition.errors import AttritionError
from attrition.schema import allowed_values, categories_of
from attrition.serving import payloads, queries
from attrition.serving.deps import DatabaseSession, State, Viewer
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
    state: State,
    days: int = Query(90, ge=1, le=3650),
    department: str | None = Query(
        None, max_length=64, json_schema_extra={"enum": list(categories_of("Department"))}
    ),
    job_role: str | None = Query(
        None, max_length=64, json_schema_extra={"enum": list(categories_of("JobRole"))}
    ),
    capacity: str | None = Query(
        None,
        max_length=16,
        description=f"HR's capacity: {CAPACITY_HELP}; default the ATTRITION_CAPACITY setting",
        json_schema_extra={"pattern": CAPACITY_PATTERN},
    ),
) -> payloads.WorkforceSummary:
    """Risk by department, job role, job level, tenure band, overtime and risk band
    (latest prediction per employee; what-if scores and rows without an employee number
    left out), expected leavers, expected leavers caught at the capacity (the sum of the
    risk of the highest-risk employees it covers), and a daily series, over the last
    ``days`` days; optionally for one department and/or job role."""
    where = queries.WorkforceFilter(
        since=datetime.now(UTC) - timedelta(days=days),
        department=_category("department", "Department", department),
        job_role=_category("job_role", "JobRole", job_role),
    )
    plan = _capacity(capacity if capacity is not None else state.settings.capacity)
    return queries.workforce_summary(session, where, plan)


def _capacity(value: str) -> Capacity:
    """The capacity asked for; else a 422 naming the allowed forms."""
    try:
        return Capacity.parse(value)
    except AttritionError as error:
        problem = {"type": "value_error", "loc": ("query", "capacity"), "msg": str(error)}
        raise RequestValidationError([problem | {"input": value}]) from None


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
