"""Data quality per check: what the refused and quarantined inputs say about the feeders.

Over the check's period (the prediction-log window; for a file or a snapshot, the last
``performance.window_days`` days) and the period of the same length just before it:

* API: request bodies refused with 422 (``refused_input``, written by
  ``serving/refusals.py``: field and reason, never values) against requests answered
  (distinct request ids of the prediction log);
* ingest: rows quarantined by ``attrition data ingest`` (``quarantine_row``: only the
  field names of their errors are read here) against the rows the ingests read;
* categories never seen in training: the categorical values of the current rows that the
  champion's reference lacks (from the drift result).

The share of bad inputs is (refused requests + quarantined rows) / (requests + rows read).
A *sudden rise* is a finding: at least ``min_bad`` bad inputs in the period and a share
above ``rise_factor`` times the previous period's (any share after a clean period).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attrition.db.engine import session_scope
from attrition.db.models import IngestBatch, PredictionLog, QuarantineRow, RefusedInput
from attrition.monitoring.drift import DriftResult
from attrition.monitoring.findings import Finding

TOP_FIELDS: Final = 5
CATEGORICAL: Final = "categorical"


@dataclass(frozen=True, slots=True)
class QualityPolicy:
    """When a rise of bad inputs is a finding."""

    rise_factor: float = 2.0
    min_bad: int = 10


@dataclass(frozen=True, slots=True)
class PeriodQuality:
    """Bad and good inputs of one period."""

    start: datetime
    end: datetime
    refused_requests: int = 0
    answered_requests: int = 0
    refused_fields: dict[str, int] = field(default_factory=dict)
    refused_reasons: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0
    rows_quarantined: int = 0
    quarantined_fields: dict[str, int] = field(default_factory=dict)

    @property
    def bad(self) -> int:
        return self.refused_requests + self.rows_quarantined

    @property
    def inputs(self) -> int:
        return self.refused_requests + self.answered_requests + self.rows_read

    @property
    def share(self) -> float | None:
        return self.bad / self.inputs if self.inputs else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data |= {"start": self.start.isoformat(), "end": self.end.isoformat()}
        return data | {"bad": self.bad, "inputs": self.inputs, "share": self.share}


@dataclass(frozen=True, slots=True)
class QualityCheck:
    """This period against the one before, the fields failing most, unseen categories."""

    current: PeriodQuality
    previous: PeriodQuality
    unseen_categories: dict[str, dict[str, int]]
    policy: QualityPolicy

    @property
    def top_fields(self) -> list[tuple[str, int]]:
        """Fields failing most, refused and quarantined together, most first."""
        total = Counter(self.current.refused_fields) + Counter(self.current.quarantined_fields)
        return sorted(total.items(), key=lambda item: (-item[1], item[0]))[:TOP_FIELDS]

    @property
    def rise(self) -> bool:
        now, before = self.current.share, self.previous.share
        if now is None or self.current.bad < self.policy.min_bad:
            return False
        return not before or now > self.policy.rise_factor * before

    @property
    def findings(self) -> tuple[Finding, ...]:
        if not self.rise:
            return ()
        fields = ", ".join(f"{name} ({count})" for name, count in self.top_fields)
        before = self.previous.share
        was = "none before" if not before else f"{before:.1%} before"
        message = (
            f"data quality: {self.current.bad} bad inputs, {self.current.share:.1%} of "
            f"{self.current.inputs} ({was}); fields failing most: {fields or 'none'}"
        )
        return (Finding("data_quality", "data_quality:rise", message),)

    def to_dict(self) -> dict[str, Any]:
        return {
            "current": self.current.to_dict(),
            "previous": self.previous.to_dict(),
            "top_fields": [{"field": f, "count": c} for f, c in self.top_fields],
            "unseen_categories": self.unseen_categories,
            "rise_factor": self.policy.rise_factor,
            "min_bad": self.policy.min_bad,
            "rise": self.rise,
            "findings": [f.to_dict() for f in self.findings],
        }


# --------------------------------------------------------------------------- reading


def _refused(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    inside = (RefusedInput.created_at >= start, RefusedInput.created_at < end)
    requests = select(func.count(func.distinct(RefusedInput.request_id))).where(*inside)
    rows = session.execute(
        select(RefusedInput.field, RefusedInput.reason, func.sum(RefusedInput.count))
        .where(*inside)
        .group_by(RefusedInput.field, RefusedInput.reason)
    ).all()
    fields: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for name, reason, count in rows:
        fields[name] += int(count)
        reasons[f"{name}: {reason}"] += int(count)
    return {
        "refused_requests": int(session.scalar(requests) or 0),
        "refused_fields": dict(fields),
        "refused_reasons": dict(reasons),
    }


def _answered(session: Session, start: datetime, end: datetime) -> int:
    query = select(func.count(func.distinct(PredictionLog.request_id))).where(
        PredictionLog.created_at >= start, PredictionLog.created_at < end
    )
    return int(session.scalar(query) or 0)


def _quarantined(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    read = select(func.coalesce(func.sum(IngestBatch.rows_read), 0)).where(
        IngestBatch.ingested_at >= start, IngestBatch.ingested_at < end
    )
    errors: Sequence[Any] = session.scalars(
        select(QuarantineRow.errors).where(
            QuarantineRow.quarantined_at >= start, QuarantineRow.quarantined_at < end
        )
    ).all()
    fields: Counter[str] = Counter()
    for row_errors in errors:  # field names only: the values stay where they are
        fields.update({str(e.get("field")) for e in row_errors or [] if isinstance(e, dict)})
    return {
        "rows_read": int(session.scalar(read) or 0),
        "rows_quarantined": len(errors),
        "quarantined_fields": dict(fields),
    }


def period_quality(session: Session, start: datetime, end: datetime) -> PeriodQuality:
    """Bad and good inputs in ``[start, end)``."""
    return PeriodQuality(
        start,
        end,
        answered_requests=_answered(session, start, end),
        **_refused(session, start, end),
        **_quarantined(session, start, end),
    )


def unseen_categories(drift: DriftResult) -> dict[str, dict[str, int]]:
    """Pure: per categorical feature, the current values the reference never had."""
    return {f.name: dict(f.unseen) for f in drift.features if f.kind == CATEGORICAL and f.unseen}


def check_quality(
    database_url: str,
    *,
    start: datetime,
    end: datetime,
    drift: DriftResult,
    policy: QualityPolicy,
) -> QualityCheck:
    """Data quality of ``[start, end)`` against the period of the same length before it."""
    span = max(end - start, timedelta(seconds=1))
    with session_scope(database_url) as session:
        current = period_quality(session, start, end)
        previous = period_quality(session, start - span, start)
    return QualityCheck(current, previous, unseen_categories(drift), policy)
