"""Whole flow: train a champion with the training library, create a key with the CLI, start
`attrition serve --workers 2`, score over HTTP and offline; every number matches the
registered model, and /metrics sums both workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from attrition.cli import app
from attrition.db.migrate import upgrade
from attrition.schema import FEATURE_NAMES, IDENTIFIER
from attrition.settings import get_settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _train(frame: pd.DataFrame) -> str:
    from attrition import registry
    from attrition.training.pipeline import TrainingOptions
    from attrition.training.train import train_model

    settings = get_settings()
    options = TrainingOptions.from_settings(
        settings,
        n_trials=2,
        timeout_s=120,
        cv_folds=3,
        cv_repeats=1,
        bootstrap_resamples=50,
        gate_config=REPO / "configs" / "gate.yaml",
    )
    result = train_model(frame, options)
    if not result.promoted:
        registry.promote(
            result.model_version,
            actor="e2e",
            reason="serving flow test",
            config=registry.RegistryConfig.from_settings(settings),
        )
    return str(result.model_version)


def test_train_serve_score(dev_csv: Path, tmp_path: Path) -> None:
    from attrition import registry

    frame = pd.read_csv(dev_csv)
    upgrade(get_settings().database_url)
    version = _train(frame)
    runner = CliRunner()
    created = runner.invoke(
        app, ["keys", "create", "--name", "e2e", "--role", "predictor", "--json"]
    )
    assert created.exit_code == 0, created.output
    key = json.loads(created.output.strip().splitlines()[-1])["key"]

    port = _free_port()
    log = (tmp_path / "api.log").open("wb")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "attrition"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, (tmp_path / "api.log").read_text()[-3000:]
            time.sleep(0.3)
        sample = frame.head(40)
        employees = [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in sample[[IDENTIFIER, *FEATURE_NAMES]].to_dict("records")
        ]
        headers = {"Authorization": f"Bearer {key}"}
        batch = httpx.post(
            f"{base}/v1/predictions/batch",
            json={"employees": employees},
            headers=headers,
            timeout=30,
        ).json()
        singles = [
            httpx.post(f"{base}/v1/predictions", json=e, headers=headers, timeout=30).json()[
                "attrition_probability"
            ]
            for e in employees[:10]
        ]
        metrics = "\n".join(httpx.get(f"{base}/metrics").text for _ in range(4))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        log.close()

    model = registry.load_model(
        registry.CHAMPION, registry.RegistryConfig.from_settings(get_settings())
    )
    expected = model.predict_proba(sample)[:, 1]
    got = [p["attrition_probability"] for p in batch["predictions"]]
    assert batch["model_version"] == version
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) <= 1e-6
    assert max(abs(a - b) for a, b in zip(singles, expected[:10], strict=True)) <= 1e-6
    assert all(len(p["top_factors"]) == 5 for p in batch["predictions"])
    assert "attrition_predictions_total{decision=" in metrics  # summed over both workers

    out = tmp_path / "scores.csv"
    scored = runner.invoke(app, ["predict", str(dev_csv), "--out", str(out), "--json"])
    assert scored.exit_code == 0, scored.output
    offline = pd.read_csv(out).merge(frame, on=IDENTIFIER)
    reference = model.predict_proba(offline)[:, 1]
    assert (offline["attrition_probability"] - reference).abs().max() <= 1e-6
