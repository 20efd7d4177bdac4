"""Upkeep: retention of prediction logs and MLflow runs, backup and restore.

Retention never touches a model version that holds an alias, nor the run behind it.
Backups are portable: every table is written as JSON lines, so a SQLite backup restores
into PostgreSQL and back. The embedded MLflow store (a SQLite file plus an artifact folder)
is copied alongside; a remote tracking server is backed up on its own side (docs/operations.md).
Every backup file is private to its owner and, when a backup key is configured, encrypted
(``backup_files.py``). Backups older than ``backup_retention_days`` are deleted by
:func:`prune_backups`: erasure cannot reach into a backup, so this is when an erased person
leaves the last copy.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient
from sqlalchemy import Connection, Date, Table, delete, func, insert, select, text
from sqlalchemy.engine import make_url

from attrition import registry
from attrition.audit import AuditAction, record_event
from attrition.db.engine import get_engine, session_scope
from attrition.db.migrate import current_revision
from attrition.db.models import Base, PredictionLog, RefusedInput
from attrition.db.types import UTCDateTime, utcnow
from attrition.errors import AttritionError
from attrition.operations.backup_files import BackupFolder
from attrition.privacy.erasure import reapply_erasures, tombstones, truncate_wal
from attrition.privacy.files import private_dir, private_file
from attrition.settings import Settings

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class PruneResult:
    prediction_logs_deleted: int
    model_versions_deleted: list[str] = field(default_factory=list)
    runs_deleted: int = 0
    refused_inputs_deleted: int = 0


def prune(settings: Settings, now: datetime | None = None, actor: str = "cli") -> PruneResult:
    """Apply both retention settings and record what was removed as an audit event."""
    now = now or utcnow()
    log_cutoff = now - timedelta(days=settings.prediction_retention_days)
    logs = prune_prediction_logs(settings.database_url, log_cutoff)
    refused = prune_refused_inputs(settings.database_url, log_cutoff)
    client = registry.configure_tracking(settings)
    run_cutoff = now - timedelta(days=settings.mlflow_retention_days)
    versions, runs = prune_mlflow(client, settings, run_cutoff)
    result = PruneResult(logs, versions, runs, refused)
    _audit(settings.database_url, actor, AuditAction.MAINTENANCE_PRUNE, asdict(result))
    return result


def prune_prediction_logs(database_url: str, cutoff: datetime) -> int:
    """Delete prediction logs created before ``cutoff``; personal data is not kept forever."""
    with session_scope(database_url) as session:
        deleted = session.execute(delete(PredictionLog).where(PredictionLog.created_at < cutoff))
        return int(getattr(deleted, "rowcount", 0) or 0)


def prune_refused_inputs(database_url: str, cutoff: datetime) -> int:
    """Delete refused-input counts older than ``cutoff`` (the prediction-log retention)."""
    with session_scope(database_url) as session:
        deleted = session.execute(delete(RefusedInput).where(RefusedInput.created_at < cutoff))
        return int(getattr(deleted, "rowcount", 0) or 0)


def prune_mlflow(
    client: MlflowClient, settings: Settings, cutoff: datetime
) -> tuple[list[str], int]:
    """Delete unaliased model versions and runs older than ``cutoff``, then purge them."""
    cutoff_ms = int(cutoff.timestamp() * 1000)
    protected_runs, deleted_versions = _prune_versions(client, settings.model_name, cutoff_ms)
    deleted_runs = _prune_runs(client, protected_runs, cutoff_ms)
    if deleted_runs:
        _purge_deleted_runs(settings, deleted_runs)
    return deleted_versions, len(deleted_runs)


def _prune_versions(client: MlflowClient, name: str, cutoff_ms: int) -> tuple[set[str], list[str]]:
    protected: set[str] = set()
    deleted: list[str] = []
    versions = client.search_model_versions(f"name='{name}'")
    # search results do not carry aliases; the registered model does.
    aliases = client.get_registered_model(name).aliases if versions else {}
    aliased = {str(version) for version in aliases.values()}
    for version in versions:
        if str(version.version) in aliased or (version.creation_timestamp or 0) >= cutoff_ms:
            protected.add(version.run_id or "")
            continue
        client.delete_model_version(name, version.version)
        deleted.append(str(version.version))
    return protected, deleted


def _prune_runs(client: MlflowClient, protected: set[str], cutoff_ms: int) -> list[str]:
    """Old runs that are neither behind a kept version nor nested under one."""
    deleted: list[str] = []
    for experiment in client.search_experiments():
        runs = client.search_runs(
            [experiment.experiment_id], f"attributes.start_time < {cutoff_ms}"
        )
        for run in runs:
            parent = run.data.tags.get("mlflow.parentRunId")
            if run.info.run_id in protected or parent in protected:
                continue
            client.delete_run(run.info.run_id)
            deleted.append(run.info.run_id)
    return deleted


def _purge_deleted_runs(settings: Settings, run_ids: list[str]) -> None:
    """Remove deleted runs and their artifacts for good (``mlflow gc``)."""
    command = [sys.executable, "-m", "mlflow", "gc", "--run-ids", ",".join(run_ids)]
    if not settings.mlflow_tracking_uri.startswith("http"):
        command += ["--backend-store-uri", settings.mlflow_tracking_uri]
    env = {**os.environ, "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise AttritionError(f"mlflow gc failed: {done.stderr.strip().splitlines()[-1:]}")


def _audit(database_url: str, actor: str, action: AuditAction, details: dict[str, Any]) -> None:
    with session_scope(database_url) as session:
        record_event(session, actor=actor, action=action, details=details)


# --- backup and restore ------------------------------------------------------------


def backup(settings: Settings, out: Path) -> dict[str, Any]:
    """Write the database (portable JSON lines) and the embedded MLflow store to ``out``:
    every file private to its owner, and encrypted when a backup key is configured."""
    if out.exists() and any(out.iterdir()):
        raise AttritionError(f"backup folder {out} is not empty; choose a new folder")
    revision = current_revision(settings.database_url)
    if revision is None:
        raise AttritionError("the database has no schema; run `attrition db upgrade` first")
    folder = BackupFolder(private_dir(out), settings.backup_secret())
    with get_engine(settings.database_url).connect() as connection:
        counts = {t.name: _dump_table(connection, t, folder) for t in _tables()}
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": utcnow().isoformat(),
        "alembic_revision": revision,
        "tables": counts,
        "mlflow": _backup_mlflow(settings, folder),
        "encryption": folder.encryption(),
    }
    private_file(out / MANIFEST, json.dumps(manifest, indent=2).encode())
    return manifest


def prune_backups(root: Path, retention_days: int, now: datetime | None = None) -> list[str]:
    """Delete the backup folders directly under ``root`` written more than ``retention_days``
    ago (by their manifest's date); the names deleted. Other folders are left alone."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    deleted: list[str] = []
    for folder in sorted(p for p in root.iterdir() if (p / MANIFEST).is_file()):
        created = json.loads((folder / MANIFEST).read_text()).get("created_at", "")
        if created and datetime.fromisoformat(created) < cutoff:
            shutil.rmtree(folder)
            deleted.append(folder.name)
    return deleted


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _dump_table(connection: Connection, table: Table, folder: BackupFolder) -> int:
    rows = connection.execute(select(table).order_by(*table.primary_key.columns)).mappings()
    lines = [json.dumps(dict(row), default=_json_default) + "\n" for row in rows]
    folder.write(f"db/{table.name}.jsonl", "".join(lines).encode("utf-8"))
    return len(lines)


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _backup_mlflow(settings: Settings, folder: BackupFolder) -> dict[str, str]:
    """Copy the embedded store; a remote tracking server is backed up server-side."""
    database = _local_mlflow_db(settings.mlflow_tracking_uri)
    if database is None:
        return {"mode": "remote", "tracking_uri": settings.mlflow_tracking_uri}
    if database.exists():  # (connecting would create an empty store)
        with sqlite3.connect(database) as source, sqlite3.connect(":memory:") as image:
            source.backup(image)  # consistent copy even while the store is in use
            folder.write("mlflow/mlflow.db", image.serialize())
    artifacts = Path(settings.mlflow_artifact_root)
    for path in sorted(p for p in artifacts.rglob("*") if p.is_file()):
        folder.write(f"mlflow/mlartifacts/{path.relative_to(artifacts)}", path.read_bytes())
    return {"mode": "embedded", "artifact_root": str(artifacts)}


def _local_mlflow_db(tracking_uri: str) -> Path | None:
    if not tracking_uri.startswith("sqlite:///"):
        return None
    database = make_url(tracking_uri).database
    return Path(database) if database else None


def restore(settings: Settings, source: Path, *, force: bool = False) -> dict[str, int]:
    """Load a backup into the configured (migrated) database and embedded MLflow store.

    The erasures recorded in the database being replaced (``--force``) are applied again to
    the restored rows, and their tombstones kept."""
    manifest = _read_manifest(source)
    folder = BackupFolder(source, settings.backup_secret())
    folder.check(manifest.get("encryption"))
    revision = current_revision(settings.database_url)
    if revision != manifest["alembic_revision"]:
        raise AttritionError(
            f"backup is at schema revision {manifest['alembic_revision']} but the database is at "
            f"{revision}; run `attrition db upgrade` (or restore into a matching version)"
        )
    engine = get_engine(settings.database_url)
    with engine.begin() as connection:
        erased = tombstones(connection)  # erasures made since the backup stay made
        _ensure_empty(connection, force)
        counts = {t.name: _load_table(connection, t, folder) for t in _tables()}
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection)
        counts["erasures_reapplied"] = reapply_erasures(connection, erased)
    truncate_wal(settings.database_url)
    _restore_mlflow(settings, folder, manifest["mlflow"])
    return counts


def _read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.exists():
        raise AttritionError(f"{source} is not an attrition backup (no {MANIFEST})")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT_VERSION:
        raise AttritionError(f"unsupported backup format {manifest.get('format')!r}")
    return manifest


def _ensure_empty(connection: Connection, force: bool) -> None:
    filled = [t.name for t in _tables() if connection.scalar(select(func.count()).select_from(t))]
    if filled and not force:
        raise AttritionError(
            f"the database already holds data in {', '.join(filled)}; restore into an empty "
            "database or pass --force to replace it"
        )
    for table in reversed(_tables()):
        connection.execute(delete(table))


def _load_table(connection: Connection, table: Table, folder: BackupFolder) -> int:
    name = f"db/{table.name}.jsonl"
    lines = folder.read(name).decode("utf-8").splitlines() if folder.exists(name) else []
    rows = [_decode_row(table, json.loads(line)) for line in lines]
    for start in range(0, len(rows), 1000):
        connection.execute(insert(table), rows[start : start + 1000])
    return len(rows)


def _decode_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    for column in table.columns:
        value = row.get(column.name)
        if value is None:
            continue
        if isinstance(column.type, UTCDateTime):
            row[column.name] = datetime.fromisoformat(value).astimezone(UTC)
        elif isinstance(column.type, Date):
            row[column.name] = date.fromisoformat(value)
    return row


def _reset_sequences(connection: Connection) -> None:
    """Restored ids were explicit; move each serial sequence past them."""
    for table in _tables():
        statement = (
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
        )
        connection.execute(text(statement))


def _restore_mlflow(settings: Settings, folder: BackupFolder, info: dict[str, str]) -> None:
    if info.get("mode") != "embedded":
        return
    database = _local_mlflow_db(settings.mlflow_tracking_uri)
    if database is None:
        raise AttritionError(
            "the backup holds an embedded MLflow store but ATTRITION_MLFLOW_TRACKING_URI points "
            "to a server; restore the registry on the server side"
        )
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.exists("mlflow/mlflow.db"):
        with sqlite3.connect(":memory:") as image, sqlite3.connect(database) as target:
            image.deserialize(folder.read("mlflow/mlflow.db"))
            image.backup(target)
    artifacts = Path(settings.mlflow_artifact_root)
    for name in folder.files("mlflow/mlartifacts"):
        path = artifacts / Path(name).relative_to("mlflow/mlartifacts")
        private_dir(path.parent)
        private_file(path, folder.read(name))
