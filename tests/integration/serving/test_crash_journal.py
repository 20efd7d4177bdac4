"""A server killed with SIGKILL mid-load loses no answered prediction: each answered row is
in the local journal before its response is sent, and the restarted server replays it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import select

from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import PredictionLog
from attrition_testkit import load_with_a_kill

from .conftest import ATTRITION, _wait_ready, live_api, make_keys, support

pytestmark = pytest.mark.integration
CLIENTS = 4
PER_CLIENT = 60
KILL_AFTER = 120  # responses before the kill: the load is at full speed


def logged_request_ids(database_url: str) -> list[str]:
    with session_scope(database_url) as session:
        return list(session.scalars(select(PredictionLog.request_id)))


def load_and_kill(
    url: str, key: str, bodies: list[dict[str, Any]], kill: Any
) -> tuple[set[str], set[str]]:
    """Concurrent clients with their own request ids; ``kill`` after KILL_AFTER answers.
    Returns (answered with 200, sent but not answered)."""

    def send(http: httpx.Client, n: int, i: int) -> tuple[str, int]:
        rid = f"crash-{n}-{i}"
        headers = {"X-API-Key": key, "X-Request-ID": rid}
        try:
            return rid, http.post("/v1/predictions", json=bodies[i], headers=headers).status_code
        except httpx.HTTPError:
            return rid, 0

    answers = load_with_a_kill(
        url, clients=CLIENTS, per_client=PER_CLIENT, send=send, timeout=10, kill=kill,
        kill_when=lambda done: sum(status == 200 for _, status in done) >= KILL_AFTER,
    )  # fmt: skip
    answered = {rid for rid, status in answers if status == 200}
    return answered, {rid for rid, _ in answers} - answered


def test_sigkill_mid_load_loses_no_answered_prediction(
    registry: dict[str, str], dev_frame: pd.DataFrame, postgres_url: str, tmp_path: Path
) -> None:
    upgrade(postgres_url)
    keys = make_keys(postgres_url)
    env = {
        "ATTRITION_DATABASE_URL": postgres_url,
        "ATTRITION_MLFLOW_TRACKING_URI": registry["uri"],
        "ATTRITION_RATE_LIMIT_PER_MINUTE": "100000000",
        "ATTRITION_MODEL_POLL_SECONDS": "0",
        "ATTRITION_LOG_LEVEL": "WARNING",
    }
    bodies = [support.employee(row) for _, row in dev_frame.head(PER_CLIENT).iterrows()]
    port = support.free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [str(ATTRITION), "serve", "--port", str(port), "--workers", "1"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, server, 120, log_path)
        answered, unanswered = load_and_kill(
            url, keys["predictor"], bodies, lambda: os.killpg(server.pid, signal.SIGKILL)
        )
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
    before_restart = set(logged_request_ids(postgres_url))
    print(f"before restart: {len(answered - before_restart)} of {len(answered)} answered unlogged")

    with live_api(env, tmp_path / "restart.log"):  # start-up replays the killed journal
        deadline = time.monotonic() + 20
        logged = logged_request_ids(postgres_url)
        while not answered <= set(logged) and time.monotonic() < deadline:
            time.sleep(0.1)
            logged = logged_request_ids(postgres_url)
    assert len(answered) >= KILL_AFTER and unanswered
    assert len(logged) == len(set(logged)), "no row replayed twice"
    assert answered <= set(logged), "every answered prediction is logged"
    # a request can be journaled and killed before its response left: logged, not answered
    assert set(logged) - answered <= unanswered
