"""Fixtures shared by every test: isolated settings, database URLs, the development data.

The suite runs on data the project makes itself: ``dev_csv`` is a calibrated synthetic
workforce of the IBM HR schema. Checks that only mean something on real rows take the real
file from ``ATTRITION_REAL_DATA`` (fixture ``real_csv``); without it they are skipped and
the run ends with one line saying how many and how to enable them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from attrition.data.synthetic import generate_workforce, write_csv
from attrition.db.engine import _session_factory, get_engine
from attrition.settings import get_settings
from attrition_services import SessionServices, postgres_admin_url, start_test_services

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_ENV = "ATTRITION_REAL_DATA"
REAL_DATA_SKIP = f"real-data check: set {REAL_DATA_ENV} to the IBM HR attrition CSV to run it"
# The development workforce: as many rows and leavers as the real development sample.
DEV_ROWS = 1176
DEV_LEAVERS = 190
DEV_SEED = 20240630


_services = SessionServices()


def pytest_configure(config: pytest.Config) -> None:
    """Start the session's own PostgreSQL and Redis (see ``attrition_services``)."""
    global _services
    _services = start_test_services()


def pytest_unconfigure(config: pytest.Config) -> None:
    _services.stop()


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
    umask = os.umask(0o022)  # a command run in-process sets the private umask (cli.main)
    os.umask(umask)
    yield var
    os.umask(umask)
    _clear_caches()


@pytest.fixture(scope="session")
def dev_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The development workforce: 1,176 synthetic employees (190 leavers) of the IBM schema."""
    frame = generate_workforce(DEV_ROWS, DEV_SEED, attrition_rate=DEV_LEAVERS / DEV_ROWS)
    return write_csv(frame, tmp_path_factory.mktemp("dev-data") / "workforce_dev.csv")


@pytest.fixture(scope="session")
def real_csv() -> Path:
    """The real IBM HR attrition file named by ``ATTRITION_REAL_DATA``; skipped without it."""
    setting = os.environ.get(REAL_DATA_ENV, "").strip()
    if not setting:
        pytest.skip(REAL_DATA_SKIP)
    path = Path(setting).expanduser()
    if not path.is_file():
        pytest.fail(f"{REAL_DATA_ENV}={setting} is not a file")
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many real-data checks were skipped, and how to run them."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if REAL_DATA_ENV in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} real-data checks skipped: set {REAL_DATA_ENV}=/path/to/"
            "WA_Fn-UseC_-HR-Employee-Attrition.csv to run them (see README, Testing)",
            yellow=True,
            bold=True,
        )


@pytest.fixture
def sqlite_url(isolated_settings: Path) -> str:
    return f"sqlite:///{isolated_settings / 'attrition.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server, dropped afterwards."""
    name = f"attrition_test_{uuid.uuid4().hex[:12]}"
    admin_url = postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
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
