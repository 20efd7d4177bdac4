"""RegistryConfig: built once from an entry point's settings, frozen, hashable."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest

from attrition import registry
from attrition.registry import RegistryConfig
from attrition.settings import Settings, get_settings


def test_from_settings_takes_every_field_from_the_settings() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        var_dir=Path("/srv/state"),
        database_url="postgresql://db/attrition",
        mlflow_tracking_uri="http://mlflow:5000",
        mlflow_artifact_root="/srv/artifacts",
        model_name="attrition-x",
        experiment_name="training-x",
    )
    config = RegistryConfig.from_settings(settings)
    assert config == RegistryConfig(
        tracking_uri="http://mlflow:5000",
        model_name="attrition-x",
        experiment_name="training-x",
        artifact_root="/srv/artifacts",
        database_url="postgresql://db/attrition",
    )
    assert config.is_remote


def test_a_local_store_is_not_remote_and_the_config_is_a_frozen_key() -> None:
    config = RegistryConfig.from_settings(get_settings())
    assert config.tracking_uri.startswith("sqlite:///") and not config.is_remote
    assert {config: 1}[RegistryConfig.from_settings(get_settings())] == 1  # a cache key
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.model_name = "other"  # type: ignore[misc]


def test_every_registry_function_is_given_its_config() -> None:
    """No function falls back to the process's settings: a config is always passed."""
    optional = []
    for name in registry.__all__:
        member = getattr(registry, name)
        if not inspect.isfunction(member):
            continue
        parameter = inspect.signature(member).parameters.get("config")
        if parameter is not None and parameter.default is not inspect.Parameter.empty:
            optional.append(name)
    assert not optional, f"config has a default in: {optional}"
