"""``/v1/outcomes``: what really happened to employees, for performance monitoring."""

from __future__ import annotations

from fastapi import APIRouter

from attrition.privacy import pseudonymise
from attrition.serving import payloads, queries
from attrition.serving.deps import DatabaseSession, Predictor, State
from attrition.serving.openapi import PROTECTED, error_responses
from attrition.serving.row_checks import refuse_duplicates

router = APIRouter(tags=["outcomes"])


@router.post(
    "/v1/outcomes",
    response_model=payloads.OutcomeResult,
    responses=error_responses(*PROTECTED, 400, 503),
)
def outcomes(
    body: payloads.OutcomeBatch, who: Predictor, state: State, session: DatabaseSession
) -> payloads.OutcomeResult:
    """Record real outcomes (left or stayed, as of a date) for performance monitoring; an
    employee sent twice in one batch is refused (422 naming the ids)."""
    numbers = [o.employee_number for o in body.outcomes]
    refuse_duplicates(numbers, lambda i: ("body", "outcomes", i), "employee_number")
    items = [
        (pseudonymise(o.employee_number, state.secret), o.left, o.outcome_date)
        for o in body.outcomes
    ]
    return queries.record_outcomes(session, items, recorded_by=who.key_id)
