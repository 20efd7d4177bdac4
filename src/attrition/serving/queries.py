"""Database reads and writes behind the API routes (sessions passed in by the caller)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from attrition import workforce
from attrition.capacity import Capacity
from attrition.db.models import DriftReport, Outcome, PredictionLog
from attrition.risk import BAND_FLOORS, LOWEST_BAND
from attrition.serving import payloads


def prediction_page(
    session: Session,
    filters: list[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
    include_features: bool,
) -> payloads.PredictionPage:
    """Newest first, filtered and paginated."""
    total = session.scalar(select(func.count()).select_from(PredictionLog).where(*filters)) or 0
    rows = session.scalars(
        select(PredictionLog)
        .where(*filters)
        .order_by(PredictionLog.created_at.desc(), PredictionLog.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [_logged(row, include_features) for row in rows]
    return payloads.PredictionPage(items=items, total=total, limit=limit, offset=offset)


def _logged(row: PredictionLog, include_features: bool) -> payloads.LoggedPrediction:
    return payloads.LoggedPrediction(
        prediction_id=row.prediction_id,
        request_id=row.request_id,
        employee_key=row.employee_key,
        model_name=row.model_name,
        model_version=row.model_version,
        probability=row.probability,
        at_risk=row.at_risk,
        threshold=row.threshold,
        client=row.client,
        source=row.source,
        created_at=row.created_at,
        features=row.features if include_features else None,
    )


def history_filters(
    *,
    model_version: str | None,
    at_risk: bool | None,
    since: datetime | None,
    until: datetime | None,
    employee_key: str | None,
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if model_version is not None:
        filters.append(PredictionLog.model_version == model_version)
    if at_risk is not None:
        filters.append(PredictionLog.at_risk == at_risk)
    if since is not None:
        filters.append(PredictionLog.created_at >= since)
    if until is not None:
        filters.append(PredictionLog.created_at < until)
    if employee_key is not None:
        filters.append(PredictionLog.employee_key == employee_key)
    return filters


def record_outcomes(
    session: Session, outcomes: Iterable[tuple[str, bool, date]], recorded_by: str
) -> payloads.OutcomeResult:
    """Insert or update one outcome per (employee, date); a later duplicate in the same
    batch wins. Existing rows are read in chunks, not one query per outcome."""
    items = list(outcomes)
    latest = {(key, day): left for key, left, day in items}
    existing: dict[tuple[str, date], Outcome] = {}
    keys = sorted({key for key, _ in latest})
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for row in session.scalars(select(Outcome).where(Outcome.employee_key.in_(chunk))):
            existing[(row.employee_key, row.outcome_date)] = row
    new: list[Outcome] = []
    for (key, day), left in latest.items():
        found = existing.get((key, day))
        if found is None:
            new.append(
                Outcome(employee_key=key, left=left, outcome_date=day, recorded_by=recorded_by)
            )
        else:
            found.left, found.recorded_by = left, recorded_by
    session.add_all(new)
    session.flush()
    return payloads.OutcomeResult(recorded=len(new), updated=len(items) - len(new))


def risk_band_case(
    probability: ColumnElement[float] | InstrumentedAttribute[float],
    threshold: ColumnElement[float] | InstrumentedAttribute[float],
) -> ColumnElement[str]:
    """:func:`attrition.risk.risk_band` as a SQL expression."""
    return case(
        *[(probability >= threshold * fraction, name) for name, fraction in BAND_FLOORS],
        else_=LOWEST_BAND,
    )


def workforce_filters(since: datetime) -> list[ColumnElement[bool]]:
    """Rows that describe the workforce (``attrition.workforce``): real predictions of
    employees (a number given) since ``since``."""
    return [*workforce.in_window(since), workforce.identified(), workforce.real()]


TENURE_BANDS = ((2, "<2 years"), (5, "2-5 years"), (10, "5-10 years"))
TENURE_TOP = "10+ years"


@dataclass(frozen=True)
class WorkforceFilter:
    since: datetime
    department: str | None = None
    job_role: str | None = None


def _feature(name: str) -> Any:
    return PredictionLog.features[name].as_string()


def _latest(where: WorkforceFilter) -> Any:
    """The latest workforce prediction per employee (rank 1), with the grouped fields."""
    years = PredictionLog.features["YearsAtCompany"].as_integer()
    probability, threshold = PredictionLog.probability, PredictionLog.threshold
    tenure = case(*[(years < bound, label) for bound, label in TENURE_BANDS], else_=TENURE_TOP)
    band = risk_band_case(probability, threshold)
    identified = workforce.identified()
    columns = [
        PredictionLog.probability.label("probability"),
        case((PredictionLog.at_risk.is_(True), 1), else_=0).label("risk"),
        _feature("Department").label("department"),
        _feature("JobRole").label("job_role"),
        PredictionLog.features["JobLevel"].as_integer().label("job_level"),
        tenure.label("tenure_band"),
        _feature("OverTime").label("overtime"),
        band.label("band"),
    ]
    return workforce.latest_per_person(columns, [*workforce.in_window(where.since), identified])


def _people(latest: Any, where: WorkforceFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [latest.c[workforce.RANK] == 1]
    if where.department is not None:
        conditions.append(latest.c.department == where.department)
    if where.job_role is not None:
        conditions.append(latest.c.job_role == where.job_role)
    return conditions


GROUPS = ("department", "job_role", "job_level", "tenure_band", "overtime", "band")


def workforce_summary(
    session: Session, where: WorkforceFilter, capacity: Capacity | None = None
) -> payloads.WorkforceSummary:
    """Latest prediction per employee since ``where.since`` (what-if scores and rows without
    an employee number left out), optionally one department and job role: headline numbers
    and one aggregate query per grouping; plus a daily series of every such prediction and,
    with a ``capacity``, the expected leavers caught at it."""
    latest = _latest(where)
    people = _people(latest, where)
    headline: tuple[Any, ...] = tuple(
        session.execute(
            select(func.count(), func.sum(latest.c.risk), func.sum(latest.c.probability)).where(
                *people
            )
        ).one()
    )
    count, at_risk, expected = headline
    groups = {name: _grouped(session, latest, people, name) for name in GROUPS}
    return payloads.WorkforceSummary(
        since=where.since,
        employees=int(count or 0),
        at_risk=int(at_risk or 0),
        expected_leavers=float(expected or 0.0),
        by_department=groups["department"],
        by_job_role=groups["job_role"],
        by_job_level=groups["job_level"],
        by_tenure_band=groups["tenure_band"],
        by_overtime=groups["overtime"],
        by_band=groups["band"],
        over_time=_daily(session, where),
        capacity=None
        if capacity is None
        else capacity_plan(session, latest, people, capacity, int(count or 0), expected),
    )


def capacity_plan(
    session: Session,
    latest: Any,
    people: list[ColumnElement[bool]],
    capacity: Capacity,
    employees: int,
    expected: float | None,
) -> payloads.CapacityPlan:
    """The highest-risk employees ``capacity`` covers and the sum of their calibrated risk
    (the expected leavers among them)."""
    k = capacity.people(employees)
    top = (
        select(latest.c.probability.label("probability"))
        .where(*people)
        .order_by(latest.c.probability.desc())
        .limit(k)
        .subquery("top")
    )
    caught = float(session.scalar(select(func.sum(top.c.probability))) or 0.0) if k else 0.0
    return payloads.CapacityPlan(
        capacity=capacity.label(),
        people=k,
        share=k / employees if employees else 0.0,
        expected_leavers_caught=caught,
        share_of_expected_leavers=caught / float(expected) if expected else 0.0,
    )


def _grouped(
    session: Session, latest: Any, people: list[ColumnElement[bool]], name: str
) -> list[payloads.RiskGroup]:
    column = latest.c[name]
    rows: list[tuple[Any, ...]] = [
        tuple(row)
        for row in session.execute(
            select(column, func.count(), func.sum(latest.c.risk), func.avg(latest.c.probability))
            .where(*people)
            .group_by(column)
        )
    ]
    groups = [
        payloads.RiskGroup(
            group="unknown" if key is None else str(key),
            employees=int(n),
            at_risk=int(risk or 0),
            at_risk_share=int(risk or 0) / int(n),
            mean_probability=float(mean),
        )
        for key, n, risk, mean in rows
    ]
    return sorted(groups, key=lambda g: g.group)


def _daily(session: Session, where: WorkforceFilter) -> list[payloads.RiskPeriod]:
    created = PredictionLog.created_at
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", created))
    else:  # stored as UTC text
        day = func.date(created)
    conditions = workforce_filters(where.since)
    if where.department is not None:
        conditions.append(_feature("Department") == where.department)
    if where.job_role is not None:
        conditions.append(_feature("JobRole") == where.job_role)
    rows: list[tuple[Any, ...]] = [
        tuple(row)
        for row in session.execute(
            select(
                day.label("day"),
                func.count(),
                func.sum(case((PredictionLog.at_risk.is_(True), 1), else_=0)),
                func.avg(PredictionLog.probability),
            )
            .where(*conditions)
            .group_by(day)
            .order_by(day)
        )
    ]
    return [
        payloads.RiskPeriod(
            period=value if isinstance(value, date) else date.fromisoformat(str(value)),
            predictions=int(n),
            at_risk_share=int(risk or 0) / int(n),
            mean_probability=float(mean),
        )
        for value, n, risk, mean in rows
    ]


def report_page(session: Session, *, limit: int, offset: int) -> payloads.ReportPage:
    total = session.scalar(select(func.count()).select_from(DriftReport)) or 0
    rows = session.scalars(
        select(DriftReport)
        .order_by(DriftReport.created_at.desc(), DriftReport.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [payloads.ReportSummary.model_validate(row, from_attributes=True) for row in rows]
    return payloads.ReportPage(items=items, total=total, limit=limit, offset=offset)


def report_detail(session: Session, report_id: int) -> payloads.ReportDetail | None:
    row = session.get(DriftReport, report_id)
    return None if row is None else payloads.ReportDetail.model_validate(row, from_attributes=True)


def report_html(session: Session, report_id: int) -> str | None:
    row = session.get(DriftReport, report_id)
    return None if row is None else row.html
