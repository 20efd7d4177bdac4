"""Database reads and writes behind the API routes (sessions passed in by the caller)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from attrition.db.models import DriftReport, Outcome, PredictionLog
from attrition.serving import schemas

SUMMARY_ROW_CAP = 500_000


def prediction_page(
    session: Session,
    filters: list[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
    include_features: bool,
) -> schemas.PredictionPage:
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
    return schemas.PredictionPage(items=items, total=total, limit=limit, offset=offset)


def _logged(row: PredictionLog, include_features: bool) -> schemas.LoggedPrediction:
    return schemas.LoggedPrediction(
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
) -> schemas.OutcomeResult:
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
    return schemas.OutcomeResult(recorded=len(new), updated=len(items) - len(new))


def risk_band(probability: float, threshold: float) -> str:
    """low below half the threshold, medium up to it, high at or above it."""
    if probability >= threshold:
        return "high"
    return "medium" if probability >= threshold / 2 else "low"


WHAT_IF = "what-if"  # exploratory scores: logged, but not part of the workforce


def workforce_filters(since: datetime) -> list[ColumnElement[bool]]:
    """Rows that describe the workforce: real employees (a number given), not what-if."""
    return [
        PredictionLog.created_at >= since,
        PredictionLog.employee_key.is_not(None),
        PredictionLog.source != WHAT_IF,
    ]


def workforce_summary(session: Session, since: datetime) -> schemas.WorkforceSummary:
    """Latest prediction per employee since ``since``, grouped; plus a daily series."""
    rows = session.execute(
        select(
            PredictionLog.employee_key,
            PredictionLog.probability,
            PredictionLog.at_risk,
            PredictionLog.threshold,
            PredictionLog.features,
            PredictionLog.created_at,
        )
        .where(*workforce_filters(since))
        .order_by(PredictionLog.created_at, PredictionLog.id)
        .limit(SUMMARY_ROW_CAP)
    ).all()
    latest: dict[Any, Any] = {}
    daily: dict[date, list[tuple[float, bool]]] = defaultdict(list)
    for index, row in enumerate(rows):
        latest[row.employee_key if row.employee_key is not None else ("anon", index)] = row
        daily[row.created_at.date()].append((row.probability, row.at_risk))
    people = list(latest.values())
    return schemas.WorkforceSummary(
        since=since,
        employees=len(people),
        at_risk=sum(1 for p in people if p.at_risk),
        by_department=_groups(people, lambda p: str(p.features.get("Department", "unknown"))),
        by_job_role=_groups(people, lambda p: str(p.features.get("JobRole", "unknown"))),
        by_band=_groups(people, lambda p: risk_band(p.probability, p.threshold)),
        over_time=[_period(day, values) for day, values in sorted(daily.items())],
    )


def _groups(people: list[Any], key: Any) -> list[schemas.RiskGroup]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for person in people:
        grouped[key(person)].append(person)
    return [
        schemas.RiskGroup(
            group=name,
            employees=len(members),
            at_risk=sum(1 for m in members if m.at_risk),
            at_risk_share=sum(1 for m in members if m.at_risk) / len(members),
            mean_probability=sum(m.probability for m in members) / len(members),
        )
        for name, members in sorted(grouped.items())
    ]


def _period(day: date, values: list[tuple[float, bool]]) -> schemas.RiskPeriod:
    return schemas.RiskPeriod(
        period=day,
        predictions=len(values),
        at_risk_share=sum(1 for _, r in values if r) / len(values),
        mean_probability=sum(p for p, _ in values) / len(values),
    )


def report_page(session: Session, *, limit: int, offset: int) -> schemas.ReportPage:
    total = session.scalar(select(func.count()).select_from(DriftReport)) or 0
    rows = session.scalars(
        select(DriftReport)
        .order_by(DriftReport.created_at.desc(), DriftReport.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [schemas.ReportSummary.model_validate(row, from_attributes=True) for row in rows]
    return schemas.ReportPage(items=items, total=total, limit=limit, offset=offset)


def report_detail(session: Session, report_id: int) -> schemas.ReportDetail | None:
    row = session.get(DriftReport, report_id)
    return None if row is None else schemas.ReportDetail.model_validate(row, from_attributes=True)


def report_html(session: Session, report_id: int) -> str | None:
    row = session.get(DriftReport, report_id)
    return None if row is None else row.html
