"""Helpers for the monitoring tests: a trained model store, prediction-log rows,
`attrition serve` in a subprocess (the webhook receiver is ``attrition_testkit.receiving``).

Loaded by path (tests are not a package) from the monitoring conftest and the e2e tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from attrition_testkit import store_env

ATTRITION = Path(sys.executable).parent / "attrition"
CHAMPION_SCRIPT = Path(__file__).with_name("champion.py")
MODEL_NAME = "attrition-classifier"


# --------------------------------------------------------------------------- model store


def train_store(root: Path, seed: int, rows: int) -> dict[str, Any]:
    """Train a champion on a synthetic workforce in a child process (MLflow's global
    state stays out of the test process); returns its version and threshold."""
    env = {**os.environ, **store_env(root)}
    done = subprocess.run(
        [sys.executable, str(CHAMPION_SCRIPT), str(root), str(seed), str(rows)],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"training the test champion failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def copy_store(source: Path, target: Path) -> str:
    """A private copy of a store's MLflow database (artifacts stay shared, read-only)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "var" / "mlflow.db", target / "mlflow.db")
    return f"sqlite:///{target / 'mlflow.db'}"


# --------------------------------------------------------------------------- rows


def api_rows(frame: pd.DataFrame, id_offset: int = 0) -> list[dict[str, Any]]:
    """Request bodies for the API: identifier plus every feature, plain Python values."""
    from attrition.schema import FEATURE_NAMES, IDENTIFIER

    rows = []
    for record in frame.loc[:, [IDENTIFIER, *FEATURE_NAMES]].to_dict("records"):
        row = {str(k): v.item() if isinstance(v, np.generic) else v for k, v in record.items()}
        row[IDENTIFIER] += id_offset
        rows.append(row)
    return rows


def log_predictions(
    database_url: str,
    frame: pd.DataFrame,
    *,
    probabilities: np.ndarray,
    version: str,
    at: datetime,
    key: bytes,
    threshold: float = 0.3,
) -> list[int]:
    """Insert prediction-log rows as the API writes them; their ids."""
    from attrition.db.engine import session_scope
    from attrition.db.models import PredictionLog
    from attrition.privacy import pseudonymise

    rows = []
    for record, p in zip(api_rows(frame), probabilities.tolist(), strict=True):
        number = record.pop("EmployeeNumber")
        rows.append(
            PredictionLog(
                prediction_id=str(uuid.uuid4()),
                request_id="test",
                employee_key=pseudonymise(number, key),
                model_name=MODEL_NAME,
                model_version=version,
                probability=p,
                at_risk=p >= threshold,
                threshold=threshold,
                features=record,
                source="api",
                created_at=at,
            )
        )
    with session_scope(database_url) as session:
        session.add_all(rows)
        session.flush()
        return [int(r.id) for r in rows]


def record_outcomes(
    database_url: str, frame: pd.DataFrame, *, key: bytes, on: Any, id_offset: int = 0
) -> int:
    """One outcome per row from its ``Attrition`` label."""
    from attrition.db.engine import session_scope
    from attrition.db.models import Outcome
    from attrition.privacy import pseudonymise

    with session_scope(database_url) as session:
        for number, label in zip(frame["EmployeeNumber"], frame["Attrition"], strict=True):
            key_of = pseudonymise(int(number) + id_offset, key)
            session.add(Outcome(employee_key=key_of, left=label == "Yes", outcome_date=on))
    return len(frame)


def store_snapshot(
    database_url: str, frame: pd.DataFrame, *, day: Any, key: bytes, unlabelled_every: int = 0
) -> None:
    """Store a frame as a snapshot, as ingest does; every n-th row without a label."""
    from attrition.db.engine import session_scope
    from attrition.db.models import EmployeeSnapshot
    from attrition.privacy import pseudonymise

    labels = frame["Attrition"].tolist()
    with session_scope(database_url) as session:
        for i, record in enumerate(api_rows(frame)):
            number = record.pop("EmployeeNumber")
            unlabelled = unlabelled_every and i % unlabelled_every == 0
            session.add(
                EmployeeSnapshot(
                    snapshot_date=day,
                    employee_key=pseudonymise(number, key),
                    attrition=None if unlabelled else labels[i] == "Yes",
                    features=record,
                )
            )


# --------------------------------------------------------------------------- API process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_api(env: dict[str, str], log_path: Path, ready_timeout: float = 120.0) -> Iterator[str]:
    """`attrition serve` in its own process group; yields the base URL once ready."""
    port = free_port()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(ATTRITION), "serve", "--port", str(port), "--workers", "1"],
            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(url, process, log_path), ready_timeout, f"API ready at {url}")
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def _ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"server exited early:\n{log_path.read_text()[-3000:]}")
    try:
        return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(condition: Any, timeout: float, what: str, interval: float = 0.25) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
