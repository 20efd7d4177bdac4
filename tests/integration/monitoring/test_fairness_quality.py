"""Fairness in production and data quality in a real check: a trained champion, its
training-time fairness audit from MLflow, outcomes and refused inputs in the database, and
(for refused inputs) the real API in its own process."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from attrition.data.synthetic import generate_workforce
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import DriftReport, RefusedInput
from attrition.db.types import utcnow
from attrition.monitoring.reference import Champion, champion_scores
from attrition.monitoring.service import run_monitoring
from attrition.serving.platform.api_keys import create_key
from attrition.settings import get_settings

support = sys.modules["attrition_monitoring_test_support"]  # loaded by conftest.py
KEY = b"test-pseudonym-key"
MODEL = support.MODEL_NAME


@pytest.fixture
def now() -> datetime:
    return utcnow().replace(microsecond=0)


def monitor(**options: Any) -> dict[str, Any]:
    return run_monitoring(False, None, settings=get_settings(), **options)


def _log_with_outcomes(
    url: str, champion: dict[str, Any], at: datetime, *, collapse: str | None, seed: int
) -> None:
    """800 people scored by the champion, their outcomes recorded; with ``collapse``, the
    leavers of that gender were all scored as safe (their recall collapses)."""
    frame = generate_workforce(800, seed)
    who = Champion(MODEL, champion["version"], "", champion["threshold"])
    scores = champion_scores(get_settings(), who, frame)
    if collapse is not None:
        missed = ((frame["Gender"] == collapse) & (frame["Attrition"] == "Yes")).to_numpy()
        scores = np.where(missed, 0.0, scores)
    support.log_predictions(
        url, frame, probabilities=scores, version=champion["version"], at=at, key=KEY,
        threshold=champion["threshold"],
    )  # fmt: skip
    support.record_outcomes(url, frame, key=KEY, on=at.date())


def _report(url: str, report_id: int) -> DriftReport:
    with session_scope(url) as session:
        row = session.get(DriftReport, report_id)
        assert row is not None
        return row


def test_a_collapsed_group_is_a_finding_naming_it_in_report_alert_and_mlflow(
    sqlite_url: str, champion: dict[str, Any], now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(sqlite_url)
    _log_with_outcomes(sqlite_url, champion, now - timedelta(hours=1), collapse="Female", seed=61)
    result = monitor(now=now)
    codes = [f["code"] for f in result["findings"]]
    assert "fairness:Gender=Female:recall" in codes
    assert not any("Gender=Male" in code for code in codes)
    assert result["alert"]["status"] == "sent"
    stored = _report(sqlite_url, result["report_id"])
    fairness = stored.summary["fairness"]
    assert fairness["training_basis"] == "out_of_sample" and fairness["people"] == 800
    gender = next(a for a in fairness["attributes"] if a["attribute"] == "Gender")
    female = next(g for g in gender["groups"] if g["group"] == "Female")
    assert female["status"] == "regression" and female["recall"] == 0.0
    assert female["training_recall"] > 0.3
    assert stored.html is not None and "Fairness in production" in stored.html
    assert "recall of Gender=Female fell to 0.00" in stored.html
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=champion["uri"], registry_uri=champion["uri"])
    experiment = client.get_experiment_by_name("attrition-monitoring")
    assert experiment is not None
    run = client.search_runs([experiment.experiment_id])[0]
    assert run.data.metrics["fairness_recall/Gender/Female"] == 0.0
    assert run.data.metrics["fairness_findings"] >= 1


def test_a_balanced_window_raises_no_fairness_finding(
    sqlite_url: str, champion: dict[str, Any], now: datetime
) -> None:
    upgrade(sqlite_url)
    _log_with_outcomes(sqlite_url, champion, now - timedelta(hours=1), collapse=None, seed=62)
    result = monitor(now=now)
    assert result["findings"] == []
    fairness = _report(sqlite_url, result["report_id"]).summary["fairness"]
    statuses = {g["status"] for a in fairness["attributes"] for g in a["groups"]}
    assert statuses == {"ok"}
    assert all(a["parity_ratio"] is not None for a in fairness["attributes"])


def test_a_burst_of_bad_inputs_on_one_field_shows_in_the_next_report(
    champion: dict[str, Any], isolated_settings: Path, tmp_path: Path
) -> None:
    settings = get_settings()
    upgrade(settings.database_url)
    predictor = create_key(
        "quality", "predictor", database_url=settings.database_url,
        server_secret=settings.pseudonym_secret(),
    ).secret  # fmt: skip
    headers = {"Authorization": f"Bearer {predictor}"}
    rows = support.api_rows(generate_workforce(60, 71))
    with support.live_api({}, tmp_path / "api.log") as url:
        answered = httpx.post(
            f"{url}/v1/predictions/batch", json={"employees": rows[:40]}, headers=headers,
            timeout=120,
        )  # fmt: skip
        assert answered.status_code == 200, answered.text
        for row in rows[40:]:  # the feeding system now sends ages as words
            refused = httpx.post(
                f"{url}/v1/predictions", json={**row, "Age": "forty"}, headers=headers, timeout=30
            )
            assert refused.status_code == 422 and "Age" in refused.text
        exposed = httpx.get(f"{url}/metrics", timeout=10).text
    counted = re.findall(
        r'attrition_refused_inputs_total\{field="Age",reason="(\w+)"\} (\S+)', exposed
    )
    assert len(counted) == 1 and float(counted[0][1]) == 20.0  # reason: the validator's type
    support.wait_for(lambda: _logged(settings.database_url) >= 40, 30, "the prediction log")
    with session_scope(settings.database_url) as session:
        stored = session.scalars(select(RefusedInput)).all()
        assert {(r.field, r.reason, r.route) for r in stored} == {
            ("Age", counted[0][0], "/v1/predictions")
        }
        assert len({r.request_id for r in stored}) == 20
    result = monitor(now=utcnow() + timedelta(seconds=1))
    quality = _report(settings.database_url, result["report_id"]).summary["data_quality"]
    assert quality["top_fields"][0] == {"field": "Age", "count": 20}
    assert quality["current"]["refused_requests"] == 20
    assert quality["current"]["answered_requests"] == 1
    assert "data_quality:rise" in [f["code"] for f in result["findings"]]
    assert "forty" not in str(quality)


def _logged(database_url: str) -> int:
    from sqlalchemy import func

    from attrition.db.models import PredictionLog

    with session_scope(database_url) as session:
        return int(session.scalar(select(func.count()).select_from(PredictionLog)) or 0)
