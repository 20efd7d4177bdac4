"""One local MLflow store per session (creating one takes seconds); each test gets its own
model name in it, its own experiment name and its own migrated audit database."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from attrition.db.migrate import upgrade
from attrition.registry import RegistryConfig, connect


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('registry-store') / 'mlflow.db'}"


@pytest.fixture
def config(mlflow_store: str, sqlite_url: str, tmp_path: Path) -> RegistryConfig:
    upgrade(sqlite_url)
    suffix = uuid.uuid4().hex[:8]
    return RegistryConfig(
        tracking_uri=mlflow_store,
        model_name=f"model-{suffix}",
        experiment_name=f"experiment-{suffix}",
        artifact_root=str(tmp_path / "artifacts"),
        database_url=sqlite_url,
    )


Register = Callable[..., list[str]]


@pytest.fixture
def register(config: RegistryConfig) -> Register:
    """``register(count, tags=None)``: that many versions of the test's model (no run, no
    files behind them), their numbers."""

    def versions(count: int, tags: dict[str, str] | None = None) -> list[str]:
        client = connect(config)
        if not client.search_registered_models(f"name = '{config.model_name}'"):
            client.create_registered_model(config.model_name)
        return [
            str(
                client.create_model_version(config.model_name, "file:///nowhere", tags=tags).version
            )
            for _ in range(count)
        ]

    return versions
