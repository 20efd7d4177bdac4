"""Retention, backup and restore against real databases and a real MLflow store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression
from sqlalchemy import func, select
from typer.testing import CliRunner

from attrition.cli import app
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import AuditEvent, ErasureTombstone, Outcome, PredictionLog
from attrition.errors import AttritionError
from attrition.operations import maintenance
from attrition.settings import get_settings

pytestmark = pytest.mark.integration
runner = CliRunner()
MODEL = "maintenance-test-model"


def _log(created_at: datetime, n: int) -> PredictionLog:
    return PredictionLog(
        prediction_id=f"p-{n}",
        request_id=f"r-{n}",
        employee_key="k" * 64,
        model_name=MODEL,
        model_version="1",
        probability=0.3,
        at_risk=False,
        threshold=0.4,
        features={"Age": 30},
        client="key1",
        created_at=created_at,
    )


def _seed_database(url: str) -> None:
    upgrade(url)
    now = datetime.now(UTC)
    with session_scope(url) as session:
        session.add_all([_log(now - timedelta(days=400), 1), _log(now, 2)])
        session.add(Outcome(employee_key="k" * 64, left=True, outcome_date=date(2026, 5, 1)))


def _count(url: str, model: type) -> int:
    with session_scope(url) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _register_versions(tracking_uri: str, count: int) -> MlflowClient:
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)  # else an earlier test's process-wide registry
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    for _ in range(count):
        with mlflow.start_run():
            mlflow.sklearn.log_model(
                model, name="model", registered_model_name=MODEL, pip_requirements=[]
            )
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def test_prune_deletes_only_logs_past_retention(database_url: str) -> None:
    _seed_database(database_url)
    cutoff = datetime.now(UTC) - timedelta(days=365)
    assert maintenance.prune_prediction_logs(database_url, cutoff) == 1
    assert _count(database_url, PredictionLog) == 1
    assert _count(database_url, Outcome) == 1


def test_prune_keeps_aliased_versions_and_their_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTRITION_MODEL_NAME", MODEL)
    get_settings.cache_clear()
    settings = get_settings()
    _seed_database(settings.database_url)
    client = _register_versions(settings.mlflow_tracking_uri, 3)
    client.set_registered_model_alias(MODEL, "champion", "2")
    champion_run = client.get_model_version(MODEL, "2").run_id

    result = maintenance.prune(settings, now=datetime.now(UTC) + timedelta(days=120))

    assert result.prediction_logs_deleted == 1
    assert sorted(result.model_versions_deleted) == ["1", "3"]
    assert [str(v.version) for v in client.search_model_versions(f"name='{MODEL}'")] == ["2"]
    assert client.get_run(champion_run).info.lifecycle_stage == "active"
    assert result.runs_deleted == 2
    with session_scope(settings.database_url) as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "maintenance.prune" in actions


def test_backup_restores_into_an_empty_database(
    database_url: str, postgres_url: str, tmp_path: Path
) -> None:
    _seed_database(database_url)
    settings = get_settings()
    _register_versions(settings.mlflow_tracking_uri, 1)
    manifest = maintenance.backup(settings, tmp_path / "backup")
    assert manifest["tables"]["prediction_log"] == 2
    assert manifest["mlflow"]["mode"] == "embedded"

    target = postgres_url if database_url.startswith("sqlite") else f"sqlite:///{tmp_path}/r.db"
    upgrade(target)
    restored_settings = settings.model_copy(update={"database_url": target})
    counts = maintenance.restore(restored_settings, tmp_path / "backup")
    assert counts["prediction_log"] == 2 and counts["outcome"] == 1
    with session_scope(target) as session:
        logs = session.scalars(select(PredictionLog).order_by(PredictionLog.id)).all()
        session.add(_log(datetime.now(UTC), 3))  # ids continue after the restored ones
    assert logs[0].created_at.tzinfo is not None
    assert _count(target, PredictionLog) == 3

    with pytest.raises(AttritionError, match="already holds data"):
        maintenance.restore(restored_settings, tmp_path / "backup")
    assert maintenance.restore(restored_settings, tmp_path / "backup", force=True)["outcome"] == 1


def test_backup_refuses_a_non_empty_folder_and_restore_a_non_backup(tmp_path: Path) -> None:
    settings = get_settings()
    upgrade(settings.database_url)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(AttritionError, match="not empty"):
        maintenance.backup(settings, tmp_path / "full")
    with pytest.raises(AttritionError, match="not an attrition backup"):
        maintenance.restore(settings, tmp_path)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_an_encrypted_backup_is_private_unreadable_without_its_key_and_restores_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = get_settings().database_url
    _seed_database(url)
    _register_versions(get_settings().mlflow_tracking_uri, 1)
    artifact = Path(get_settings().mlflow_artifact_root) / "1" / "run" / "rows.json"
    artifact.parent.mkdir(parents=True)
    artifact.write_text('{"Age": 30}')
    key = tmp_path / "keys" / "backup.key"
    maintenance_cli = runner.invoke(app, ["maintenance", "backup-key", "--out", str(key)])
    assert maintenance_cli.exit_code == 0, maintenance_cli.output
    assert key.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("ATTRITION_BACKUP_KEY_FILE", str(key))
    get_settings.cache_clear()
    out = tmp_path / "backup"
    manifest = maintenance.backup(get_settings(), out)
    assert manifest["encryption"]["scheme"] == "fernet"

    files = _files(out)
    assert {p.name for p in files if not p.name.endswith(".enc")} == {"manifest.json"}
    assert any("mlartifacts" in str(p) for p in files)
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
        assert b'"Age"' not in path.read_bytes() and b"SQLite" not in path.read_bytes()
    for folder in (p for p in out.rglob("*") if p.is_dir()):
        assert folder.stat().st_mode & 0o777 == 0o700, folder

    target = tmp_path / "restored"
    monkeypatch.setenv("ATTRITION_DATABASE_URL", f"sqlite:///{target / 'attrition.db'}")
    monkeypatch.setenv("ATTRITION_MLFLOW_TRACKING_URI", f"sqlite:///{target / 'mlflow.db'}")
    monkeypatch.setenv("ATTRITION_MLFLOW_ARTIFACT_ROOT", str(target / "mlartifacts"))
    monkeypatch.delenv("ATTRITION_BACKUP_KEY_FILE")
    get_settings.cache_clear()
    upgrade(get_settings().database_url)
    with pytest.raises(AttritionError, match="this backup is encrypted"):
        maintenance.restore(get_settings(), out)
    other = tmp_path / "keys" / "other.key"
    assert runner.invoke(app, ["maintenance", "backup-key", "--out", str(other)]).exit_code == 0
    monkeypatch.setenv("ATTRITION_BACKUP_KEY_FILE", str(other))
    get_settings.cache_clear()
    with pytest.raises(AttritionError, match="not the one this backup was written with"):
        maintenance.restore(get_settings(), out)

    monkeypatch.setenv("ATTRITION_BACKUP_KEY", key.read_text())
    get_settings.cache_clear()
    counts = maintenance.restore(get_settings(), out)
    assert counts["prediction_log"] == 2 and counts["outcome"] == 1
    restored = MlflowClient(tracking_uri=get_settings().mlflow_tracking_uri)
    assert restored.get_registered_model(MODEL).name == MODEL
    assert (target / "mlartifacts" / "1" / "run" / "rows.json").read_text() == '{"Age": 30}'


def test_backups_past_their_retention_are_deleted_and_other_folders_kept(
    tmp_path: Path,
) -> None:
    root = tmp_path / "backups"
    now = datetime.now(UTC)
    for name, age in (("old", 40), ("recent", 3)):
        (root / name).mkdir(parents=True)
        created = (now - timedelta(days=age)).isoformat()
        (root / name / "manifest.json").write_text(f'{{"created_at": "{created}"}}')
    (root / "not-a-backup").mkdir()
    assert maintenance.prune_backups(root, 35, now) == ["old"]
    assert sorted(p.name for p in root.iterdir()) == ["not-a-backup", "recent"]


def _log_for(employee_key: str, created_at: datetime, n: int) -> PredictionLog:
    log = _log(created_at, n)
    log.employee_key = employee_key
    return log


def test_a_restore_keeps_the_erasures_made_since_the_backup(
    database_url: str, tmp_path: Path
) -> None:
    from attrition.privacy import pseudonymise
    from attrition.privacy.erasure import erase_employee

    upgrade(database_url)
    settings = get_settings()
    secret = settings.pseudonym_secret()
    erased, kept = pseudonymise(1, secret), pseudonymise(2, secret)
    earlier = datetime.now(UTC) - timedelta(days=1)
    with session_scope(database_url) as session:
        for n, key in enumerate((erased, kept)):
            session.add(_log_for(key, earlier, n))
            session.add(Outcome(employee_key=key, left=True, outcome_date=date(2026, 5, 1)))
    maintenance.backup(settings, tmp_path / "before")
    erase_employee(1, database_url=database_url, secret=secret)
    with session_scope(database_url) as session:  # the person comes back, later
        session.add(_log_for(erased, datetime.now(UTC) + timedelta(hours=1), 9))
    maintenance.backup(settings, tmp_path / "after")

    counts = maintenance.restore(settings, tmp_path / "before", force=True)
    assert counts["erasures_reapplied"] == 1
    with session_scope(database_url) as session:
        assert set(session.scalars(select(PredictionLog.employee_key))) == {kept}
        assert set(session.scalars(select(Outcome.employee_key))) == {kept}
        assert session.scalars(select(ErasureTombstone.employee_key)).all() == [erased]

    maintenance.restore(settings, tmp_path / "after", force=True)
    with session_scope(database_url) as session:
        logs = session.scalars(select(PredictionLog.prediction_id)).all()
        assert sorted(logs) == ["p-1", "p-9"]  # data recorded after the erasure is kept
        assert session.scalars(select(ErasureTombstone.employee_key)).all() == [erased]
