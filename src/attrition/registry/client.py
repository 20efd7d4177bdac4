"""The MLflow connection: a client for a :class:`RegistryConfig`, experiments, loading rights."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from attrition.registry.config import RegistryConfig

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from attrition.settings import Settings


def _local_path(uri: str) -> Path | None:
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///"))
    return None


def connect(config: RegistryConfig) -> MlflowClient:
    """Point MLflow (tracking and registry) at the configured store; return a client.

    The process-wide URIs are set too: ``mlflow.start_run`` and ``models:/`` URIs resolve
    through them whatever client is passed around.
    """
    import mlflow
    from mlflow import MlflowClient

    uri = config.tracking_uri
    database = _local_path(uri)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def configure_tracking(settings: Settings) -> MlflowClient:
    """:func:`connect` for the registry of ``settings`` (for callers holding settings)."""
    return connect(RegistryConfig.from_settings(settings))


def ensure_experiment(client: MlflowClient, config: RegistryConfig, name: str | None = None) -> str:
    """An experiment's id (default: training's), created with the artifact root if new."""
    from mlflow.exceptions import MlflowException

    name = name or config.experiment_name
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    location: str | None = None
    if not config.is_remote:
        root = Path(config.artifact_root).resolve()
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
