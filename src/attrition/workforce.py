"""Who counts: the one rule for which prediction-log rows describe the workforce.

The workforce summary (``serving/queries.py``), every monitoring window over the prediction
log (``monitoring/windows.py``: ``attrition monitor``, ``POST /v1/monitoring/run``, the
scheduled monitor) and so the dashboard's Workforce and Monitoring pages read the log
through these expressions:

* **real predictions only**: a what-if score (``X-Prediction-Purpose: what-if``, logged with
  source ``what-if``) explores a change that did not happen; it never counts;
* **one row per person**: the latest real prediction of each person in the window
  (newest ``created_at``, then highest id). A person is the pseudonymised employee number;
  re-scoring an unchanged employee ten times is one person, not ten;
* **rows without an employee number** count as they are, except that identical feature
  rows count once (their latest). A client re-sending the same anonymous row (a retry, a
  dashboard refresh, a scheduled job) is one person seen again; two different people with
  the same 30 feature values are very unlikely (the IBM workforce is unique on Age, Gender
  and MonthlyIncome alone for 1,172 of 1,176 rows), so collapsing them costs almost
  nothing while a repeated row could otherwise swamp a window.

The workforce summary counts employees (rows with a number) only: its figures are per
employee HR can act on. A monitoring window counts every person (employees plus distinct
anonymous rows) and reports both parts in its provenance, so the two agree on every
employee they count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, case, cast, func, literal, select
from sqlalchemy.orm import Session

from attrition.db.models import PredictionLog

WHAT_IF = "what-if"  # prediction_log.source of exploratory scores
ANONYMOUS_PREFIX = "features:"  # person key of a row without an employee number
RANK = "person_rank"


def in_window(
    start: datetime, end: datetime | None = None, model_name: str | None = None
) -> list[ColumnElement[bool]]:
    """Rows logged in ``[start, end)`` (no end: up to now), of one model when given."""
    conditions: list[ColumnElement[bool]] = [PredictionLog.created_at >= start]
    if end is not None:
        conditions.append(PredictionLog.created_at < end)
    if model_name is not None:
        conditions.append(PredictionLog.model_name == model_name)
    return conditions


def real() -> ColumnElement[bool]:
    """A real prediction, not a what-if score."""
    return PredictionLog.source != WHAT_IF


def identified() -> ColumnElement[bool]:
    """A row that names its employee (pseudonymised number)."""
    return PredictionLog.employee_key.is_not(None)


def person_key() -> ColumnElement[str]:
    """The person a row describes: its employee key, else its feature values."""
    features = literal(ANONYMOUS_PREFIX) + cast(PredictionLog.features, Text)
    return func.coalesce(PredictionLog.employee_key, features)


def person_rank() -> Any:
    """1 for each person's latest row among the selected ones, 2, 3... for older ones."""
    return (
        func.row_number()
        .over(
            partition_by=person_key(),
            order_by=(PredictionLog.created_at.desc(), PredictionLog.id.desc()),
        )
        .label(RANK)
    )


def latest_per_person(columns: list[Any], conditions: list[ColumnElement[bool]]) -> Any:
    """A subquery of ``columns`` plus the person rank over the real rows matching
    ``conditions``; keep ``subquery.c.person_rank == 1`` for one row per person."""
    return select(*columns, person_rank()).where(*conditions, real()).subquery("people")


@dataclass(frozen=True, slots=True)
class WindowCounts:
    """How a window's rows became people: the provenance of every log window."""

    raw_rows: int  # every prediction-log row of the window
    what_if_rows: int  # left out: exploratory scores
    repeat_rows: int  # left out: older real predictions of a person counted once
    people: int  # counted: one latest real prediction each
    employees: int  # of which name an employee
    unidentified: int  # of which carry no employee number

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def window_counts(session: Session, conditions: list[ColumnElement[bool]]) -> WindowCounts:
    """Raw rows, what-if rows, repeats and people (employees, unidentified) in a window."""
    what_if = func.sum(case((PredictionLog.source == WHAT_IF, 1), else_=0))
    totals = session.execute(select(func.count(), what_if).where(*conditions)).one()
    people = latest_per_person([PredictionLog.employee_key.label("key")], conditions)
    named = func.sum(case((people.c.key.is_not(None), 1), else_=0))
    counted_named = session.execute(
        select(func.count(), named).select_from(people).where(people.c[RANK] == 1)
    ).one()
    raw, what_ifs, counted, employees = (_int(v) for v in (*totals, *counted_named))
    return WindowCounts(
        raw_rows=raw,
        what_if_rows=what_ifs,
        repeat_rows=raw - what_ifs - counted,
        people=counted,
        employees=employees,
        unidentified=counted - employees,
    )


def _int(value: Any) -> int:
    return int(value or 0)


def count_people(session: Session, conditions: list[ColumnElement[bool]]) -> int:
    """How many people (see the module docstring) the window's rows describe."""
    people = latest_per_person([PredictionLog.id], conditions)
    query = select(func.count()).select_from(people).where(people.c[RANK] == 1)
    return int(session.scalar(query) or 0)
