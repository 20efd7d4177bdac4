"""``attrition ui`` (the dashboard) and ``attrition up`` (API and dashboard together).

Command lines are built by pure functions. ``up`` runs its children as real ``attrition``
commands (``serve`` or ``cluster``, and ``ui``) and supervises them with
:func:`attrition.operations.processes.supervise`: it returns as soon as either child exits,
stopping the other, or after Ctrl-C/SIGTERM, stopping both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from attrition.operations.processes import (
    KILL_WAIT_S,
    LOOPBACK,
    STOP_TIMEOUT_S,
    ExitListener,
    attrition_command,
    serve_command,
    start,
    start_all,
    supervise,
)

DASHBOARD_APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
# `up`'s children supervise children of their own, in sessions of their own: each gets time
# for its whole stop sequence (the cluster's: nginx, then the replicas, then a kill) before
# it is killed, or what it started would outlive it.
CHILD_STOP_TIMEOUT_S = 2 * STOP_TIMEOUT_S + KILL_WAIT_S


def streamlit_command(port: int, host: str | None, python: str = sys.executable) -> list[str]:
    """``streamlit run`` on the app: headless, no usage statistics, no file watching."""
    command = [
        python, "-m", "streamlit", "run", str(DASHBOARD_APP),
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    if host is not None:
        command += ["--server.address", host]
    return command


def ui_host(host: str | None, environ: Mapping[str, str]) -> str | None:
    """The address to bind: the option, else Streamlit's own variable (as in the container
    image), else loopback only."""
    if host is not None:
        return host
    return None if environ.get("STREAMLIT_SERVER_ADDRESS") else LOOPBACK


def ui_command(port: int, host: str, python: str = sys.executable) -> list[str]:
    """``attrition ui`` in a child interpreter."""
    return attrition_command("ui", "--port", str(port), "--host", host, python=python)


def cluster_command(replicas: int, port: int, python: str = sys.executable) -> list[str]:
    """``attrition cluster``: ``replicas`` API processes behind nginx on ``port`` (loopback)."""
    options = ["--replicas", str(replicas), "--http-port", str(port)]
    return attrition_command("cluster", *options, python=python)


def api_url_for(host: str, port: int) -> str:
    """The URL the dashboard should call for an API bound to ``host``."""
    reachable = LOOPBACK if host in ("0.0.0.0", "", "::") else host
    if ":" in reachable:
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}"


def run_ui(port: int, host: str | None) -> int:
    """Run the dashboard in the foreground until it stops; returns its exit code."""
    process = start(streamlit_command(port, ui_host(host, os.environ)), os.environ)
    return supervise({"dashboard": process})


def run_up(
    *, host: str, api_port: int, ui_port: int, workers: int, replicas: int = 1,
    on_exit: ExitListener = lambda name, code: None,
) -> int:  # fmt: skip
    """Run the API and the dashboard together; returns when either stops.

    With ``replicas`` > 1 the API is a local cluster (``attrition cluster``): that many
    ``attrition serve`` processes behind nginx on ``api_port`` (loopback), sharing the
    configured database and Redis (see :mod:`attrition.operations.cluster`)."""
    env = dict(os.environ)
    env["ATTRITION_API_URL"] = api_url_for(host if replicas == 1 else LOOPBACK, api_port)
    api = (
        serve_command(host, api_port, workers)
        if replicas == 1
        else cluster_command(replicas, api_port)
    )
    children = start_all({"api": api, "dashboard": ui_command(ui_port, host)}, env)
    return supervise(children, stop_timeout=CHILD_STOP_TIMEOUT_S, on_exit=on_exit)
