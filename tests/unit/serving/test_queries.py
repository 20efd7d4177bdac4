"""The workforce summary in SQL (SQLite and PostgreSQL) equals a plain-Python reference
over the latest workforce prediction per employee."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import PredictionLog
from attrition.schema import FEATURE_NAMES
from attrition.serving import queries

NOW = datetime.now(UTC).replace(microsecond=0)


def tenure(years: int) -> str:
    return (
        "<2 years"
        if years < 2
        else "2-5 years"
        if years < 5
        else ("5-10 years" if years < 10 else "10+ years")
    )


def band(p: float, t: float) -> str:
    return "high" if p >= t else "medium" if p >= t / 2 else "low"


def make_rows(frame: pd.DataFrame, seed: int = 7) -> list[dict[str, Any]]:
    """Three days of predictions: some employees scored twice (the later one counts),
    what-if scores and anonymous scores (never counted), one row outside the window."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, (_, employee) in enumerate(frame.head(60).iterrows()):
        for repeat in range(1 + i % 2):
            probability = float(rng.uniform(0, 1))
            rows.append(
                {
                    "employee_key": f"k{i}",
                    "probability": probability,
                    "threshold": 0.4,
                    "at_risk": probability >= 0.4,
                    "features": {n: employee[n] for n in FEATURE_NAMES},
                    "source": "api" if i % 3 else "batch",
                    "created_at": NOW - timedelta(days=2 - repeat, minutes=i),
                }
            )
    first = frame.iloc[0]
    for source, key in (("what-if", "k0"), ("api", None)):
        rows.append(
            {
                "employee_key": key,
                "probability": 0.99,
                "threshold": 0.4,
                "at_risk": True,
                "features": {n: first[n] for n in FEATURE_NAMES},
                "source": source,
                "created_at": NOW,
            }
        )
    old = {**rows[0], "employee_key": "old", "created_at": NOW - timedelta(days=40)}
    return [*rows, old]


def reference(rows: list[dict[str, Any]], since: datetime, **only: str) -> dict[str, Any]:
    counted = [
        r
        for r in rows
        if r["created_at"] >= since and r["employee_key"] and r["source"] != "what-if"
    ]
    latest: dict[str, dict[str, Any]] = {}
    for r in sorted(counted, key=lambda r: r["created_at"]):
        latest[r["employee_key"]] = r
    filters = {"department": "Department", "job_role": "JobRole"}

    def keep(r: dict[str, Any]) -> bool:
        return all(r["features"][filters[k]] == v for k, v in only.items())

    people = [r for r in latest.values() if keep(r)]
    keys = {
        "department": lambda r: r["features"]["Department"],
        "job_role": lambda r: r["features"]["JobRole"],
        "job_level": lambda r: str(r["features"]["JobLevel"]),
        "tenure_band": lambda r: tenure(r["features"]["YearsAtCompany"]),
        "overtime": lambda r: r["features"]["OverTime"],
        "band": lambda r: band(r["probability"], r["threshold"]),
    }
    groups = {}
    for name, key in keys.items():
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in people:
            grouped[key(r)].append(r)
        groups[name] = {
            g: (len(m), sum(r["at_risk"] for r in m), sum(r["probability"] for r in m) / len(m))
            for g, m in grouped.items()
        }
    daily: dict[str, int] = defaultdict(int)
    for r in counted:
        if keep(r):
            daily[r["created_at"].date().isoformat()] += 1
    return {
        "employees": len(people),
        "at_risk": sum(r["at_risk"] for r in people),
        "expected": sum(r["probability"] for r in people),
        "groups": groups,
        "daily": dict(daily),
    }


@pytest.mark.parametrize(
    "only", [{}, {"department": "Research & Development"}, {"job_role": "Sales Executive"}]
)
def test_summary_equals_the_reference(
    database_url: str, dev_csv: Path, only: dict[str, str]
) -> None:
    upgrade(database_url)
    frame = pd.read_csv(dev_csv)
    rows = make_rows(frame)
    with session_scope(database_url) as session:
        for i, r in enumerate(rows):
            session.add(
                PredictionLog(
                    prediction_id=str(uuid.uuid4()),
                    request_id=f"r{i}",
                    model_name="m",
                    model_version="1",
                    client="k",
                    **r,
                )
            )
    since = NOW - timedelta(days=30)
    with session_scope(database_url) as session:
        summary = queries.workforce_summary(session, queries.WorkforceFilter(since, **only))
    expected = reference(rows, since, **only)
    assert summary.employees == expected["employees"] > 0
    assert summary.at_risk == expected["at_risk"]
    assert summary.expected_leavers == pytest.approx(expected["expected"])
    for name, wanted in expected["groups"].items():
        got = {
            g.group: (g.employees, g.at_risk, g.mean_probability)
            for g in getattr(summary, f"by_{name}")
        }
        assert got.keys() == wanted.keys(), name
        for group, (n, risk, mean) in wanted.items():
            assert got[group][:2] == (n, risk) and got[group][2] == pytest.approx(mean)
    assert {p.period.isoformat(): p.predictions for p in summary.over_time} == expected["daily"]
