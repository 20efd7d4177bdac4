"""Fixtures shared by every test: isolated settings, database URLs, the real dev data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from attrition.db.engine import _session_factory, get_engine
from attrition.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ATTRITION_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
DEV_CSV = SHARED_DATA / "ibm_hr_attrition_dev.csv"
POSTGRES_ADMIN_URL = os.environ.get(
    "ATTRITION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _clear_caches() -> None:
    get_settings.cache_clear()
    get_engine.cache_clear()
    _session_factory.cache_clear()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own var/ folder, SQLite database and MLflow store."""
    var = tmp_path / "var"
    monkeypatch.setenv("ATTRITION_VAR_DIR", str(var))
    monkeypatch.setenv("ATTRITION_DATABASE_URL", f"sqlite:///{var / 'attrition.db'}")
    monkeypatch.setenv("ATTRITION_MLFLOW_TRACKING_URI", f"sqlite:///{var / 'mlflow.db'}")
    monkeypatch.setenv("ATTRITION_MLFLOW_ARTIFACT_ROOT", str(var / "mlartifacts"))
    monkeypatch.setenv("ATTRITION_PSEUDONYM_KEY", "test-pseudonym-key")
    monkeypatch.chdir(tmp_path)
    _clear_caches()
    yield var
    _clear_caches()


@pytest.fixture(scope="session")
def dev_csv() -> Path:
    """The 1,176 real rows of the IBM schema in ../shared/data."""
    if not DEV_CSV.exists():
        pytest.fail(f"real dev data missing at {DEV_CSV} (set ATTRITION_SHARED_DATA)")
    return DEV_CSV


@pytest.fixture
def sqlite_url(isolated_settings: Path) -> str:
    return f"sqlite:///{isolated_settings / 'attrition.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server, dropped afterwards."""
    name = f"attrition_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    get_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, isolated_settings: Path
) -> str:
    """Runs a test once on SQLite and once on PostgreSQL, as the configured database."""
    if request.param == "sqlite":
        url = f"sqlite:///{isolated_settings / 'attrition.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("ATTRITION_DATABASE_URL", url)
    _clear_caches()
    return url
