"""Real stacks for the dashboard tests, each an API under uvicorn on a free loopback port.

* ``full``: a champion trained with the training library on the real dev rows, one key per
  role, two drift reports computed by the monitoring engine (dev rows vs dev rows, and dev
  rows vs the synthetic ``overtime_surge`` scenario, scored by the champion, with realised
  performance against the synthetic outcomes) stored the way the monitor stores them. The
  API's batch limit is small (50) so that the dashboard's chunking meets a real 413.
* ``empty``: a migrated database with keys, no model (the registry is unreachable), no
  predictions and no reports: the dashboard's empty states.

Preparation runs in a child process (``python stack.py prepare|prepare-empty DIR DATA``) so
MLflow and settings state never leak into the test process. Loaded by path from the
integration conftest and the browser test; :func:`shared` starts each stack once per
test session.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, when run as a script

from attrition_testkit import REPO, train_test_champion

ROLES = ("viewer", "predictor", "admin")
API_BATCH_LIMIT = 50
_RUNNING: dict[str, tuple[Stack, ExitStack]] = {}


def free_port() -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stack_env(root: Path, *, registry: str | None = None) -> dict[str, str]:
    """ATTRITION_* variables pointing every store at ``root`` (or at ``registry``)."""
    var = root / "var"
    tracking = registry or f"sqlite:///{var / 'mlflow.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATTRITION_", "MLFLOW_"))}
    env.update(
        {
            "ATTRITION_VAR_DIR": str(var),
            "ATTRITION_DATABASE_URL": f"sqlite:///{var / 'attrition.db'}",
            "ATTRITION_MLFLOW_TRACKING_URI": tracking,
            "ATTRITION_MLFLOW_ARTIFACT_ROOT": str(var / "mlartifacts"),
            "ATTRITION_PSEUDONYM_KEY": "dashboard-test-pseudonym-key",
            "ATTRITION_MODEL_POLL_SECONDS": "0",
            "ATTRITION_RATE_LIMIT_PER_MINUTE": "100000",
            "ATTRITION_MAX_BATCH_ROWS": str(API_BATCH_LIMIT),
            "ATTRITION_GATE_CONFIG": str(REPO / "configs" / "gate.yaml"),
            # The API resolves models:/ URIs through MLflow's default registry too.
            "MLFLOW_TRACKING_URI": tracking,
        }
    )
    return env


@dataclass(frozen=True)
class Stack:
    """A running API and what the tests need to know about it."""

    api_url: str
    keys: dict[str, str]
    env: dict[str, str]
    root: Path
    model_version: str | None


# --- child-process preparation --------------------------------------------------------
def _keys() -> dict[str, str]:
    from attrition.serving.platform.api_keys import create_key
    from attrition.settings import get_settings

    settings = get_settings()
    return {
        role: create_key(f"dashboard-test-{role}", role, database_url=settings.database_url,
                         server_secret=settings.pseudonym_secret()).secret
        for role in ROLES
    }  # fmt: skip


def _migrate() -> None:
    from attrition.db.migrate import upgrade
    from attrition.settings import get_settings

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)


def _train(data: Path) -> str:
    import pandas as pd

    result = train_test_champion(pd.read_csv(data), seed=7, actor="dashboard-tests")
    return str(result.model_version)


def _report_row(reference: Any, current: Any, version: str, source: str, when: datetime) -> Any:
    """A drift_report row as the monitor writes it: engine result, performance, HTML."""
    import numpy as np

    from attrition import registry
    from attrition.db.models import DriftReport
    from attrition.monitoring.config import MonitoringConfig
    from attrition.monitoring.drift import columns_from_frame, compare, feature_specs
    from attrition.monitoring.performance import HoldoutMetrics, evaluate_performance
    from attrition.monitoring.report import render_report, report_row_fields
    from attrition.schema import POSITIVE_LABEL, TARGET
    from attrition.settings import get_settings

    store = registry.RegistryConfig.from_settings(get_settings())
    model, config = registry.load_model(registry.CHAMPION, store), MonitoringConfig()
    specs = feature_specs(model.feature_names)
    ref_scores = model.predict_proba(reference)[:, 1]
    cur_scores = model.predict_proba(current)[:, 1]
    drift = compare(columns_from_frame(reference, specs), columns_from_frame(current, specs),
                    specs, config.drift, prediction=config.prediction,
                    reference_scores=ref_scores, current_scores=cur_scores)  # fmt: skip
    info = registry.champion_info(store)
    assert info is not None
    times = [when - timedelta(days=60) + timedelta(hours=3 * i) for i in range(len(current))]
    performance = evaluate_performance(
        cur_scores, (current[TARGET] == POSITIVE_LABEL).to_numpy(), np.array(times),
        threshold=float(model.threshold), holdout=HoldoutMetrics.from_mapping(info.metrics),
        config=config.performance, end=when,
    )  # fmt: skip
    fields = report_row_fields(drift, performance)
    fields["summary"] |= _fairness_summary(current, cur_scores, float(model.threshold), store)
    name = store.model_name
    return DriftReport(
        model_name=name, model_version=version, source=source,
        window_start=min(times), window_end=when, created_at=when,
        html=render_report(drift, model_name=name, model_version=version,
                           performance=performance, source=source),
        alert_sent=drift.any_drift, retrained=False, **fields,
    )  # fmt: skip


def _fairness_summary(current: Any, scores: Any, threshold: float, store: Any) -> dict[str, Any]:
    """Fairness per group of the rows' labels, as the monitor stores it."""
    from attrition import registry
    from attrition.monitoring.fairness import FairnessPolicy, production_fairness
    from attrition.schema import POSITIVE_LABEL, TARGET

    fairness = production_fairness(
        current, (current[TARGET] == POSITIVE_LABEL).to_numpy(), scores, threshold=threshold,
        audit=registry.load_fairness(registry.CHAMPION, store), policy=FairnessPolicy(),
        basis="labels",
    )  # fmt: skip
    findings = [f.to_dict() for f in fairness.findings]
    return {"fairness": fairness.to_dict(), "findings": findings}


def _reports(data: Path, version: str) -> None:
    import pandas as pd

    from attrition.data.synthetic import generate_workforce
    from attrition.db.engine import session_scope
    from attrition.settings import get_settings

    dev = pd.read_csv(data)
    reference, steady = dev.iloc[:600], dev.iloc[600:]
    surge = generate_workforce(400, 11, scenario="overtime_surge")
    now = datetime.now(UTC)
    with session_scope(get_settings().database_url) as session:
        session.add(
            _report_row(reference, steady, version, "dev rows 601-1176", now - timedelta(days=1))
        )
        session.add(_report_row(reference, surge, version, "synthetic overtime_surge", now))


def prepare(data: Path) -> dict[str, Any]:
    """Migrate, train a champion, store two drift reports, create one key per role."""
    _migrate()
    version = _train(data)
    _reports(data, version)
    return {"model_version": version, "keys": _keys()}


def prepare_empty() -> dict[str, Any]:
    _migrate()
    return {"model_version": None, "keys": _keys()}


# --- running the API ------------------------------------------------------------------
def wait_until_up(url: str, process: subprocess.Popen[bytes], *, ready: bool,
                  timeout: float = 120.0) -> None:  # fmt: skip
    """Until /health/ready answers 200 (or /health/live, for an API without a model)."""
    route = "/health/ready" if ready else "/health/live"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"API exited early with code {process.returncode}")
        try:
            if httpx.get(url + route, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"API at {url} not up after {timeout:.0f} s")


def stop(process: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _prepare(kind: str, env: dict[str, str], root: Path, data: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, kind, str(data)], env=env, cwd=root,
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"stack preparation failed:\n{done.stderr[-4000:]}")
    info: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return info


@contextmanager
def running(root: Path, data: Path, *, empty: bool = False) -> Iterator[Stack]:
    """Prepare the stores, start the API, yield, stop it."""
    root.mkdir(parents=True, exist_ok=True)
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: no registry, no model
    env = stack_env(root, registry=closed if empty else None)
    info = _prepare("prepare-empty" if empty else "prepare", env, root, data)
    url = f"http://127.0.0.1:{free_port()}"
    with (root / "api.log").open("wb") as log:
        api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "attrition.serving.app:serve_factory",
             "--factory", "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1]],
            env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_until_up(url, api, ready=not empty)
            yield Stack(url, info["keys"], env, root, info["model_version"])
        finally:
            stop(api)


def shared(root: Path, data: Path, *, empty: bool = False) -> Stack:
    """The stack under ``root``, started on first use and stopped when the process ends."""
    key = f"{root}:{empty}"
    if key not in _RUNNING:
        exits = ExitStack()
        found = exits.enter_context(running(root, data, empty=empty))
        atexit.register(exits.close)
        _RUNNING[key] = (found, exits)
    return _RUNNING[key][0]


def stop_all() -> None:
    while _RUNNING:
        _, (_, exits) = _RUNNING.popitem()
        exits.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "prepare":
        sys.stdout.write(json.dumps(prepare(Path(sys.argv[2]))) + "\n")
    elif len(sys.argv) == 3 and sys.argv[1] == "prepare-empty":
        sys.stdout.write(json.dumps(prepare_empty()) + "\n")
    else:
        sys.exit("usage: stack.py prepare|prepare-empty DATA_CSV")
