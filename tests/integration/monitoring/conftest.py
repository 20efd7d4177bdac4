"""Monitoring fixtures: a champion trained once per session, copied into every test's store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from attrition.db.engine import _session_factory, get_engine
from attrition.settings import get_settings
from attrition_testkit import REPO, load_module

support = load_module("attrition_monitoring_test_support", Path(__file__).with_name("support.py"))
TRAINING_SEED = 1
TRAINING_ROWS = 1470


def clear_caches() -> None:
    get_settings.cache_clear()
    get_engine.cache_clear()
    _session_factory.cache_clear()


@pytest.fixture(autouse=True)
def monitoring_settings(isolated_settings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped monitoring config (tests run in a temp folder) and quiet MLflow."""
    monkeypatch.setenv("ATTRITION_MONITORING_CONFIG", str(REPO / "configs" / "monitoring.yaml"))
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    clear_caches()


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A model store whose champion was trained on a synthetic workforce (seed 1)."""
    root = tmp_path_factory.mktemp("monitoring-store")
    info = support.train_store(root, TRAINING_SEED, TRAINING_ROWS)
    return {"root": root, **info}


@pytest.fixture
def champion(
    trained_store: dict[str, Any], isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """This test's MLflow store: a private copy of the trained one."""
    uri = support.copy_store(trained_store["root"], isolated_settings / "mlflow")
    monkeypatch.setenv("ATTRITION_MLFLOW_TRACKING_URI", uri)
    clear_caches()
    return {**trained_store, "uri": uri}
