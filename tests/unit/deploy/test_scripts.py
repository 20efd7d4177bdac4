"""The images' scripts: shellcheck, the monitor loop, the entry points and the health probe.

Commands that the scripts exec (`attrition`, `mlflow`) are replaced on PATH by small recorders
where the test is about the script's own logic: what it runs, with which arguments and files.
"""

from __future__ import annotations

import http.server
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from attrition_services import postgres_admin_url

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
SCRIPTS = sorted(DEPLOY.glob("*/*.sh"))
LOOP = DEPLOY / "monitor" / "loop.sh"
HEALTHCHECK = DEPLOY / "docker" / "healthcheck.py"
RECORDER = """#!/bin/sh
# Records how it was called: arguments as JSON lines, plus the auth config if one is set.
printf '%s\\n' "$@" > "$RECORD_DIR/$(basename "$0").args"
if [ -n "${MLFLOW_AUTH_CONFIG_PATH:-}" ]; then
    cp "$MLFLOW_AUTH_CONFIG_PATH" "$RECORD_DIR/auth.ini"
    stat -c '%a' "$MLFLOW_AUTH_CONFIG_PATH" > "$RECORD_DIR/auth.mode"
fi
exit "${RECORDER_STATUS:-0}"
"""


def recorder_path(tmp_path: Path, *names: str) -> dict[str, str]:
    """An environment whose PATH starts with recorders named ``names``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in names:
        tool = bin_dir / name
        tool.write_text(RECORDER)
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "RECORD_DIR": str(tmp_path)}


def run_sh(script: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(script), *args], capture_output=True, text=True, timeout=30, env=env, check=False
    )


def test_there_are_scripts_to_check() -> None:
    assert {path.relative_to(DEPLOY).as_posix() for path in SCRIPTS} == {
        "api/entrypoint.sh",
        "mlflow/entrypoint.sh",
        "monitor/loop.sh",
        "postgres/init-databases.sh",
    }


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.relative_to(DEPLOY).as_posix())
def test_shellcheck_passes(script: Path, require_tool: Callable[[str], str]) -> None:
    result = subprocess.run(
        [require_tool("shellcheck"), "--shell=sh", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout


# --- monitor loop ---------------------------------------------------------------------------


def loop_env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "ATTRITION_MONITOR_INTERVAL_SECONDS": "0",
        "ATTRITION_MONITOR_HEARTBEAT": str(tmp_path / "heartbeat"),
        **values,
    }


def test_loop_keeps_going_after_failures_and_stops_after_max_runs(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    env = loop_env(tmp_path, ATTRITION_MONITOR_MAX_RUNS="3")
    result = run_sh(LOOP, env, "sh", "-c", f"echo run >> {runs}; exit 1")
    assert runs.read_text().count("run") == 3
    assert result.returncode == 1, "the loop ends with the last run's status"
    assert result.stderr.count("failed with exit status 1") == 3
    assert (tmp_path / "heartbeat").exists()


def test_loop_reports_drift_exit_code_distinctly(tmp_path: Path) -> None:
    result = run_sh(LOOP, loop_env(tmp_path, ATTRITION_MONITOR_MAX_RUNS="1"), "sh", "-c", "exit 3")
    assert result.returncode == 3
    assert "drift detected" in result.stderr


def test_loop_runs_attrition_monitor_with_retrain_by_default(tmp_path: Path) -> None:
    env = {
        **loop_env(tmp_path, ATTRITION_MONITOR_MAX_RUNS="1"),
        **recorder_path(tmp_path, "attrition"),
    }
    result = run_sh(LOOP, env)
    assert result.returncode == 0, result.stderr
    args = (tmp_path / "attrition.args").read_text().split()
    assert args == ["monitor", "--retrain", "--json"]


@pytest.mark.parametrize(
    "variable", ["ATTRITION_MONITOR_INTERVAL_SECONDS", "ATTRITION_MONITOR_MAX_RUNS"]
)
def test_loop_rejects_a_bad_setting_naming_it(tmp_path: Path, variable: str) -> None:
    result = run_sh(LOOP, loop_env(tmp_path, **{variable: "daily"}), "true")
    assert result.returncode == 2
    assert variable in result.stderr and "daily" in result.stderr


def test_loop_stops_promptly_on_sigterm_while_sleeping(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    env = loop_env(tmp_path, ATTRITION_MONITOR_INTERVAL_SECONDS="3600")
    process = subprocess.Popen(
        ["sh", str(LOOP), "sh", "-c", f"echo run >> {runs}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while not runs.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=5)
    assert process.returncode == 0
    assert "stopping" in stderr
    assert runs.read_text().count("run") == 1


# --- entry points ---------------------------------------------------------------------------


def test_api_entrypoint_serves_on_all_interfaces_with_the_configured_workers(
    tmp_path: Path,
) -> None:
    env = {**recorder_path(tmp_path, "attrition"), "WEB_CONCURRENCY": "3"}
    result = run_sh(DEPLOY / "api" / "entrypoint.sh", env, "--extra")
    assert result.returncode == 0, result.stderr
    args = (tmp_path / "attrition.args").read_text().split()
    assert args == ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "3", "--extra"]


def test_api_entrypoint_rejects_a_bad_worker_count(tmp_path: Path) -> None:
    env = {**recorder_path(tmp_path, "attrition"), "WEB_CONCURRENCY": "many"}
    result = run_sh(DEPLOY / "api" / "entrypoint.sh", env)
    assert result.returncode == 2
    assert "WEB_CONCURRENCY" in result.stderr
    assert not (tmp_path / "attrition.args").exists()


MLFLOW_ENV = {
    "MLFLOW_BACKEND_STORE_URI": "postgresql+psycopg://mlflow:pw@postgres:5432/mlflow",
    "MLFLOW_AUTH_DATABASE_URI": "postgresql+psycopg://mlflow:pw@postgres:5432/mlflow_auth",
    "MLFLOW_AUTH_ADMIN_USERNAME": "admin",
    "MLFLOW_AUTH_ADMIN_PASSWORD": "not-in-any-file",
    "MLFLOW_FLASK_SERVER_SECRET_KEY": "flask-secret",
}


def test_mlflow_entrypoint_starts_basic_auth_with_a_private_config(tmp_path: Path) -> None:
    env = {**recorder_path(tmp_path, "mlflow"), **MLFLOW_ENV, "TMPDIR": str(tmp_path)}
    result = run_sh(DEPLOY / "mlflow" / "entrypoint.sh", env)
    assert result.returncode == 0, result.stderr
    args = (tmp_path / "mlflow.args").read_text().split("\n")
    assert args[0] == "server"
    assert args[args.index("--app-name") + 1] == "basic-auth"
    assert args[args.index("--backend-store-uri") + 1] == MLFLOW_ENV["MLFLOW_BACKEND_STORE_URI"]
    assert args[args.index("--artifacts-destination") + 1] == "/mlartifacts"
    assert "--serve-artifacts" in args
    ini = (tmp_path / "auth.ini").read_text()
    assert f"database_uri = {MLFLOW_ENV['MLFLOW_AUTH_DATABASE_URI']}" in ini
    assert "default_permission = READ" in ini
    assert "not-in-any-file" not in ini, "the admin password is read from the environment only"
    assert (tmp_path / "auth.mode").read_text().strip() == "600"


@pytest.mark.parametrize("missing", sorted(MLFLOW_ENV))
def test_mlflow_entrypoint_refuses_to_start_without_a_setting(tmp_path: Path, missing: str) -> None:
    env = {**recorder_path(tmp_path, "mlflow"), **MLFLOW_ENV}
    del env[missing]
    result = run_sh(DEPLOY / "mlflow" / "entrypoint.sh", env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert not (tmp_path / "mlflow.args").exists()


def test_mlflow_entrypoint_rejects_an_unknown_permission(tmp_path: Path) -> None:
    env = {
        **recorder_path(tmp_path, "mlflow"),
        **MLFLOW_ENV,
        "MLFLOW_AUTH_DEFAULT_PERMISSION": "ALL",
    }
    result = run_sh(DEPLOY / "mlflow" / "entrypoint.sh", env)
    assert result.returncode == 2
    assert "READ, EDIT, MANAGE or NO_PERMISSIONS" in result.stderr


# --- health probe ---------------------------------------------------------------------------


class _Status(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health/live" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def status_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "NO_PROXY": "*"},
    )


def test_probe_is_healthy_on_2xx_and_unhealthy_otherwise(
    status_server: int, free_port: Callable[[], int]
) -> None:
    assert probe(f"http://127.0.0.1:{status_server}/health/live").returncode == 0
    not_ready = probe(f"http://127.0.0.1:{status_server}/health/ready")
    assert not_ready.returncode == 1 and "answered 503" in not_ready.stderr
    refused = probe(f"http://127.0.0.1:{free_port()}/health/live", "--timeout", "1")
    assert refused.returncode == 1 and "unreachable" in refused.stderr


def test_probe_checks_a_heartbeat_file_age(tmp_path: Path) -> None:
    heartbeat = tmp_path / "heartbeat"
    missing = probe("--file", str(heartbeat))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    heartbeat.touch()
    assert probe("--file", str(heartbeat), "--max-age", "60").returncode == 0
    old = time.time() - 120
    os.utime(heartbeat, (old, old))
    stale = probe("--file", str(heartbeat), "--max-age", "60")
    assert stale.returncode == 1 and "old" in stale.stderr


def test_probe_needs_exactly_one_target() -> None:
    assert probe().returncode == 2
    assert probe("http://127.0.0.1:1/", "--file", "x").returncode == 2


# --- PostgreSQL first-start script ------------------------------------------------------------


@pytest.fixture
def scratch_names() -> Iterator[dict[str, str]]:
    """Unique database and role names on the local server, dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    names = {
        "POSTGRES_DB": f"deploy_app_{suffix}",
        "MLFLOW_DB_USER": f"deploy_mlflow_{suffix}",
        "MLFLOW_DB_NAME": f"deploy_mlflow_{suffix}",
        "MLFLOW_AUTH_DB_NAME": f"deploy_mlauth_{suffix}",
        "OPTUNA_DB_NAME": f"deploy_optuna_{suffix}",
    }
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{names["POSTGRES_DB"]}"'))
    yield names
    with admin.connect() as connection:
        for key in ("POSTGRES_DB", "MLFLOW_DB_NAME", "MLFLOW_AUTH_DB_NAME", "OPTUNA_DB_NAME"):
            connection.execute(text(f'DROP DATABASE IF EXISTS "{names[key]}" WITH (FORCE)'))
        connection.execute(text(f'DROP ROLE IF EXISTS "{names["MLFLOW_DB_USER"]}"'))
    admin.dispose()


def can_connect(url: str | URL) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError:
        return False
    finally:
        engine.dispose()
    return True


@pytest.mark.integration
def test_postgres_init_gives_mlflow_its_own_role_and_databases(
    scratch_names: dict[str, str], require_tool: Callable[[str], str]
) -> None:
    psql = Path(require_tool("psql"))
    server = make_url(postgres_admin_url())
    env = {
        **scratch_names,
        "PATH": f"{psql.parent}:/usr/bin:/bin",
        "PGHOST": server.host or "127.0.0.1",
        "PGPORT": str(server.port or 5432),
        "POSTGRES_USER": server.username or "postgres",
        "PGPASSWORD": server.password or "",
        "MLFLOW_DB_PASSWORD": 'it\'s "quoted"; DROP ROLE x; --',
    }
    result = run_sh(DEPLOY / "postgres" / "init-databases.sh", env)
    assert result.returncode == 0, result.stderr
    admin = create_engine(postgres_admin_url())
    with admin.connect() as connection:
        owners: dict[str, str] = {
            str(name): str(owner)
            for name, owner in connection.execute(
                text(
                    "SELECT datname, pg_get_userbyid(datdba) FROM pg_database "
                    "WHERE datname = ANY(:names)"
                ),
                {"names": list(scratch_names.values())},
            )
        }
        has_password: bool = connection.execute(
            text("SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = :role"),
            {"role": scratch_names["MLFLOW_DB_USER"]},
        ).scalar_one()
    admin.dispose()
    mlflow_role = scratch_names["MLFLOW_DB_USER"]
    assert owners[scratch_names["MLFLOW_DB_NAME"]] == mlflow_role
    assert owners[scratch_names["MLFLOW_AUTH_DB_NAME"]] == mlflow_role
    assert owners[scratch_names["OPTUNA_DB_NAME"]] == env["POSTGRES_USER"]
    assert has_password
    as_mlflow = server.set(username=mlflow_role, password=env["MLFLOW_DB_PASSWORD"])
    assert can_connect(as_mlflow.set(database=scratch_names["MLFLOW_DB_NAME"]))
    hr_tables = as_mlflow.set(database=scratch_names["POSTGRES_DB"])
    assert not can_connect(hr_tables), "HR tables reachable"
    assert not can_connect(as_mlflow.set(database=scratch_names["OPTUNA_DB_NAME"]))
