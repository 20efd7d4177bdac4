"""Issue 12's storm through the real API: an unchanged workforce scored once, explored with
what-ifs and re-scored many times is not drift; a real shift still is, on OverTime alone.
The monitoring report, the workforce summary and the dashboard's caption agree on who
counts (``attrition.workforce``).

`attrition serve` runs as a real process on loopback against this test's SQLite database
and its copy of the trained champion's MLflow store; the check runs through
``POST /v1/monitoring/run`` as the dashboard's "Run check" button sends it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import func, select

from attrition.dashboard.panels.monitoring import window_caption
from attrition.data.synthetic import generate_workforce
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import PredictionLog
from attrition.serving.platform.api_keys import create_key
from attrition.settings import get_settings

support = sys.modules["attrition_monitoring_test_support"]  # loaded by conftest.py
PEOPLE, EXPLORED, WHAT_IFS, RESCORED, REPEATS = 294, 25, 16, 30, 10
WORKFORCE_SEED = 5


@pytest.fixture
def api(
    sqlite_url: str, champion: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, dict[str, str]]]:
    """The API on this test's database and champion, with a key per role."""
    monkeypatch.setenv("ATTRITION_RATE_LIMIT_PER_MINUTE", "1000000")
    get_settings.cache_clear()
    upgrade(sqlite_url)
    secret = get_settings().pseudonym_secret()
    keys = {
        role: create_key(f"it-{role}", role, database_url=sqlite_url, server_secret=secret).secret
        for role in ("viewer", "predictor", "admin")
    }
    with support.live_api({}, tmp_path / "api.log") as url:
        yield url, keys


def _logged(database_url: str) -> int:
    with session_scope(database_url) as session:
        return int(session.scalar(select(func.count()).select_from(PredictionLog)) or 0)


def _batch(client: httpx.Client, rows: list[dict[str, Any]]) -> None:
    answer = client.post("/v1/predictions/batch", json={"employees": rows})
    assert answer.status_code == 200, answer.text


def _what_ifs(row: dict[str, Any]) -> list[dict[str, Any]]:
    """16 variants as the Predict page's levers make them: overtime, travel, income, distance."""
    variants = []
    for overtime in ("Yes", "No"):
        for travel in ("Travel_Frequently", "Travel_Rarely"):
            for income in (row["MonthlyIncome"], max(1009, row["MonthlyIncome"] // 2)):
                for distance in (row["DistanceFromHome"], 29):
                    variants.append(
                        {**row, "OverTime": overtime, "BusinessTravel": travel,
                         "MonthlyIncome": income, "DistanceFromHome": distance}
                    )  # fmt: skip
    return variants


def _storm(client: httpx.Client, rows: list[dict[str, Any]]) -> int:
    """Every person once; what-ifs for some; repeated scores of others. Rows sent."""
    _batch(client, rows)
    sent = len(rows)
    for row in rows[:EXPLORED]:
        for variant in _what_ifs(row):
            answer = client.post(
                "/v1/predictions", json=variant, headers={"X-Prediction-Purpose": "what-if"}
            )
            assert answer.status_code == 200, answer.text
            sent += 1
    for _ in range(REPEATS):
        _batch(client, rows[EXPLORED : EXPLORED + RESCORED])
        sent += RESCORED
    return sent


def _run_check(url: str, admin: str) -> dict[str, Any]:
    """Run a check as the dashboard does, then read its report as the Monitoring page does."""
    headers = {"X-API-Key": admin}
    answer = httpx.post(f"{url}/v1/monitoring/run", headers=headers, json={}, timeout=300)
    assert answer.status_code == 200, answer.text
    report_id = answer.json()["id"]
    detail = httpx.get(f"{url}/v1/monitoring/reports/{report_id}", headers=headers, timeout=30)
    assert detail.status_code == 200, detail.text
    result: dict[str, Any] = detail.json()
    return result


def _overtime_surge(rows: list[dict[str, Any]], share: float, seed: int) -> list[dict[str, Any]]:
    """``share`` of the people not on overtime now are."""
    rng = np.random.default_rng(seed)
    calm = [i for i, row in enumerate(rows) if row["OverTime"] == "No"]
    moved = set(rng.choice(calm, size=round(share * len(calm)), replace=False).tolist())
    return [{**row, "OverTime": "Yes"} if i in moved else row for i, row in enumerate(rows)]


def test_what_ifs_and_rescoring_are_not_drift_but_an_overtime_surge_is(
    api: tuple[str, dict[str, str]], sqlite_url: str
) -> None:
    url, keys = api
    rows = support.api_rows(generate_workforce(PEOPLE, WORKFORCE_SEED))
    headers = {"X-API-Key": keys["predictor"]}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        sent = _storm(client, rows)
    assert sent == PEOPLE + EXPLORED * WHAT_IFS + RESCORED * REPEATS
    support.wait_for(lambda: _logged(sqlite_url) == sent, 60, "the prediction log")

    calm = _run_check(url, keys["admin"])
    window = calm["summary"]["window"]
    assert (window["raw_rows"], window["what_if_rows"], window["repeat_rows"]) == (
        sent, EXPLORED * WHAT_IFS, RESCORED * REPEATS,
    )  # fmt: skip
    assert window["people"] == window["employees"] == calm["current_rows"] == PEOPLE
    assert not calm["dataset_drift"] and calm["drifted_features"] == []
    assert not calm["prediction_drift"] and not calm["alert_sent"]
    assert calm["summary"]["alert"]["status"] != "sent"

    viewer = {"X-API-Key": keys["viewer"]}
    summary = httpx.get(f"{url}/v1/workforce/summary", headers=viewer, timeout=30).json()
    assert summary["employees"] == window["employees"] == PEOPLE
    caption = window_caption(calm["summary"], calm["current_rows"], calm["source"])
    assert caption.startswith(f"{PEOPLE} people ({PEOPLE} employees")
    html = httpx.get(f"{url}/v1/monitoring/reports/{calm['id']}/html", headers=viewer, timeout=30)
    assert f"{PEOPLE} people from {sent} predictions" in html.text

    shifted = _overtime_surge(rows, 0.45, seed=WORKFORCE_SEED)
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        _batch(client, shifted)
    support.wait_for(lambda: _logged(sqlite_url) == sent + PEOPLE, 60, "the re-scored rows")
    surge = _run_check(url, keys["admin"])
    assert surge["summary"]["window"]["rule"] == "since_last_report"
    assert surge["current_rows"] == PEOPLE
    assert surge["dataset_drift"] is not None and surge["drifted_features"] == ["OverTime"]
