"""Fixtures for the serving unit tests: a real fitted model registered in a local MLflow
store (once per session), a migrated SQLite database and an in-process app per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from attrition.db.migrate import upgrade
from attrition.settings import get_settings
from attrition_testkit import load_module

support = load_module("attrition_serving_test_support", Path(__file__).with_name("support.py"))


@pytest.fixture(scope="session")
def dev_frame(dev_csv: Path) -> pd.DataFrame:
    return support.dev_frame(dev_csv)


@pytest.fixture(scope="session")
def logistic_model(dev_frame: pd.DataFrame) -> Any:
    return support.fit_model(dev_frame, "logistic")


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, logistic_model: Any) -> dict[str, str]:
    """A local MLflow store whose champion (v1) is the fitted logistic model."""
    root = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    version = support.register_model(logistic_model, uri, root / "artifacts")
    return {"uri": uri, "version": version, "root": str(root)}


@pytest.fixture
def serving_env(registry: dict[str, str], sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Settings pointing at the shared registry and a migrated per-test database."""
    monkeypatch.setenv("ATTRITION_MLFLOW_TRACKING_URI", registry["uri"])
    monkeypatch.setenv("ATTRITION_MODEL_POLL_SECONDS", "0")
    get_settings.cache_clear()
    upgrade(sqlite_url)
    return sqlite_url


@pytest.fixture
def keys(serving_env: str) -> dict[str, str]:
    from attrition.serving.platform.api_keys import create_key

    secret = get_settings().pseudonym_secret()
    return {
        role: create_key(
            f"test-{role}", role, database_url=serving_env, server_secret=secret
        ).secret
        for role in ("viewer", "predictor", "admin")
    }


@pytest.fixture
def client(serving_env: str, keys: dict[str, str]) -> Iterator[TestClient]:
    from attrition.serving.app import create_app

    with TestClient(create_app(get_settings())) as test_client:
        yield test_client
