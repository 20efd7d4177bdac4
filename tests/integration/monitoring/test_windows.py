"""Current-data windows and the outcome join, on SQLite and PostgreSQL; pure helpers."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from attrition.data.synthetic import generate_workforce
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import DriftReport
from attrition.errors import AttritionError
from attrition.monitoring.windows import (
    PREDICTION_LOG,
    choose_window,
    file_window,
    ids_digest,
    match_outcomes,
    outcome_pairs,
    prediction_log_window,
    snapshot_window,
)
from attrition.privacy import pseudonymise
from attrition.schema import FEATURE_NAMES

support = sys.modules["attrition_monitoring_test_support"]  # loaded by conftest.py
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = b"test-pseudonym-key"
MODEL = support.MODEL_NAME


@pytest.fixture
def migrated(database_url: str) -> str:
    upgrade(database_url)
    return database_url


def _log(
    url: str, rows: int, at: datetime, version: str = "1", seed: int = 3, offset: int = 0
) -> list[int]:
    frame = generate_workforce(rows, seed)
    frame["EmployeeNumber"] += offset
    probabilities = np.linspace(0.05, 0.9, rows)
    return support.log_predictions(
        url, frame, probabilities=probabilities, version=version, at=at, key=KEY
    )


def _report(url: str, end: datetime) -> None:
    with session_scope(url) as session:
        session.add(
            DriftReport(
                model_name=MODEL, model_version="1", source=PREDICTION_LOG, reference_rows=100,
                current_rows=40, window_start=end - timedelta(days=1), window_end=end,
                dataset_drift=False, drift_share=0.0, prediction_drift=False,
                drifted_features=[], summary={}, created_at=end,
            )
        )  # fmt: skip


def test_window_rules_since_last_report_last_days_and_explicit(migrated: str) -> None:
    _log(migrated, 40, NOW - timedelta(days=3))
    with session_scope(migrated) as session:
        choose = {"model_name": MODEL, "now": NOW, "days": 30.0, "min_rows": 30}
        assert choose_window(session, since=None, **choose) == (
            NOW - timedelta(days=30),
            NOW,
            "last_days",
        )
    _report(migrated, NOW - timedelta(days=5))  # 40 rows arrived since: use them
    with session_scope(migrated) as session:
        assert choose_window(session, since=None, **choose) == (
            NOW - timedelta(days=5),
            NOW,
            "since_last_report",
        )
    _report(migrated, NOW - timedelta(days=2))  # nothing since: fall back to last N days
    with session_scope(migrated) as session:
        assert choose_window(session, since=None, **choose)[2] == "last_days"
        since = NOW - timedelta(hours=6)
        assert choose_window(session, since=since, **choose) == (since, NOW, "since")
        with pytest.raises(AttritionError, match="--since"):
            choose_window(session, since=NOW + timedelta(hours=1), **choose)


def test_log_window_records_exactly_which_rows(migrated: str) -> None:
    _log(migrated, 35, NOW - timedelta(days=40), seed=5)  # outside the window
    inside = _log(migrated, 50, NOW - timedelta(days=1), version="1")
    inside += _log(migrated, 10, NOW - timedelta(hours=1), version="2", seed=4, offset=10_000)
    window, rows = prediction_log_window(
        migrated, model_name=MODEL, now=NOW, since=None, days=30.0, min_rows=30
    )
    provenance = window.provenance.to_dict()
    assert window.rows == provenance["rows"] == 60
    assert (provenance["id_min"], provenance["id_max"]) == (min(inside), max(inside))
    assert provenance["prediction_ids_sha256"] == ids_digest(rows.prediction_ids)
    assert provenance["model_versions"] == {"1": 50, "2": 10}
    assert provenance["rule"] == "last_days" and provenance["window_end"] == NOW.isoformat()
    assert list(window.frame.columns) == list(FEATURE_NAMES) and window.scores is not None
    with pytest.raises(AttritionError, match="no data in window: 0 people in 0 predictions"):
        prediction_log_window(
            migrated, model_name=MODEL, now=NOW, since=NOW - timedelta(minutes=5), days=30.0,
            min_rows=30,
        )  # fmt: skip


def test_outcomes_join_the_latest_prediction_made_by_the_outcome_day(migrated: str) -> None:
    frame = generate_workforce(3, 9)
    early = support.log_predictions(
        migrated, frame, probabilities=np.array([0.1, 0.2, 0.3]), version="1",
        at=datetime(2026, 1, 10, tzinfo=UTC), key=KEY,
    )  # fmt: skip
    late = support.log_predictions(
        migrated, frame, probabilities=np.array([0.6, 0.7, 0.8]), version="2",
        at=datetime(2026, 2, 20, 15, tzinfo=UTC), key=KEY,
    )  # fmt: skip
    outcomes = frame.assign(Attrition=["Yes", "No", "Yes"])
    support.record_outcomes(migrated, outcomes.iloc[:1], key=KEY, on=date(2026, 2, 1))
    support.record_outcomes(migrated, outcomes.iloc[1:2], key=KEY, on=date(2026, 2, 20))
    support.record_outcomes(
        migrated, outcomes.iloc[1:2].assign(Attrition="Yes"), key=KEY, on=date(2026, 2, 25)
    )
    pairs = outcome_pairs(migrated, model_name=MODEL)
    by_key = dict(zip(pairs.employee_keys, pairs.probabilities.tolist(), strict=True))
    first, second, _third = (pseudonymise(int(n), KEY) for n in frame["EmployeeNumber"])
    assert by_key == {first: 0.1, second: 0.7}  # third has no outcome
    left = dict(zip(pairs.employee_keys, pairs.left.tolist(), strict=True))
    assert left == {first: True, second: True}  # newest outcome of the shared prediction
    assert pairs.features.shape == (2, len(FEATURE_NAMES))
    assert len(early) == len(late) == 3
    only_v1 = outcome_pairs(migrated, model_name=MODEL, model_version="1")
    assert only_v1.employee_keys == (first, second)  # v1 scored both before their outcomes
    assert only_v1.probabilities.tolist() == [0.1, 0.2]
    assert only_v1.predicted_at.dtype == np.dtype("datetime64[us]")


def test_snapshot_window_with_labels(migrated: str) -> None:
    frame = generate_workforce(40, 2)
    support.store_snapshot(migrated, frame, day=date(2026, 2, 1), key=KEY, unlabelled_every=4)
    window = snapshot_window(migrated, date(2026, 2, 1))
    assert window.rows == 40 and window.provenance.source == "snapshot:2026-02-01"
    assert window.labelled is not None and int(window.labelled.sum()) == 30
    assert window.provenance.details["rows_labelled"] == 30
    with pytest.raises(AttritionError, match="snapshots: 2026-02-01"):
        snapshot_window(migrated, date(2025, 1, 1))


def test_file_window_counts_rejected_rows_and_reads_labels(tmp_path: Path) -> None:
    frame = generate_workforce(50, 4)
    frame.loc[3, "JobRole"] = "Astronaut"
    path = tmp_path / "current.csv"
    frame.to_csv(path, index=False)
    window = file_window(path, KEY)
    details = window.provenance.details
    assert (window.rows, details["rows_read"], details["rows_rejected"]) == (49, 50, 1)
    assert details["rows_labelled"] == 49 and len(details["file_sha256"]) == 64
    assert window.labels is not None
    assert int(window.labels.sum()) == int((frame.drop(index=3)["Attrition"] == "Yes").sum())
    with pytest.raises(AttritionError, match="does not exist"):
        file_window(tmp_path / "missing.csv", KEY)


def test_match_outcomes_is_pure_and_ignores_later_predictions() -> None:
    at = pd.Timestamp("2026-02-01 23:59", tz="UTC")
    candidates = pd.DataFrame(
        {
            "outcome_id": [1, 1, 2],
            "outcome_date": [date(2026, 2, 1)] * 3,
            "left": [True, True, False],
            "log_id": [1, 2, 3],
            "prediction_id": ["a", "b", "c"],
            "employee_key": ["k1", "k1", "k2"],
            "model_version": ["1"] * 3,
            "probability": [0.2, 0.4, 0.5],
            "created_at": [at - pd.Timedelta(days=1), at, at + pd.Timedelta(minutes=2)],
            "features": [{}] * 3,
        }
    )
    matched: Any = match_outcomes(candidates)
    assert matched["prediction_id"].tolist() == ["b"]
    assert match_outcomes(candidates.iloc[:0]).empty


def test_ids_digest_ignores_order() -> None:
    assert ids_digest(["b", "a"]) == ids_digest(["a", "b"]) != ids_digest(["a"])


def _row(record: dict[str, Any], key: str | None, p: float, at: datetime, source: str) -> Any:
    from attrition.db.models import PredictionLog

    return PredictionLog(
        prediction_id=str(uuid.uuid4()), request_id="test", employee_key=key,
        model_name=MODEL, model_version="1", probability=p, at_risk=p >= 0.3, threshold=0.3,
        features=record, source=source, created_at=at,
    )  # fmt: skip


def _storm(url: str) -> dict[str, float]:
    """40 employees scored once; 5 of them explored with 2 what-ifs each; 10 re-scored 3
    times (the last score counts); 6 anonymous rows, one of them sent 5 times. Returns the
    score that counts per employee key."""
    frame = generate_workforce(46, 12)
    records = support.api_rows(frame)
    counted: dict[str, float] = {}
    rows = []
    for i, record in enumerate(records[:40]):
        key = pseudonymise(record.pop("EmployeeNumber"), KEY)
        rows.append(_row(record, key, 0.1, NOW - timedelta(hours=5), "api"))
        counted[key] = 0.1
        if i < 5:
            surge = {**record, "OverTime": "Yes", "MonthlyIncome": 1009}
            rows += [_row(surge, key, 0.9, NOW - timedelta(hours=4, minutes=m), "what-if")
                     for m in range(2)]  # fmt: skip
        if 10 <= i < 20:
            for repeat in range(3):
                at = NOW - timedelta(hours=3 - repeat)
                rows.append(_row(record, key, 0.2 + repeat / 10, at, "batch"))
            counted[key] = 0.4
    for i, record in enumerate(records[40:]):
        record.pop("EmployeeNumber")
        for repeat in range(5 if i == 0 else 1):
            rows.append(_row(record, None, 0.5, NOW - timedelta(minutes=30 - repeat), "api"))
    with session_scope(url) as session:
        session.add_all(rows)
    return counted


def test_a_window_counts_people_not_requests_and_agrees_with_the_workforce_summary(
    migrated: str,
) -> None:
    from attrition.serving import queries

    counted = _storm(migrated)
    window, rows = prediction_log_window(
        migrated, model_name=MODEL, now=NOW, since=None, days=1.0, min_rows=30
    )
    details = window.provenance.details
    assert window.rows == 46 and details["people"] == 46
    assert (details["raw_rows"], details["what_if_rows"], details["repeat_rows"]) == (
        40 + 10 + 30 + 6 + 4, 10, 30 + 4,
    )  # fmt: skip
    assert (details["employees"], details["unidentified"]) == (40, 6)
    scores = dict(zip(rows.employee_keys, rows.probabilities.tolist(), strict=True))
    assert {k: v for k, v in scores.items() if k is not None} == pytest.approx(counted)
    assert int(window.frame["MonthlyIncome"].eq(1009).sum()) == 0  # no what-if row counted
    with session_scope(migrated) as session:
        summary = queries.workforce_summary(
            session, queries.WorkforceFilter(since=NOW - timedelta(days=1))
        )
    assert summary.employees == details["employees"] == len(counted)
    assert summary.expected_leavers == pytest.approx(sum(counted.values()))
