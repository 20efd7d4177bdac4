"""The MLflow connection: local store folders, experiments, the right to unpickle."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from attrition.registry import RegistryConfig, allow_model_loading, connect, ensure_experiment


def test_connect_creates_the_folder_of_a_local_store(
    tmp_path: Path, config: RegistryConfig
) -> None:
    folder = tmp_path / "new" / "store"
    elsewhere = dataclasses.replace(config, tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    connect(elsewhere)
    assert folder.is_dir()
    connect(config)  # the process-wide URIs back on the session's store


def test_an_experiment_is_created_once_with_the_artifact_root(config: RegistryConfig) -> None:
    client = connect(config)
    first = ensure_experiment(client, config)
    assert ensure_experiment(client, config) == first
    experiment = client.get_experiment(first)
    assert experiment.name == config.experiment_name
    assert experiment.artifact_location == Path(config.artifact_root).resolve().as_uri()
    other = ensure_experiment(client, config, "attrition-monitoring-test")
    assert other != first


def test_model_loading_is_allowed_only_inside_the_block(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
    monkeypatch.delenv(key, raising=False)
    with allow_model_loading():
        assert os.environ[key] == "true"
    assert key not in os.environ
    monkeypatch.setenv(key, "false")
    with allow_model_loading():
        assert os.environ[key] == "true"
    assert os.environ[key] == "false"
