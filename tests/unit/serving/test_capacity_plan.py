"""Expected leavers caught at a capacity (SQLite and PostgreSQL): the sum of the latest
risk of the highest-risk employees the capacity covers; and the route's capacity option."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from attrition.capacity import Capacity
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import PredictionLog
from attrition.schema import FEATURE_NAMES
from attrition.serving import queries

NOW = datetime.now(UTC).replace(microsecond=0)
# employee -> probabilities in time order (the last one counts)
SCORES = {f"k{i}": [0.9 - 0.08 * i] for i in range(10)} | {"k3": [0.99, 0.05], "k7": [0.01, 0.95]}


def store(database_url: str, frame: pd.DataFrame) -> None:
    features = {n: frame.iloc[0][n] for n in FEATURE_NAMES}
    rows = [
        (key, p, NOW - timedelta(hours=len(ps) - i), "api")
        for key, ps in SCORES.items()
        for i, p in enumerate(ps)
    ] + [("k9", 0.999, NOW, "what-if")]  # exploratory: never counted
    with session_scope(database_url) as session:
        for i, (key, p, at, source) in enumerate(rows):
            session.add(
                PredictionLog(
                    prediction_id=str(uuid.uuid4()), request_id=f"r{i}", model_name="m",
                    model_version="1", client="k", employee_key=key, probability=p,
                    threshold=0.5, at_risk=p >= 0.5, features=features, source=source,
                    created_at=at,
                )
            )  # fmt: skip


@pytest.mark.parametrize(
    ("capacity", "people"), [("30%", 3), ("3", 3), ("0.05", 0), ("100%", 10), ("40", 10)]
)
def test_expected_leavers_caught_is_the_risk_of_the_highest_risk_people(
    database_url: str, dev_csv: Path, capacity: str, people: int
) -> None:
    upgrade(database_url)
    store(database_url, pd.read_csv(dev_csv))
    latest = sorted((ps[-1] for ps in SCORES.values()), reverse=True)
    since = NOW - timedelta(days=30)
    with session_scope(database_url) as session:
        summary = queries.workforce_summary(
            session, queries.WorkforceFilter(since), Capacity.parse(capacity)
        )
    plan = summary.capacity
    assert plan is not None and summary.employees == 10
    assert plan.people == people and plan.share == pytest.approx(people / 10)
    assert plan.expected_leavers_caught == pytest.approx(sum(latest[:people]))
    assert plan.share_of_expected_leavers == pytest.approx(sum(latest[:people]) / sum(latest))
    with session_scope(database_url) as session:
        assert queries.workforce_summary(session, queries.WorkforceFilter(since)).capacity is None


def test_the_route_takes_the_setting_or_the_capacity_asked_for(
    client: TestClient, keys: dict[str, str]
) -> None:
    headers = {"X-API-Key": keys["viewer"]}
    default = client.get("/v1/workforce/summary", headers=headers).json()
    assert default["capacity"] == {
        "capacity": "20%", "people": 0, "share": 0.0, "expected_leavers_caught": 0.0,
        "share_of_expected_leavers": 0.0,
    }  # fmt: skip
    asked = client.get("/v1/workforce/summary", params={"capacity": "40"}, headers=headers)
    assert asked.json()["capacity"]["capacity"] == "40 people"
    bad = client.get("/v1/workforce/summary", params={"capacity": "lots"}, headers=headers)
    assert bad.status_code == 422
    assert "capacity" in bad.text and "a whole number of people" in bad.text
