"""Sustained load: every answered prediction reaches `prediction_log`, also across a
database outage (predictions are spooled locally and replayed when it comes back)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import func, select

from attrition.db.engine import get_engine, session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import PredictionLog
from attrition.serving.predlog.spool import spooled_rows
from attrition_services import PostgresServer

from .conftest import live_api, make_keys, run_load, start_load, support

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SECONDS = 60
CONNECTIONS = 16


def rows_for(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [support.employee(row) for _, row in frame.head(300).iterrows()]


def logged(url: str) -> int:
    try:
        with session_scope(url) as session:
            return int(session.scalar(select(func.count()).select_from(PredictionLog)) or 0)
    except Exception:
        return -1


def wait_for_count(url: str, expected: int, timeout: float = 90) -> int:
    deadline = time.monotonic() + timeout
    count = logged(url)
    while time.monotonic() < deadline and count != expected:
        time.sleep(0.5)
        count = logged(url)
    return count


def server_env(registry: dict[str, str], database_url: str) -> dict[str, str]:
    return {
        "ATTRITION_DATABASE_URL": database_url,
        "ATTRITION_MLFLOW_TRACKING_URI": registry["uri"],
        "ATTRITION_RATE_LIMIT_PER_MINUTE": "100000000",
        "ATTRITION_MODEL_POLL_SECONDS": "0",
        "ATTRITION_LOG_LEVEL": "WARNING",
    }


def test_sixty_seconds_of_load_every_200_is_logged(
    registry: dict[str, str],
    sqlite_url: str,
    dev_frame: pd.DataFrame,
    tmp_path: Path,
    isolated_settings: Path,
) -> None:
    upgrade(sqlite_url)
    keys = make_keys(sqlite_url)
    with live_api(server_env(registry, sqlite_url), tmp_path / "api.log", workers=2) as url:
        result = run_load(
            url,
            keys["predictor"],
            rows_for(dev_frame),
            seconds=SECONDS,
            connections=CONNECTIONS,
            out=tmp_path / "load.json",
        )
        answered = result["statuses"].get("200", 0)
        assert set(result["statuses"]) == {"200"}, result["statuses"]
        assert answered > 1000
        assert wait_for_count(sqlite_url, answered) == answered
        metrics = httpx.get(f"{url}/metrics").text
    assert spooled_rows(isolated_settings / "spool" / "prediction_log") == 0
    assert "attrition_predictions_total" in metrics
    print(json.dumps(result))


def test_a_database_outage_mid_load_loses_nothing(
    registry: dict[str, str],
    own_postgres: PostgresServer,
    dev_frame: pd.DataFrame,
    tmp_path: Path,
    isolated_settings: Path,
) -> None:
    url_db = own_postgres.url()
    upgrade(url_db)
    keys = make_keys(url_db)
    get_engine(url_db).dispose()
    with live_api(server_env(registry, url_db), tmp_path / "api.log", workers=2) as url:
        load = start_load(
            url,
            keys["predictor"],
            rows_for(dev_frame),
            seconds=SECONDS,
            connections=CONNECTIONS,
            out=tmp_path / "load.json",
        )
        time.sleep(15)
        own_postgres.stop()
        time.sleep(20)
        ready = httpx.get(f"{url}/health/ready").json()
        assert ready["database"] is False and ready["ready"] is True
        own_postgres.start()
        assert load.wait(SECONDS + 60) == 0
        result = json.loads((tmp_path / "load.json").read_text())
        answered = result["statuses"].get("200", 0)
        assert set(result["statuses"]) == {"200"}, result["statuses"]
        assert answered > 1000
        assert wait_for_count(url_db, answered) == answered
        spooled = httpx.get(f"{url}/metrics").text
    assert spooled_rows(isolated_settings / "spool" / "prediction_log") == 0
    assert "attrition_prediction_log_spooled_rows_total" in spooled
    total = sum(
        float(line.split()[-1])
        for line in spooled.splitlines()
        if line.startswith("attrition_prediction_log_spooled_rows_total")
    )
    assert total > 0  # the outage really sent rows through the spool
    with session_scope(url_db) as session:
        ids = session.scalars(select(PredictionLog.prediction_id)).all()
    assert len(ids) == len(set(ids)) == answered
    print(json.dumps(result))
