"""Data quality per check: refused and quarantined inputs against the period before, the
fields failing most, unseen categories; a sudden rise is a finding."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from attrition.data.ingest import ingest_file
from attrition.data.synthetic import generate_workforce
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import RefusedInput
from attrition.db.types import utcnow
from attrition.monitoring.config import DriftConfig
from attrition.monitoring.drift import compare
from attrition.monitoring.profile import FeatureSpec
from attrition.monitoring.quality import (
    PeriodQuality,
    QualityCheck,
    QualityPolicy,
    check_quality,
    unseen_categories,
)

POLICY = QualityPolicy(rise_factor=2.0, min_bad=10)
START = datetime(2026, 1, 2)


def period(refused: int, answered: int, fields: dict[str, int] | None = None) -> PeriodQuality:
    return PeriodQuality(
        START, START, refused_requests=refused, answered_requests=answered,
        refused_fields=fields or {},
    )  # fmt: skip


def test_a_sudden_rise_is_a_finding_naming_the_field() -> None:
    rise = QualityCheck(period(30, 70, {"Age": 30}), period(2, 98), {}, POLICY)
    assert rise.rise and rise.top_fields == [("Age", 30)]
    (finding,) = rise.findings
    assert finding.code == "data_quality:rise" and "Age (30)" in finding.message
    assert "30.0% of 100" in finding.message and "2.0% before" in finding.message


def test_steady_or_small_amounts_are_no_finding() -> None:
    assert QualityCheck(period(30, 70), period(25, 75), {}, POLICY).findings == ()
    assert QualityCheck(period(9, 1), period(0, 100), {}, POLICY).findings == ()  # under min_bad
    assert QualityCheck(period(0, 0), period(0, 0), {}, POLICY).findings == ()
    first = QualityCheck(period(10, 90), period(0, 0), {}, POLICY)
    assert first.rise and "none before" in first.findings[0].message


def test_unseen_categories_come_from_the_drift_result() -> None:
    specs = [FeatureSpec("Dept", categorical=True), FeatureSpec("x", categorical=False)]
    rng = np.random.default_rng(0)
    reference = {"Dept": np.array(["a", "b"] * 200, dtype=object), "x": rng.normal(0, 1, 400)}
    current = {"Dept": np.array(["a", "b", "c", "c"] * 50, dtype=object), "x": rng.normal(size=200)}
    result = compare(reference, current, specs, DriftConfig())
    assert unseen_categories(result) == {"Dept": {"c": 100}}


def test_refused_and_quarantined_inputs_are_read_per_period(
    database_url: str, tmp_path: Path
) -> None:
    """On SQLite and on PostgreSQL."""
    upgrade(database_url)
    now = utcnow()
    frame = generate_workforce(50, 3)
    frame.loc[:4, "JobLevel"] = 9  # out of range: quarantined, JobLevel named
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    ingest_file(path, None, database_url, pseudonym_key=b"k")
    refused = [(f"r{i}", 2, now) for i in range(3)] + [("old", 1, now - timedelta(days=2))]
    with session_scope(database_url) as session:
        session.add_all(
            RefusedInput(
                request_id=request,
                route="/v1/predictions",
                field="Age",
                reason="int_type",
                count=count,
                created_at=at,
            )
            for request, count, at in refused
        )
    drift = compare(
        {"x": np.zeros(40)}, {"x": np.zeros(40)}, [FeatureSpec("x", False)], DriftConfig()
    )
    check = check_quality(
        database_url, start=now - timedelta(days=1), end=now + timedelta(minutes=1), drift=drift,
        policy=POLICY,
    )  # fmt: skip
    current = check.current
    assert (current.refused_requests, current.refused_fields) == (3, {"Age": 6})
    assert current.refused_reasons == {"Age: int_type": 6}
    assert (current.rows_read, current.rows_quarantined) == (50, 5)
    assert current.quarantined_fields == {"JobLevel": 5}
    assert check.previous.refused_requests == 1
    assert check.top_fields == [("Age", 6), ("JobLevel", 5)]
    assert check.to_dict()["current"]["bad"] == 8
