"""Fixtures for the scale-out tests: the helpers in support.py, a champion trained once per
session by the training library (in a child process), and real dev rows as request bodies."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from attrition_testkit import load_module

HERE = Path(__file__).resolve().parent


def _load(name: str) -> ModuleType:
    return load_module(f"attrition_scaleout_test_{name}", HERE / f"{name}.py")


@pytest.fixture(scope="session")
def support() -> ModuleType:
    """support.py: databases, keys, certificates, cluster environments."""
    return _load("support")


@pytest.fixture(scope="session")
def require_tool(support: ModuleType) -> Callable[[str], str]:
    """``require_tool(name)``: the tool's path, or a failure naming how to install it."""
    return support.require_tool  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def champion(tmp_path_factory: pytest.TempPathFactory, dev_csv: Path) -> dict[str, str]:
    """Registry settings of a store whose champion the training library trained."""
    root = tmp_path_factory.mktemp("scaleout-champion")
    done = subprocess.run(
        [sys.executable, str(HERE / "champion.py"), str(root), str(dev_csv)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["version"]
    env: dict[str, str] = _load("champion").store_env(root)
    return {k: env[k] for k in ("ATTRITION_MLFLOW_TRACKING_URI", "ATTRITION_MLFLOW_ARTIFACT_ROOT")}


@pytest.fixture(scope="session")
def employees(support: ModuleType, dev_csv: Path) -> object:
    """Request bodies for POST /v1/predictions from the real dev rows."""
    return support.employees_from(dev_csv)
