"""Monitoring survives any row already stored (issue 13 item 2): an outcome dated
9999-12-31 (or 0001-01-01), recorded before the API bounded dates, used to make every
check fail with an OverflowError until the person was erased."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from typing import Any

import pytest

from attrition.data.synthetic import generate_workforce
from attrition.db.migrate import upgrade
from attrition.db.types import utcnow
from attrition.monitoring.reference import Champion, champion_scores
from attrition.monitoring.service import run_monitoring
from attrition.settings import get_settings

support = sys.modules["attrition_monitoring_test_support"]  # loaded by conftest.py
KEY = b"test-pseudonym-key"

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("day", [date.max, date.min])
def test_a_check_runs_with_absurd_outcome_dates_in_the_table(
    sqlite_url: str, champion: dict[str, Any], day: date
) -> None:
    upgrade(sqlite_url)
    now = utcnow().replace(microsecond=0)
    frame = generate_workforce(200, 5)
    who = Champion(support.MODEL_NAME, champion["version"], "", champion["threshold"])
    scores = champion_scores(get_settings(), who, frame)
    support.log_predictions(
        sqlite_url, frame, probabilities=scores, version=champion["version"],
        at=now - timedelta(hours=1), key=KEY, threshold=champion["threshold"],
    )  # fmt: skip
    support.record_outcomes(sqlite_url, frame.iloc[:20], key=KEY, on=day)
    support.record_outcomes(sqlite_url, frame.iloc[20:], key=KEY, on=now.date())
    result = run_monitoring(False, None, settings=get_settings(), now=now)
    assert result["report_id"] > 0
    outcomes = result["performance"]["overall"]["outcomes"]
    assert outcomes == (200 if day == date.max else 180)  # 0001-01-01 precedes every prediction
