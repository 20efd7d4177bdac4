"""A real stack for dashboard tests: a trained champion in a temp MLflow store, API keys, and
the API under uvicorn on a free loopback port.

Imported by the dashboard integration and browser tests. Training and key creation run in a
child process (``python stack.py prepare``) so that MLflow and settings state never leak into
the test process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROLES = ("viewer", "predictor", "admin")
GATE_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "gate.yaml"


def free_port() -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stack_env(root: Path) -> dict[str, str]:
    """ATTRITION_* variables pointing every store at ``root``."""
    var = root / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")}
    env.update(
        {
            "ATTRITION_VAR_DIR": str(var),
            "ATTRITION_DATABASE_URL": f"sqlite:///{var / 'attrition.db'}",
            "ATTRITION_MLFLOW_TRACKING_URI": f"sqlite:///{var / 'mlflow.db'}",
            # The API's artifact download resolves models:/ URIs with MLflow's default
            # registry, so point MLflow's own variable at the same store.
            "MLFLOW_TRACKING_URI": f"sqlite:///{var / 'mlflow.db'}",
            "ATTRITION_MLFLOW_ARTIFACT_ROOT": str(var / "mlartifacts"),
            "ATTRITION_PSEUDONYM_KEY": "dashboard-test-pseudonym-key",
            "ATTRITION_MODEL_POLL_SECONDS": "0",
            "ATTRITION_RATE_LIMIT_PER_MINUTE": "100000",
            "ATTRITION_SHARED_DATA": os.environ.get("ATTRITION_SHARED_DATA", ""),
        }
    )
    if not env["ATTRITION_SHARED_DATA"]:
        del env["ATTRITION_SHARED_DATA"]
    return env


@dataclass(frozen=True)
class Stack:
    """A running API with a champion, and one key per role."""

    api_url: str
    keys: dict[str, str]
    env: dict[str, str]
    root: Path
    model_version: str


def _train_and_register(data: Path) -> str:
    """Train a champion on the real dev rows with the training library (child process only).

    A tiny search keeps it quick. If the quality gate refuses the version, it is promoted
    through the registry's own (audited) promotion so the API has a champion to serve.
    """
    import pandas as pd

    from attrition import registry
    from attrition.training.pipeline import TrainingOptions
    from attrition.training.train import train_model

    options = TrainingOptions.from_settings(
        n_trials=2,
        timeout_s=60.0,
        cv_folds=3,
        cv_repeats=1,
        bootstrap_resamples=50,
        seed=7,
        gate_config=GATE_CONFIG,
    )
    result = train_model(pd.read_csv(data), options)
    if not result.promoted:
        registry.promote(result.model_version, actor="dashboard-tests", reason="test fixture")
    return str(result.model_version)


def prepare(data: Path) -> dict[str, Any]:
    """Migrate the database, train a champion and create one key per role."""
    from attrition.db.migrate import upgrade
    from attrition.serving.auth import create_key
    from attrition.settings import get_settings

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    version = _train_and_register(data)
    keys = {
        role: create_key(
            f"dashboard-test-{role}",
            role,
            database_url=settings.database_url,
            server_secret=settings.pseudonym_secret(),
        ).secret
        for role in ROLES
    }
    return {"model_version": version, "keys": keys}


def wait_until_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"API exited early with code {process.returncode}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"API at {url} not ready after {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def running_stack(root: Path, data: Path) -> Iterator[Stack]:
    """Prepare the stores, start the API, yield, stop it."""
    env = stack_env(root)
    prepared = subprocess.run(
        [sys.executable, __file__, "prepare", str(data)],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if prepared.returncode != 0:
        raise RuntimeError(f"stack preparation failed:\n{prepared.stderr[-4000:]}")
    info = json.loads(prepared.stdout.strip().splitlines()[-1])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "api.log").open("wb")
    api = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "attrition.serving.app:serve_factory",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_ready(url, api)
        yield Stack(
            api_url=url, keys=info["keys"], env=env, root=root, model_version=info["model_version"]
        )
    finally:
        stop(api)
        log.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "prepare":
        sys.stdout.write(json.dumps(prepare(Path(sys.argv[2]))) + "\n")
    else:
        sys.exit("usage: stack.py prepare DATA_CSV")
