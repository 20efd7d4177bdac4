"""The MLflow model registry with aliases (never stages), and the audit trail of alias moves.

A new version gets the alias ``challenger``; ``champion`` moves only through
:func:`set_alias` (gate pass, ``attrition promote``, ``attrition rollback``), and every move
writes an ``audit_event`` (action ``model.alias.<alias>``). Rollback replays the champion
moves of the audit trail as a stack: a promotion pushes, a rollback pops.

Each version carries tags (threshold, features, schema version, data hash...) and its run
carries artifacts: ``reference/reference.parquet`` (drift reference: raw schema columns,
``attrition_probability``, ``Attrition`` = "Yes"/"No" and ``reference_split``: "train" rows
carry their calibrated out-of-fold probability, "holdout" rows the registered model's
probability) and ``metrics/holdout_metrics.json``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import pandas as pd
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from sqlalchemy import select

from attrition.audit import alias_action, record_event
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import AuditEvent
from attrition.errors import AttritionError
from attrition.settings import Settings, get_settings

logger = logging.getLogger(__name__)

CHAMPION: Final = "champion"
CHALLENGER: Final = "challenger"
REFERENCE_ARTIFACT: Final = "reference/reference.parquet"
METRICS_ARTIFACT: Final = "metrics/holdout_metrics.json"
MODEL_ARTIFACT: Final = "model"


@dataclass(frozen=True, slots=True)
class AliasMove:
    """One alias move: which alias, to which version, from which, why, by whom."""

    model_name: str
    alias: str
    version: str
    previous: str | None
    kind: str
    reason: str
    actor: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ChampionInfo:
    """What GET /v1/model shows about the champion."""

    name: str
    version: str
    run_id: str
    trained_at: datetime
    metrics: dict[str, float]
    threshold: float
    threshold_reason: str
    features: list[str]
    include_protected: bool
    schema_version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- MLflow connection ---------------------------------------------------------------
def _local_path(uri: str) -> Path | None:
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///"))
    return None


def configure_tracking(settings: Settings | None = None) -> MlflowClient:
    """Point MLflow (tracking and registry) at the configured store; return a client."""
    import mlflow

    settings = settings or get_settings()
    uri = settings.mlflow_tracking_uri
    database = _local_path(uri)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def ensure_experiment(
    client: MlflowClient, settings: Settings | None = None, name: str | None = None
) -> str:
    """An experiment's id (default: training's), created with the artifact root if new."""
    settings = settings or get_settings()
    name = name or settings.experiment_name
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    location: str | None = None
    if not settings.mlflow_tracking_uri.startswith(("http://", "https://")):
        root = Path(settings.mlflow_artifact_root).resolve()
        root.mkdir(parents=True, exist_ok=True)
        location = root.as_uri()
    try:
        return str(client.create_experiment(name, artifact_location=location))
    except MlflowException:  # created concurrently by another worker
        again = client.get_experiment_by_name(name)
        if again is None:
            raise
        return str(again.experiment_id)


@contextmanager
def allow_model_loading() -> Iterator[None]:
    """Let MLflow deserialize models from our own registry (a trusted source)."""
    key = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
    before = os.environ.get(key)
    os.environ[key] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


# --- audit trail ---------------------------------------------------------------------
@lru_cache(maxsize=8)
def _migrated(url: str) -> str:
    return upgrade(url)


def ensure_database(url: str | None = None) -> str:
    """Migrate the configured database (once per process) before writing audit events."""
    url = url or get_settings().database_url
    _migrated(url)
    return url


def record_move(move: AliasMove) -> None:
    """Write one alias move to the audit trail."""
    url = ensure_database()
    with session_scope(url) as session:
        record_event(
            session,
            actor=move.actor,
            action=alias_action(move.alias),
            target=f"{move.model_name}/{move.version}",
            details=move.to_dict(),
        )


def alias_history(alias: str = CHAMPION, model_name: str | None = None) -> list[AliasMove]:
    """The moves of ``alias`` for the model, oldest first, from the audit trail."""
    name = model_name or get_settings().model_name
    url = ensure_database()
    with session_scope(url) as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == alias_action(alias).value)
            .order_by(AuditEvent.id)
        ).all()
        details = [dict(row.details) for row in rows]
    return [AliasMove(**d) for d in details if d.get("model_name") == name]


def champion_stack(moves: list[AliasMove]) -> list[str]:
    """Replay champion moves: promotions push a version, rollbacks pop (pure)."""
    stack: list[str] = []
    for move in moves:
        if move.kind == "rollback":
            while stack and stack[-1] != move.version:
                stack.pop()
            if not stack:
                stack.append(move.version)
        elif not stack or stack[-1] != move.version:
            stack.append(move.version)
    return stack


# --- aliases -------------------------------------------------------------------------
def version_by_alias(alias: str, client: MlflowClient | None = None) -> ModelVersion | None:
    """The version holding ``alias``, or None when the alias (or the model) does not exist."""
    client = client or configure_tracking()
    try:
        return client.get_model_version_by_alias(get_settings().model_name, alias)
    except MlflowException:
        return None


def _existing_version(client: MlflowClient, version: str) -> ModelVersion:
    name = get_settings().model_name
    try:
        return client.get_model_version(name, str(version))
    except MlflowException as error:
        raise AttritionError(
            f"model version {version!r} of {name!r} does not exist; "
            f"registered versions: {', '.join(list_versions(client)) or 'none'}"
        ) from error


def list_versions(client: MlflowClient | None = None) -> list[str]:
    """Registered version numbers of the model, ascending."""
    client = client or configure_tracking()
    name = get_settings().model_name
    try:
        found = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        return []
    return sorted((str(v.version) for v in found), key=int)


def set_alias(
    alias: str,
    version: str,
    *,
    actor: str,
    kind: str,
    reason: str,
    client: MlflowClient | None = None,
) -> AliasMove:
    """Move ``alias`` to ``version`` in the registry and audit the move."""
    client = client or configure_tracking()
    name = get_settings().model_name
    target = _existing_version(client, version)
    current = version_by_alias(alias, client)
    client.set_registered_model_alias(name, alias, str(target.version))
    move = AliasMove(
        model_name=name,
        alias=alias,
        version=str(target.version),
        previous=str(current.version) if current else None,
        kind=kind,
        reason=reason,
        actor=actor,
    )
    record_move(move)
    logger.info("alias %s of %s moved to v%s (%s)", alias, name, move.version, kind)
    return move


def promote(version: str, *, actor: str, reason: str = "manual promotion") -> AliasMove:
    """Make ``version`` the champion (audited)."""
    return set_alias(CHAMPION, version, actor=actor, kind="promote", reason=reason)


def rollback(*, actor: str, reason: str = "manual rollback") -> AliasMove:
    """Move the champion back to the previous champion in the audit trail."""
    client = configure_tracking()
    current = version_by_alias(CHAMPION, client)
    if current is None:
        raise AttritionError("rollback: there is no champion to roll back from")
    stack = champion_stack(alias_history(CHAMPION))
    while stack and stack[-1] == str(current.version):
        stack.pop()
    if not stack:
        raise AttritionError(
            f"rollback: champion v{current.version} has no previous champion in the audit trail"
        )
    return set_alias(
        CHAMPION, stack[-1], actor=actor, kind="rollback", reason=reason, client=client
    )


# --- loading -------------------------------------------------------------------------
def model_uri(version_or_alias: str) -> str:
    """``models:/<name>/<version>`` or ``models:/<name>@<alias>``."""
    name = get_settings().model_name
    ref = str(version_or_alias)
    return f"models:/{name}/{ref}" if ref.isdigit() else f"models:/{name}@{ref}"


def load_model(version_or_alias: str = CHAMPION) -> Any:
    """The registered ``AttritionModel`` of a version number or alias."""
    import mlflow.sklearn

    configure_tracking()
    try:
        with allow_model_loading():
            return mlflow.sklearn.load_model(model_uri(version_or_alias))
    except MlflowException as error:
        raise AttritionError(
            f"model {version_or_alias!r} of {get_settings().model_name!r} cannot be loaded: "
            f"{error.message}"
        ) from error


def _run_id(version_or_alias: str, client: MlflowClient) -> str:
    ref = str(version_or_alias)
    if ref.isdigit():
        return str(_existing_version(client, ref).run_id)
    found = version_by_alias(ref, client)
    if found is None:
        raise AttritionError(f"no model version holds the alias {ref!r}")
    return str(found.run_id)


def _download(version_or_alias: str, artifact: str) -> Path:
    import mlflow.artifacts

    client = configure_tracking()
    run_id = _run_id(version_or_alias, client)
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact))


def load_reference(version: str = CHAMPION) -> pd.DataFrame:
    """The drift reference sample saved with a version (number or alias)."""
    return pd.read_parquet(_download(version, REFERENCE_ARTIFACT))


def load_metrics(version: str = CHAMPION) -> dict[str, Any]:
    """The holdout metrics (json) saved with a version (number or alias)."""
    data: dict[str, Any] = json.loads(_download(version, METRICS_ARTIFACT).read_text())
    return data


def champion_info() -> ChampionInfo | None:
    """Name, version, run, training time, holdout metrics, threshold and features."""
    client = configure_tracking()
    version = version_by_alias(CHAMPION, client)
    if version is None:
        return None
    tags = dict(version.tags or {})
    run = client.get_run(str(version.run_id))
    metrics = {
        key.removeprefix("holdout_"): float(value)
        for key, value in run.data.metrics.items()
        if key.startswith("holdout_")
    }
    return ChampionInfo(
        name=str(version.name),
        version=str(version.version),
        run_id=str(version.run_id),
        trained_at=datetime.fromtimestamp(run.info.start_time / 1000, tz=UTC),
        metrics=metrics,
        threshold=float(tags["threshold"]),
        threshold_reason=tags.get("threshold_reason", ""),
        features=json.loads(tags.get("features", "[]")),
        include_protected=tags.get("include_protected") == "true",
        schema_version=tags.get("schema_version", ""),
    )
