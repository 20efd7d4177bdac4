"""Live-server fixtures: a registered champion, a migrated database, keys, and
`attrition serve` started as a real process on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from attrition_services import PostgresServer, new_folder
from attrition_testkit import TESTS, load_module

REPO = Path(__file__).resolve().parents[3]
ATTRITION = Path(sys.executable).parent / "attrition"


support = load_module("attrition_serving_test_support", TESTS / "unit" / "serving" / "support.py")


@pytest.fixture(scope="session")
def dev_frame(dev_csv: Path) -> pd.DataFrame:
    return support.dev_frame(dev_csv)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, dev_frame: pd.DataFrame) -> dict[str, str]:
    """A local MLflow store whose champion is a real fitted AttritionModel."""
    root = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    model = support.fit_model(dev_frame)
    version = support.register_model(model, uri, root / "artifacts", reference=dev_frame)
    return {"uri": uri, "version": version}


def make_keys(database_url: str) -> dict[str, str]:
    from attrition.serving.platform.api_keys import create_key
    from attrition.settings import get_settings

    secret = get_settings().pseudonym_secret()
    return {
        role: create_key(f"it-{role}", role, database_url=database_url, server_secret=secret).secret
        for role in ("viewer", "predictor", "admin")
    }


@contextmanager
def live_api(
    env: dict[str, str], log_path: Path, *, workers: int = 1, ready_timeout: float = 120.0
) -> Iterator[str]:
    """`attrition serve` in its own process group; yields the base URL once it is ready."""
    port = support.free_port()
    full_env = {**os.environ, **env}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(ATTRITION), "serve", "--port", str(port), "--workers", str(workers)],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, ready_timeout, log_path)
        yield url
    finally:
        stop(process)


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server not ready in {timeout}s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM (graceful: queued prediction-log rows are flushed), then SIGKILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def run_load(
    url: str, key: str, rows: list[dict[str, Any]], *, seconds: float, connections: int, out: Path
) -> dict[str, Any]:
    """Drive the API from a separate process (benchmarks/serving.py loadgen)."""
    import json

    bodies = out.with_suffix(".bodies.json")
    bodies.write_text(json.dumps(rows))
    subprocess.run(
        _loadgen_command(url, key, bodies, seconds, connections, out),
        check=True,
        timeout=seconds + 120,
    )
    result: dict[str, Any] = json.loads(out.read_text())
    return result


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster of the test's own, which it may stop and start at will."""
    instance = PostgresServer(new_folder("pg-own"), database="attrition").init()
    try:
        yield instance
    finally:
        from attrition.db.engine import get_engine

        get_engine(instance.url()).dispose()
        instance.remove()


def start_load(
    url: str, key: str, rows: list[dict[str, Any]], *, seconds: float, connections: int, out: Path
) -> subprocess.Popen[bytes]:
    """The load generator as a background process (see ``run_load``)."""
    import json

    bodies = out.with_suffix(".bodies.json")
    bodies.write_text(json.dumps(rows))
    return subprocess.Popen(
        _loadgen_command(url, key, bodies, seconds, connections, out),
        stdout=subprocess.DEVNULL,
    )


def _loadgen_command(
    url: str, key: str, bodies: Path, seconds: float, connections: int, out: Path
) -> list[str]:
    """`benchmarks/serving.py loadgen` against the single-prediction route."""
    return [
        sys.executable, str(REPO / "benchmarks" / "serving.py"), "loadgen",
        "--url", f"{url}/v1/predictions", "--key", key, "--bodies", str(bodies),
        "--seconds", str(seconds), "--connections", str(connections), "--out", str(out),
    ]  # fmt: skip
