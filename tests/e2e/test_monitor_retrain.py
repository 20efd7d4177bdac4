"""End to end: serve a champion, send workloads through the API, record outcomes, run
`attrition monitor`: drift -> report, one alert (deduplicated on the second run),
retraining through the quality gate, the API serving the new champion without a restart
(alias polling); then no drift (a fresh sample of the new champion's training
distribution) -> exit 0 with --fail-on-drift, nothing retrained, the episode closed.

The initial champion is trained from a CSV with a small search (3 trials, 3 folds); a
newer labelled HR snapshot (other employees) is in the database, as a monthly export
would be. Retraining uses it plus the predictions that have outcomes.

The gate used here is the shipped ``configs/gate.yaml`` with one change, made explicit:
``fairness.regression_tolerance`` 0.5 instead of 0.05. The retrain's holdout is ~370
rows, on which group selection rates of two sound models differ by more than 0.05 from
sampling noise alone; the metric floors, ceilings, champion-comparison tolerances, the
Gender four-fifths floor and the behavioural checks are the shipped ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import yaml
from sqlalchemy import func, select

from attrition.data.ingest import ingest_file
from attrition.data.synthetic import generate_workforce
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import AuditEvent, DriftReport, PredictionLog
from attrition.db.types import utcnow
from attrition.monitoring import retrain as retraining
from attrition.serving.platform.api_keys import create_key
from attrition.settings import get_settings
from attrition_testkit import TESTS, load_module, receiving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ATTRITION = Path(sys.executable).parent / "attrition"
SNAPSHOT_IDS, CALM_IDS, DRIFT_IDS = 50_000, 100_000, 300_000


support = load_module(
    "attrition_monitoring_test_support", TESTS / "integration" / "monitoring" / "support.py"
)


def _gate_config(folder: Path) -> Path:
    policy = yaml.safe_load((REPO / "configs" / "gate.yaml").read_text())
    policy["fairness"]["regression_tolerance"] = 0.5
    path = folder / "gate.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


@pytest.fixture
def env(isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "ATTRITION_MODEL_POLL_SECONDS": "1",
        "ATTRITION_N_TRIALS": "3",
        "ATTRITION_TRIAL_TIMEOUT_S": "600",
        "ATTRITION_CV_FOLDS": "3",
        "ATTRITION_CV_REPEATS": "1",
        "ATTRITION_GATE_CONFIG": str(_gate_config(isolated_settings.parent)),
        "ATTRITION_MONITORING_CONFIG": str(REPO / "configs" / "monitoring.yaml"),
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return values


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ATTRITION), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.stdout.strip(), done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _send(url: str, keys: dict[str, str], frame: pd.DataFrame, offset: int) -> None:
    """Score the rows through the API, then record their real outcomes (dated today)."""
    headers = {"Authorization": f"Bearer {keys['predictor']}"}
    rows = support.api_rows(frame, offset)
    scored = httpx.post(
        f"{url}/v1/predictions/batch", json={"employees": rows}, headers=headers, timeout=120
    )
    assert scored.status_code == 200, scored.text
    outcomes = [
        {"employee_number": r["EmployeeNumber"], "left": label == "Yes",
         "outcome_date": utcnow().date().isoformat()}
        for r, label in zip(rows, frame["Attrition"], strict=True)
    ]  # fmt: skip
    recorded = httpx.post(
        f"{url}/v1/outcomes", json={"outcomes": outcomes}, headers=headers, timeout=120
    )
    assert recorded.status_code == 200 and recorded.json()["recorded"] == len(rows), recorded.text


def _logged(database_url: str) -> int:
    with session_scope(database_url) as session:
        return int(session.scalar(select(func.count()).select_from(PredictionLog)) or 0)


def _actions(database_url: str) -> list[str]:
    with session_scope(database_url) as session:
        query = select(AuditEvent.action).where(AuditEvent.actor == retraining.ACTOR)
        return [a for a in session.scalars(query.order_by(AuditEvent.id)) if "retrain" in a]


def _served_version(url: str, keys: dict[str, str]) -> str:
    answer = httpx.get(f"{url}/v1/model", headers={"X-API-Key": keys["viewer"]}, timeout=10)
    return str(answer.json().get("version"))


def test_drift_alerts_once_retrains_and_the_api_serves_the_new_champion(
    env: dict[str, str], isolated_settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    upgrade(settings.database_url)
    untrained = _cli("monitor", "--json")
    assert untrained.returncode == 1 and "train first" in untrained.stderr
    assert "Traceback" not in untrained.stderr

    base = tmp_path / "base.csv"
    generate_workforce(1470, 1).to_csv(base, index=False)
    trained = _json(_cli("train", "--data", str(base), "--json"))
    assert trained["promoted"] and trained["model_version"] == "1", trained["gate"]
    snapshot = tmp_path / "snapshot.csv"
    newer = generate_workforce(1470, 2)
    newer["EmployeeNumber"] += SNAPSHOT_IDS
    newer.to_csv(snapshot, index=False)
    secret = settings.pseudonym_secret()
    ingest_file(
        snapshot, utcnow().date() - timedelta(days=1), settings.database_url, pseudonym_key=secret
    )
    keys = {
        role: create_key(f"e2e-{role}", role, database_url=settings.database_url,
                         server_secret=secret).secret
        for role in ("viewer", "predictor", "admin")
    }  # fmt: skip

    with receiving() as hooks:
        monkeypatch.setenv("ATTRITION_ALERT_WEBHOOK_URL", f"{hooks.url}/hook")
        with support.live_api(dict(env), tmp_path / "api.log") as url:
            # drift: overtime surges among 400 scored employees whose outcomes arrive
            start = utcnow().isoformat()
            _send(url, keys, generate_workforce(400, 8, scenario="overtime_surge"), DRIFT_IDS)
            support.wait_for(lambda: _logged(settings.database_url) == 400, 30, "logged rows")
            alarmed = _cli("monitor", "--since", start, "--fail-on-drift", "--json")
            first = _json(alarmed)
            assert alarmed.returncode == 3, first
            assert "OverTime" in first["drifted_features"] and first["current_rows"] == 400
            assert first["performance"]["overall"]["outcomes"] == 400
            assert first["alert"]["status"] == "sent" and len(hooks.posts("/hook")) == 1
            by_api = httpx.post(
                f"{url}/v1/monitoring/run", json={"retrain": False},
                headers={"Authorization": f"Bearer {keys['admin']}"}, timeout=300,
            )  # fmt: skip
            assert by_api.status_code == 200, by_api.text
            assert by_api.json()["id"] == first["report_id"] + 1 and len(hooks.posts("/hook")) == 1

            second = _json(_cli("monitor", "--since", start, "--retrain", "--json"))
            assert second["alert"]["status"] == "suppressed" and len(hooks.posts("/hook")) == 1
            retrain = second["retrain"]
            assert second["retrained"] and second["new_version"] == "2", retrain
            assert retrain["training_rows"] == 400 + 1470 and "snapshot" in retrain["data_source"]
            assert second["promoted"] and retrain["gate_passed"], retrain["gate_reasons"]
            assert retrain["reload"].startswith("polling")
            support.wait_for(lambda: _served_version(url, keys) == "2", 90, "the API on v2")
            employee = support.api_rows(generate_workforce(1, 99))[0]
            answer = httpx.post(
                f"{url}/v1/predictions", json=employee,
                headers={"Authorization": f"Bearer {keys['predictor']}"}, timeout=30,
            )  # fmt: skip
            assert answer.status_code == 200 and answer.json()["model_version"] == "2"

            # no drift: a fresh sample of v2's training distribution (surge share 400/1870)
            start = utcnow().isoformat()
            _send(url, keys, generate_workforce(236, 9), CALM_IDS)
            _send(url, keys, generate_workforce(64, 10, scenario="overtime_surge"), CALM_IDS * 2)
            support.wait_for(lambda: _logged(settings.database_url) == 701, 30, "logged rows")
            quiet = _cli("monitor", "--since", start, "--retrain", "--fail-on-drift", "--json")
            calm = _json(quiet)

    with session_scope(settings.database_url) as session:
        reports = session.scalars(select(DriftReport).order_by(DriftReport.id)).all()
        assert [r.retrained for r in reports] == [False, False, True, False]
        assert reports[2].new_version == "2" and reports[2].alert_sent is False
        assert [r.model_version for r in reports] == ["1", "1", "1", "2"]
        assert reports[1].current_rows == 400  # the API's check: last 30 days, same rows
    assert calm["current_rows"] == 300 and calm["drifted_features"] == [], calm
    assert calm["prediction_reference"] == "holdout"  # the served model's holdout scores
    assert quiet.returncode == 0 and not calm["drift_detected"], calm
    assert calm["retrain"]["status"] == "not_needed" and calm["new_version"] is None
    assert calm["alert"]["status"] == "resolved" and len(hooks.posts("/hook")) == 1
    assert _actions(settings.database_url) == [
        retraining.STARTED, retraining.FINISHED, retraining.RELOAD
    ]  # fmt: skip
