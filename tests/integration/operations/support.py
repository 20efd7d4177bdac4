"""Helpers for the scale-out tests (loaded by path: see conftest.py): fresh PostgreSQL
databases, Redis, API keys, self-signed certificates and the environment of a cluster.

Every cluster's processes get an explicit environment (``cluster_env``), so clusters that
outlive one test never depend on the per-test settings of the ``isolated_settings`` fixture.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from attrition.db.migrate import upgrade
from attrition.schema import FEATURE_NAMES, IDENTIFIER
from attrition.serving.platform.api_keys import create_key
from attrition.settings import Settings
from attrition_services import postgres_admin_url, redis_test_url
from attrition_testkit import require_tool

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
# A Redis database of its own: rate-limit keys carry random key ids, so runs never collide.
REDIS_DATABASE = 11


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, migrated PostgreSQL database (as the ``postgres_url`` fixture makes them), for
    clusters shared by a module; dropped afterwards."""
    name = f"attrition_scaleout_{uuid.uuid4().hex[:12]}"
    admin_url = postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        from attrition.db.engine import get_engine

        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def cluster_env(
    root: Path, database_url: str, champion: dict[str, str], **settings: str
) -> dict[str, str]:
    """A whole environment for cluster processes: no inherited ATTRITION_* or MLFLOW_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATTRITION_", "MLFLOW_"))}
    env.update(champion)
    env.update(
        {
            "ATTRITION_VAR_DIR": str(root / "var"),
            "ATTRITION_DATABASE_URL": database_url,
            "ATTRITION_REDIS_URL": redis_test_url(REDIS_DATABASE),
            "ATTRITION_PSEUDONYM_KEY": "scaleout-test-pseudonym-key",
            "ATTRITION_MODEL_POLL_SECONDS": "0",
            "ATTRITION_LOG_LEVEL": "WARNING",
        }
    )
    env.update({f"ATTRITION_{name.upper()}": value for name, value in settings.items()})
    return env


def settings_from(env: dict[str, str]) -> Settings:
    """The settings a process started with ``env`` reads."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("ATTRITION_")]:
            patch.delenv(name)
        for name, value in env.items():
            if name.startswith("ATTRITION_"):
                patch.setenv(name, value)
        return Settings(_env_file=None)  # type: ignore[call-arg]


def new_key(env: dict[str, str], role: str = "predictor") -> str:
    """A fresh API key in the cluster's database."""
    return create_key(
        f"scaleout-{uuid.uuid4().hex[:8]}",
        role,
        database_url=env["ATTRITION_DATABASE_URL"],
        server_secret=env["ATTRITION_PSEUDONYM_KEY"].encode(),
    ).secret


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, made with openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(
        [require_tool("openssl"), "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    return cert, key


@dataclass(frozen=True)
class Employees:
    """Request bodies for POST /v1/predictions: real dev rows."""

    rows: list[dict[str, Any]]

    def body(self, i: int) -> dict[str, Any]:
        return self.rows[i % len(self.rows)]


def employees_from(dev_csv: Path, n: int = 300) -> Employees:
    import pandas as pd

    frame = pd.read_csv(dev_csv)[[IDENTIFIER, *FEATURE_NAMES]].head(n)
    records = frame.to_dict("records")
    plain = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in records]
    return Employees(plain)


def wait_for_logged(database_url: str, wanted: set[str], timeout: float = 15.0) -> list[str]:
    """prediction_log's request ids once they include ``wanted`` (replicas flush their
    writers every 50 ms), or as they are at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        logged = prediction_log_request_ids(database_url)
        if wanted <= set(logged) or time.monotonic() > deadline:
            return logged
        time.sleep(0.1)


def prediction_log_request_ids(database_url: str) -> list[str]:
    """Every request id in prediction_log (one per logged prediction)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT request_id FROM prediction_log"))
            return [str(row[0]) for row in rows]
    finally:
        engine.dispose()
