"""``run_monitoring`` against a real trained champion: reports, MLflow, alerts, retraining
guards, the command line. On SQLite, and on PostgreSQL for the report-and-alert flow."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from attrition.cli import app
from attrition.data.synthetic import generate_workforce
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import AuditEvent, DriftReport
from attrition.db.types import utcnow
from attrition.errors import AttritionError
from attrition.monitoring import reference
from attrition.monitoring import retrain as retraining
from attrition.monitoring.reference import Champion, champion_scores
from attrition.monitoring.service import run_monitoring
from attrition.monitoring.tracking import MONITORING_EXPERIMENT
from attrition.registry import RegistryConfig
from attrition.settings import get_settings
from attrition_testkit import receiving

support = sys.modules["attrition_monitoring_test_support"]  # loaded by conftest.py
KEY = b"test-pseudonym-key"
MODEL = support.MODEL_NAME
DRIFTED = ("overtime_surge", 300, 21)
TRAINING_ROWS = 1470  # the champion's training rows (conftest.py)


@pytest.fixture
def now() -> datetime:
    return utcnow().replace(microsecond=0)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with receiving() as found:
        monkeypatch.setenv("ATTRITION_ALERT_WEBHOOK_URL", f"{found.url}/hook")
        get_settings.cache_clear()
        yield found


def monitor(retrain: bool = False, spawn: Any = None, **options: Any) -> dict[str, Any]:
    """One check with this test's settings, as the entry points run it."""
    return run_monitoring(retrain, spawn, settings=get_settings(), **options)


def _log(
    url: str, champion: dict[str, Any], at: datetime, *, scenario: str | None, rows: int, seed: int
) -> pd.DataFrame:
    """Log a workforce as the champion would have scored it."""
    frame = generate_workforce(rows, seed, scenario=scenario)
    who = Champion(MODEL, champion["version"], "", champion["threshold"])
    scores = champion_scores(get_settings(), who, frame)
    support.log_predictions(
        url, frame, probabilities=scores, version=champion["version"], at=at, key=KEY,
        threshold=champion["threshold"],
    )  # fmt: skip
    return frame


def _report(url: str, report_id: int) -> DriftReport:
    with session_scope(url) as session:
        row = session.get(DriftReport, report_id)
        assert row is not None
        return row


def _audit(url: str, action: str) -> list[AuditEvent]:
    with session_scope(url) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _metric_steps(uri: str, version: str, name: str) -> list[int]:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name(MONITORING_EXPERIMENT)
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert [r.data.tags["attrition.model_version"] for r in runs] == [version]
    return [m.step for m in client.get_metric_history(runs[0].info.run_id, name)]


def test_no_champion_says_train_first(sqlite_url: str, champion: dict[str, Any]) -> None:
    from mlflow import MlflowClient

    # registry_uri too: MLflow otherwise takes the process-wide one a previous test set.
    client = MlflowClient(tracking_uri=champion["uri"], registry_uri=champion["uri"])
    client.delete_registered_model_alias(MODEL, "champion")
    with pytest.raises(AttritionError, match="no champion model yet: train first"):
        monitor()


def test_a_champion_without_its_reference_sample_is_a_clear_error(
    sqlite_url: str, champion: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(version: str) -> pd.DataFrame:
        raise FileNotFoundError(f"no reference for {version}")

    monkeypatch.setattr("attrition.registry.load_reference", missing)
    with pytest.raises(AttritionError, match="has no readable reference sample"):
        monitor()


def test_drifted_log_is_reported_logged_alerted_once_and_resolved_when_clean(
    database_url: str, champion: dict[str, Any], receiver: Any, now: datetime
) -> None:
    upgrade(database_url)
    scenario, rows, seed = DRIFTED
    _log(database_url, champion, now - timedelta(hours=1), scenario=scenario, rows=rows, seed=seed)
    first = monitor(now=now)
    assert "OverTime" in first["drifted_features"] and first["drift_detected"]
    assert first["scores"] == "logged" and first["performance"] is None
    assert first["window"]["rule"] == "last_days" and first["current_rows"] == rows
    assert first["alert"]["status"] == "sent" and first["retrain"]["status"] == "not_requested"
    hooks = receiver.posts("/hook")
    assert (
        len(hooks) == 1
        and f"/v1/monitoring/reports/{first['report_id']}/html" in (hooks[0]["json"]["text"])
    )
    stored = _report(database_url, first["report_id"])
    assert (stored.source, stored.current_rows, stored.alert_sent) == ("prediction_log", rows, True)
    assert stored.window_end == now and "OverTime" in stored.drifted_features
    assert (
        stored.summary["window"]["prediction_ids_sha256"]
        == first["window"]["prediction_ids_sha256"]
    )
    assert stored.html is not None and "OverTime" in stored.html

    again = monitor(now=now + timedelta(minutes=1), since=now - timedelta(hours=2))
    assert again["alert"]["status"] == "suppressed" and len(receiver.posts("/hook")) == 1
    assert again["window"]["prediction_ids_sha256"] == first["window"]["prediction_ids_sha256"]
    assert _metric_steps(champion["uri"], champion["version"], "drift_share") == [
        first["report_id"],
        again["report_id"],
    ]

    _log(database_url, champion, now + timedelta(minutes=2), scenario=None, rows=300, seed=22)
    clean = monitor(now=now + timedelta(minutes=3), since=now + timedelta(minutes=1))
    assert clean["window"]["rows"] == 300 and clean["window"]["rule"] == "since"
    assert not clean["drift_detected"] and clean["drifted_features"] == []
    assert clean["alert"]["status"] == "resolved" and len(receiver.posts("/hook")) == 1


def test_rows_scored_by_another_version_are_rescored_by_the_champion(
    sqlite_url: str, champion: dict[str, Any], now: datetime
) -> None:
    upgrade(sqlite_url)
    frame = generate_workforce(300, 31)
    support.log_predictions(
        sqlite_url, frame, probabilities=np.full(300, 0.97), version="0",
        at=now - timedelta(days=2), key=KEY,
    )  # fmt: skip
    result = monitor(now=now, days=7)
    assert result["scores"] == f"rescored by v{champion['version']}"
    assert result["window"]["model_versions"] == {"0": 300}
    assert not result["prediction_drift"]  # the logged 0.97s would have drifted


def test_label_shift_is_caught_by_performance_not_by_feature_drift(
    sqlite_url: str, champion: dict[str, Any], now: datetime
) -> None:
    upgrade(sqlite_url)
    frame = _log(
        sqlite_url, champion, now - timedelta(hours=1), scenario="label_shift", rows=400, seed=41
    )
    support.record_outcomes(sqlite_url, frame, key=KEY, on=now.date())
    result = monitor(now=now)
    assert result["drifted_features"] == [] and not result["prediction_drift"]
    performance = result["performance"]
    assert performance["overall"]["outcomes"] == 400 and performance["status"] == "decay"
    assert "calibration" in performance["overall"]["reasons"]
    assert result["performance_decay"] and result["drift_detected"]


def test_labelled_file_and_snapshot_sources(
    sqlite_url: str, champion: dict[str, Any], tmp_path: Path
) -> None:
    upgrade(sqlite_url)
    frame = generate_workforce(300, 51, scenario="overtime_surge")
    path = tmp_path / "current.csv"
    frame.to_csv(path, index=False)
    from_file = monitor(current=path)
    assert from_file["source"] == "file:current.csv" and "OverTime" in from_file["drifted_features"]
    assert from_file["performance"]["overall"]["outcomes"] == 300
    assert from_file["window"]["rows_rejected"] == 0 and from_file["window"]["window_start"] is None

    support.store_snapshot(sqlite_url, generate_workforce(300, 52), day=date(2026, 2, 1), key=KEY)
    snapshot = monitor(snapshot_date="2026-02-01")
    assert snapshot["source"] == "snapshot:2026-02-01" and snapshot["current_rows"] == 300
    assert snapshot["performance"]["overall"]["outcomes"] == 300
    with pytest.raises(AttritionError, match="not both"):
        monitor(current=path, snapshot_date="2026-02-01")
    with pytest.raises(AttritionError, match="unknown monitoring option"):
        monitor(window="7d")


def test_retrain_respects_the_cooldown_and_fails_cleanly_without_labels(
    sqlite_url: str, champion: dict[str, Any], now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(sqlite_url)
    scenario, rows, seed = DRIFTED
    _log(sqlite_url, champion, now - timedelta(hours=1), scenario=scenario, rows=rows, seed=seed)
    retraining.audit(
        sqlite_url, retraining.STARTED, MODEL, {"report_id": 0}, now - timedelta(hours=2)
    )
    blocked = monitor(retrain=True, now=now)
    assert blocked["retrain"]["status"] == "skipped" and not blocked["retrained"]
    assert blocked["retrain"]["reason"].startswith("cooldown:")
    assert len(_audit(sqlite_url, retraining.SKIPPED)) == 1

    monkeypatch.setenv("ATTRITION_RETRAIN_COOLDOWN_HOURS", "1")
    get_settings.cache_clear()
    failed = monitor(retrain=True, now=now + timedelta(minutes=1))
    assert failed["retrain"]["status"] == "failed" and failed["new_version"] is None
    assert "no labelled data to retrain on" in failed["retrain"]["reason"]
    assert len(_audit(sqlite_url, retraining.STARTED)) == 2
    assert len(_audit(sqlite_url, retraining.FAILED)) == 1
    stored = _report(sqlite_url, failed["report_id"])
    assert not stored.retrained and stored.summary["retrain"]["status"] == "failed"


def test_of_two_concurrent_starts_the_earlier_one_proceeds(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    first = retraining.audit(sqlite_url, retraining.STARTED, MODEL, {}, at)
    second = retraining.audit(sqlite_url, retraining.STARTED, MODEL, {}, at)
    assert retraining.cooldown_blocker(sqlite_url, MODEL, 24, at, own_id=first) is None
    blocker = retraining.cooldown_blocker(sqlite_url, MODEL, 24, at, own_id=second)
    assert blocker is not None and blocker[0] == first
    later = at + timedelta(hours=25)
    assert retraining.cooldown_blocker(sqlite_url, MODEL, 24, later) is None


def test_a_new_champion_is_announced_by_reload_or_left_to_polling() -> None:
    from attrition.settings import Settings

    with receiving() as api:
        settings = Settings(api_url=api.url, api_key="admin-secret", model_poll_seconds=2)
        assert retraining.notify_api(settings) == "reloaded"
        (call,) = api.posts("/v1/admin/reload")
        assert call["headers"]["Authorization"] == "Bearer admin-secret"
        api.statuses["/v1/admin/reload"] = [403]
        assert retraining.notify_api(settings) == "polling (reload answered HTTP 403)"
    assert retraining.notify_api(Settings(model_poll_seconds=2)) == "polling (every 2s)"
    gone = Settings(api_url=f"http://127.0.0.1:{support.free_port()}", api_key="k")
    assert retraining.notify_api(gone).startswith("polling (reload unreachable")


def test_cli_exit_codes_json_and_summary(
    sqlite_url: str, champion: dict[str, Any], now: datetime, tmp_path: Path
) -> None:
    upgrade(sqlite_url)
    scenario, rows, seed = DRIFTED
    _log(sqlite_url, champion, now - timedelta(hours=1), scenario=scenario, rows=rows, seed=seed)
    runner = CliRunner()
    drifted = runner.invoke(app, ["monitor", "--fail-on-drift", "--json"])
    assert drifted.exit_code == 3, drifted.output
    answer = json.loads(drifted.stdout.strip().splitlines()[-1])
    for key in ("report_id", "dataset_drift", "drift_share", "drifted_features", "prediction_drift",
                "performance", "retrained", "new_version"):  # fmt: skip
        assert key in answer
    assert "OverTime" in answer["drifted_features"] and answer["retrained"] is False

    clean = tmp_path / "clean.csv"
    generate_workforce(300, 61).to_csv(clean, index=False)
    quiet = runner.invoke(app, ["monitor", "--current", str(clean), "--fail-on-drift"])
    assert quiet.exit_code == 0, quiet.output
    assert "Dataset drift: no" in quiet.stdout and "Drift report" in quiet.stdout


def test_the_reference_is_unlinked_marginals_with_the_served_models_holdout_scores(
    sqlite_url: str, champion: dict[str, Any], now: datetime
) -> None:
    """The champion's reference holds per-feature marginals and sorted scores, no row; the
    served model's holdout scores are the prediction reference; the local cache is 0600
    and an old-format cache (full rows) is removed."""
    upgrade(sqlite_url)
    settings = get_settings()
    who = reference.current_champion(RegistryConfig.from_settings(settings))
    stale = reference.cache_path(settings, who).with_name("v0-old.parquet")
    stale.parent.mkdir(parents=True, exist_ok=True)
    generate_workforce(40, 1).to_parquet(stale)
    _log(sqlite_url, champion, now - timedelta(hours=1), scenario=None, rows=300, seed=78)
    result = monitor(now=now)
    assert result["prediction_reference"] == "holdout" and not result["prediction_drift"]
    assert result["reference_rows"] == TRAINING_ROWS and not stale.exists()
    cached = reference.cache_path(settings, who)
    assert cached.stat().st_mode & 0o777 == 0o600
    stored = json.loads(cached.read_text())
    assert set(stored) == {"format", "rows", "features", "scores"}
    assert set(stored["scores"]) == {"holdout", "out_of_fold"}
    assert stored["scores"]["holdout"] == sorted(stored["scores"]["holdout"])
    entries = stored["features"].values()
    assert all(set(entry) == {"values", "counts", "missing"} for entry in entries)
    assert _report(sqlite_url, result["report_id"]).summary["prediction_reference"] == "holdout"


def test_score_reference_choice() -> None:
    from attrition.registry import ReferenceMarginals

    def marginals(**scores: list[float]) -> ReferenceMarginals:
        return ReferenceMarginals(50, {}, {k: tuple(v) for k, v in scores.items()})

    oof = list(np.linspace(0, 1, 40))
    scores, kind = reference.score_reference(marginals(out_of_fold=oof), 30)
    assert kind == "out_of_fold" and scores is not None and scores.size == 40
    both = marginals(out_of_fold=oof, holdout=[0.5] * 10)
    scores, kind = reference.score_reference(both, 30)  # too few holdout scores
    assert kind == "out_of_fold" and scores is not None and scores.size == 40
    scores, kind = reference.score_reference(both, 5)
    assert kind == "holdout" and scores is not None and scores.size == 10
    assert reference.score_reference(marginals(), 5) == (None, "none")


def test_a_spawned_retrain_works_on_the_same_check_and_writes_its_outcome_on_its_report(
    sqlite_url: str, champion: dict[str, Any], now: datetime
) -> None:
    """The API's path: the check runs once; the retrain of that check is handed to a
    background runner, and its outcome lands on the report that asked for it."""
    upgrade(sqlite_url)
    scenario, rows, seed = DRIFTED
    _log(sqlite_url, champion, now - timedelta(hours=1), scenario=scenario, rows=rows, seed=seed)
    jobs: list[tuple[int, Any]] = []

    def spawn(report_id: int, job: Any) -> bool:
        jobs.append((report_id, job))
        return len(jobs) == 1  # a second one finds the first still running

    first = monitor(retrain=True, spawn=spawn, now=now)
    assert first["retrain"]["status"] == "started" and not first["retrained"]
    assert [report for report, _ in jobs] == [first["report_id"]]
    assert _report(sqlite_url, first["report_id"]).summary["retrain"]["status"] == "started"
    busy = monitor(retrain=True, spawn=spawn, now=now + timedelta(seconds=1))
    assert busy["retrain"]["status"] == "already_running"
    assert _report(sqlite_url, busy["report_id"]).summary["retrain"]["status"] == "already_running"

    outcome = jobs[0][1]()  # the background runner runs the job: no labels here, so it fails
    assert outcome["status"] == "failed" and "no labelled data" in outcome["reason"]
    stored = _report(sqlite_url, first["report_id"])
    assert stored.summary["retrain"]["status"] == "failed" and not stored.retrained
    assert len(_audit(sqlite_url, retraining.STARTED)) == 1, "one retrain, of the first check"
    with session_scope(sqlite_url) as session:
        assert session.scalar(select(func.count()).select_from(DriftReport)) == 2
