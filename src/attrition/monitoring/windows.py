"""Current data for a monitoring check, and exactly which rows it was.

Three sources, each read into a :class:`CurrentWindow` (typed feature frame, optional
scores and labels, and a :class:`Provenance` that the report stores):

* the prediction log over a time window (:func:`prediction_log_window`), read as people,
  not requests (``attrition.workforce``): the latest real prediction per person, what-if
  scores and older repeats left out. The window is ``[since, now)`` when ``since`` is
  given; otherwise it starts at the end of the last prediction-log report of the model
  ("since_last_report") when at least ``min_rows`` people were scored since, else it
  covers the last ``days`` days ("last_days"). The provenance holds how raw rows became
  people (raw rows, what-if rows, repeats, people, employees, unidentified), the window,
  the id range and a SHA-256 of the sorted prediction ids of the rows counted, so a
  report can be matched to its rows later;
* a CSV file (:func:`file_window`), validated with ``read_dataset``; rejected rows are
  counted in the provenance, labelled rows (``Attrition``) give realised performance;
* a database snapshot (:func:`snapshot_window`), labelled rows likewise.

:func:`outcome_pairs` joins recorded outcomes to real predictions (never what-if scores)
of the same employee: each outcome takes that employee's latest prediction made on or
before the outcome date, and a prediction matched by several outcomes keeps the newest one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from attrition import workforce
from attrition.data.validation import read_dataset, typed_frame
from attrition.db.engine import session_scope
from attrition.db.models import DriftReport, EmployeeSnapshot, Outcome, PredictionLog
from attrition.errors import AttritionError
from attrition.privacy import pseudonymise
from attrition.schema import FEATURE_NAMES, IDENTIFIER, NEGATIVE_LABEL, POSITIVE_LABEL, TARGET

PREDICTION_LOG = "prediction_log"
COUNTING = "latest real prediction per person (attrition.workforce)"
EMPLOYEE_KEY = "employee_key"
MAX_SOURCE_CHARS = 255
MAX_SNAPSHOTS_LISTED = 10

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Provenance:
    """Which rows a check used: source, count, time window and row identity."""

    source: str
    rows: int
    window_start: datetime | None = None
    window_end: datetime | None = None
    rule: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (timestamps as ISO strings)."""
        return {
            "source": self.source,
            "rows": self.rows,
            "window_start": _iso(self.window_start),
            "window_end": _iso(self.window_end),
            "rule": self.rule,
            **self.details,
        }


@dataclass(frozen=True, slots=True)
class CurrentWindow:
    """The current rows: typed features, their employee keys, scores and labels if known."""

    frame: pd.DataFrame
    employee_keys: tuple[str | None, ...]
    provenance: Provenance
    scores: FloatArray | None = None
    labels: BoolArray | None = None  # True = left; only with ``labelled``
    labelled: BoolArray | None = None  # which rows carry a label

    @property
    def rows(self) -> int:
        return len(self.frame)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def as_utc(value: datetime) -> datetime:
    """A timestamp as aware UTC (a naive one is taken to be UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ids_digest(ids: Iterable[str]) -> str:
    """SHA-256 over the sorted ids, one per line: the identity of a set of rows."""
    digest = hashlib.sha256()
    for value in sorted(ids):
        digest.update(value.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def features_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Pure: stored feature dicts (prediction log, snapshots) as a typed schema frame."""
    if not records:
        return typed_frame(pd.DataFrame(columns=list(FEATURE_NAMES)))
    frame = pd.DataFrame.from_records(list(records))
    missing = [name for name in FEATURE_NAMES if name not in frame.columns]
    if missing:
        raise AttritionError(f"stored rows lack feature(s) {', '.join(missing)}")
    return typed_frame(frame.loc[:, list(FEATURE_NAMES)])


# --------------------------------------------------------------------------- prediction log


@dataclass(frozen=True, slots=True)
class LogRows:
    """Prediction-log rows of a window, oldest first."""

    ids: tuple[int, ...]
    prediction_ids: tuple[str, ...]
    employee_keys: tuple[str | None, ...]
    model_versions: tuple[str, ...]
    probabilities: FloatArray
    created_at: tuple[datetime, ...]
    features: pd.DataFrame
    counts: workforce.WindowCounts


def _log_query(model_name: str, start: datetime, end: datetime) -> Any:
    """The latest real prediction per person of the window (``attrition.workforce``)."""
    people = workforce.latest_per_person(
        [
            PredictionLog.id.label("id"),
            PredictionLog.prediction_id.label("prediction_id"),
            PredictionLog.employee_key.label("employee_key"),
            PredictionLog.model_version.label("model_version"),
            PredictionLog.probability.label("probability"),
            PredictionLog.created_at.label("created_at"),
            PredictionLog.features.label("features"),
        ],
        workforce.in_window(start, end, model_name),
    )
    columns = ("id", "prediction_id", "employee_key", "model_version", "probability")
    return (
        select(*(people.c[name] for name in (*columns, "created_at", "features")))
        .where(people.c[workforce.RANK] == 1)
        .order_by(people.c.id)
    )


def read_log_rows(session: Session, model_name: str, start: datetime, end: datetime) -> LogRows:
    """The rows a window counts: the latest real prediction per person in ``[start, end)``."""
    rows = session.execute(_log_query(model_name, start, end)).tuples().all()
    return LogRows(
        ids=tuple(int(r[0]) for r in rows),
        prediction_ids=tuple(r[1] for r in rows),
        employee_keys=tuple(r[2] for r in rows),
        model_versions=tuple(r[3] for r in rows),
        probabilities=np.array([r[4] for r in rows], dtype=np.float64),
        created_at=tuple(as_utc(_stamp(r[5])) for r in rows),
        features=features_frame([_features(r[6]) for r in rows]),
        counts=workforce.window_counts(session, workforce.in_window(start, end, model_name)),
    )


def _stamp(value: Any) -> datetime:
    """A timestamp read through a subquery (SQLite may hand back text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _features(value: Any) -> dict[str, Any]:
    """A JSON column read through a subquery (SQLite may hand back text)."""
    return value if isinstance(value, dict) else json.loads(value)


def count_log_rows(session: Session, model_name: str, start: datetime, end: datetime) -> int:
    """How many people the model's predictions in ``[start, end)`` count (one each)."""
    return workforce.count_people(session, workforce.in_window(start, end, model_name))


def last_log_report_end(session: Session, model_name: str) -> datetime | None:
    """Where the newest prediction-log report of the model ended, if there is one."""
    query = (
        select(DriftReport.window_end)
        .where(DriftReport.model_name == model_name, DriftReport.source == PREDICTION_LOG)
        .where(DriftReport.window_end.is_not(None))
        .order_by(DriftReport.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def choose_window(
    session: Session,
    *,
    model_name: str,
    now: datetime,
    since: datetime | None,
    days: float,
    min_rows: int,
) -> tuple[datetime, datetime, str]:
    """``(start, end, rule)`` of the prediction-log window (see the module docstring)."""
    if since is not None:
        start = as_utc(since)
        if start >= now:
            raise AttritionError(f"--since {start.isoformat()} is not before now ({now:%Y-%m-%d})")
        return start, now, "since"
    last_end = last_log_report_end(session, model_name)
    if (
        last_end is not None
        and last_end < now
        and count_log_rows(session, model_name, last_end, now) >= min_rows
    ):
        return last_end, now, "since_last_report"
    return now - timedelta(days=days), now, "last_days"


def log_provenance(rows: LogRows, start: datetime, end: datetime, rule: str) -> Provenance:
    """What a prediction-log report records about its rows: how raw rows became people
    (``attrition.workforce``) and the identity of the rows counted."""
    versions: dict[str, int] = {}
    for version in rows.model_versions:
        versions[version] = versions.get(version, 0) + 1
    details: dict[str, Any] = {
        "counting": COUNTING,
        **rows.counts.to_dict(),
        "id_min": min(rows.ids) if rows.ids else None,
        "id_max": max(rows.ids) if rows.ids else None,
        "prediction_ids_sha256": ids_digest(rows.prediction_ids),
        "model_versions": versions,
        "first_prediction_at": _iso(min(rows.created_at)) if rows.created_at else None,
        "last_prediction_at": _iso(max(rows.created_at)) if rows.created_at else None,
    }
    return Provenance(PREDICTION_LOG, len(rows.ids), start, end, rule, details)


def prediction_log_window(
    database_url: str,
    *,
    model_name: str,
    now: datetime,
    since: datetime | None,
    days: float,
    min_rows: int,
) -> tuple[CurrentWindow, LogRows]:
    """The people of the chosen window; too few is a user error."""
    with session_scope(database_url) as session:
        start, end, rule = choose_window(
            session, model_name=model_name, now=now, since=since, days=days, min_rows=min_rows
        )
        rows = read_log_rows(session, model_name, start, end)
    if len(rows.ids) < min_rows:
        counts = rows.counts
        raise AttritionError(
            f"no data in window: {len(rows.ids)} people in {counts.raw_rows} predictions of "
            f"{model_name} ({counts.what_if_rows} what-if, {counts.repeat_rows} repeats left "
            f"out) between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC, at least "
            f"{min_rows} needed (drift.min_rows); send predictions first, or widen the window "
            "with --since or --days"
        )
    window = CurrentWindow(
        frame=rows.features,
        employee_keys=rows.employee_keys,
        provenance=log_provenance(rows, start, end, rule),
        scores=rows.probabilities,
    )
    return window, rows


# --------------------------------------------------------------------------- file, snapshot


def label_arrays(values: Sequence[Any]) -> tuple[BoolArray, BoolArray]:
    """Pure: (left, labelled) from "Yes"/"No"/None labels."""
    labels = np.array([v == POSITIVE_LABEL for v in values], dtype=bool)
    labelled = np.array([v in (POSITIVE_LABEL, NEGATIVE_LABEL) for v in values], dtype=bool)
    return labels, labelled


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_window(path: Path, key: bytes) -> CurrentWindow:
    """A validated CSV as current data; its ``Attrition`` labels when it has them."""
    if not path.is_file():
        raise AttritionError(f"--current: file {path} does not exist")
    result = read_dataset(path)
    valid = result.valid
    if valid.empty:
        raise AttritionError(
            f"no data in {path.name}: none of its {result.rows_read} rows passed validation "
            "(`attrition data ingest` lists the reasons)"
        )
    keys = tuple(pseudonymise(int(n), key) for n in valid[IDENTIFIER].tolist())
    labels, labelled = label_arrays(
        valid[TARGET].tolist() if TARGET in valid else [None] * len(valid)
    )
    details = {
        "file_sha256": _file_sha256(path),
        "rows_read": result.rows_read,
        "rows_rejected": len(result.rejected),
        "rows_labelled": int(labelled.sum()),
    }
    source = f"file:{path.name}"[:MAX_SOURCE_CHARS]
    return CurrentWindow(
        frame=valid.loc[:, list(FEATURE_NAMES)].reset_index(drop=True),
        employee_keys=keys,
        provenance=Provenance(source, len(valid), details=details),
        labels=labels,
        labelled=labelled,
    )


def _snapshot_dates(session: Session) -> list[date]:
    query = select(EmployeeSnapshot.snapshot_date).distinct()
    return sorted(session.scalars(query), reverse=True)


def snapshot_window(database_url: str, day: date) -> CurrentWindow:
    """One database snapshot (every row of that date) as current data."""
    with session_scope(database_url) as session:
        rows = (
            session.execute(
                select(
                    EmployeeSnapshot.id,
                    EmployeeSnapshot.employee_key,
                    EmployeeSnapshot.attrition,
                    EmployeeSnapshot.features,
                )
                .where(EmployeeSnapshot.snapshot_date == day)
                .order_by(EmployeeSnapshot.id)
            )
            .tuples()
            .all()
        )
        available = [] if rows else _snapshot_dates(session)
    if not rows:
        shown = ", ".join(d.isoformat() for d in available[:MAX_SNAPSHOTS_LISTED]) or "none"
        raise AttritionError(
            f"no data in snapshot {day.isoformat()} (--snapshot-date); snapshots: {shown}"
        )
    flags = [r[2] for r in rows]
    labelled = np.array([f is not None for f in flags], dtype=bool)
    labels = np.array([bool(f) for f in flags], dtype=bool)
    ids = [int(r[0]) for r in rows]
    details = {"id_min": min(ids), "id_max": max(ids), "rows_labelled": int(labelled.sum())}
    return CurrentWindow(
        frame=features_frame([r[3] for r in rows]),
        employee_keys=tuple(r[1] for r in rows),
        provenance=Provenance(f"snapshot:{day.isoformat()}", len(rows), details=details),
        labels=labels,
        labelled=labelled,
    )


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class OutcomePairs:
    """Predictions with a realised outcome: score, result, time, features (oldest first)."""

    prediction_ids: tuple[str, ...]
    employee_keys: tuple[str, ...]
    model_versions: tuple[str, ...]
    probabilities: FloatArray
    left: BoolArray
    predicted_at: npt.NDArray[np.datetime64]  # UTC, microseconds
    outcome_dates: tuple[date, ...]
    features: pd.DataFrame

    @property
    def count(self) -> int:
        return len(self.prediction_ids)


PAIR_COLUMNS = (
    "outcome_id",
    "outcome_date",
    "left",
    "log_id",
    "prediction_id",
    "employee_key",
    "model_version",
    "probability",
    "created_at",
    "features",
)


def _day_end(day: date) -> datetime:
    """The first instant after ``day``; for the last representable day, its last instant
    (any stored date works, however absurd: the API bounds new ones, old rows remain)."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start + timedelta(days=1) if day < date.max else datetime.max.replace(tzinfo=UTC)


def match_outcomes(candidates: pd.DataFrame) -> pd.DataFrame:
    """Pure as-of join over (outcome, prediction of the same employee) candidate pairs.

    Keeps predictions made no later than the outcome's day, takes each outcome's latest
    one, and when one prediction serves several outcomes keeps the newest outcome.
    """
    if candidates.empty:
        return candidates
    ends = candidates["outcome_date"].map(_day_end)
    before = candidates.loc[candidates["created_at"] < ends]
    latest = before.sort_values(["created_at", "log_id"]).groupby("outcome_id").tail(1)
    newest = latest.sort_values(["outcome_date", "outcome_id"]).groupby("log_id").tail(1)
    return newest.sort_values(["created_at", "log_id"]).reset_index(drop=True)


def _utc_datetime64(values: pd.Series) -> npt.NDArray[np.datetime64]:
    if values.empty:
        return np.array([], dtype="datetime64[us]")
    stamps = pd.to_datetime(values, utc=True).dt.tz_convert(None)
    return stamps.to_numpy(dtype="datetime64[us]")


def _candidate_query(model_name: str, model_version: str | None) -> Any:
    query = (
        select(
            Outcome.id,
            Outcome.outcome_date,
            Outcome.left,
            PredictionLog.id,
            PredictionLog.prediction_id,
            PredictionLog.employee_key,
            PredictionLog.model_version,
            PredictionLog.probability,
            PredictionLog.created_at,
            PredictionLog.features,
        )
        .join(PredictionLog, PredictionLog.employee_key == Outcome.employee_key)
        .where(PredictionLog.model_name == model_name, workforce.real())
    )
    if model_version is not None:
        query = query.where(PredictionLog.model_version == model_version)
    return query


def outcome_pairs(
    database_url: str, *, model_name: str, model_version: str | None = None
) -> OutcomePairs:
    """Outcomes joined to the model's predictions (of one version, when given)."""
    with session_scope(database_url) as session:
        rows = session.execute(_candidate_query(model_name, model_version)).tuples().all()
    matched = match_outcomes(pd.DataFrame.from_records(rows, columns=list(PAIR_COLUMNS)))
    return OutcomePairs(
        prediction_ids=tuple(matched["prediction_id"]) if len(matched) else (),
        employee_keys=tuple(matched["employee_key"]) if len(matched) else (),
        model_versions=tuple(matched["model_version"]) if len(matched) else (),
        probabilities=matched["probability"].to_numpy(dtype=np.float64),
        left=matched["left"].to_numpy(dtype=bool),
        predicted_at=_utc_datetime64(matched["created_at"]),
        outcome_dates=tuple(matched["outcome_date"]) if len(matched) else (),
        features=features_frame(list(matched["features"])),
    )
