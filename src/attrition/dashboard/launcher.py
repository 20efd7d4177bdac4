"""Start the dashboard (``attrition ui``) and supervise API + dashboard (``attrition up``).

Command lines are built by pure functions; :func:`supervise` runs child processes in their
own sessions, forwards SIGINT/SIGTERM to them once, and returns as soon as either child
exits, stopping the other.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType

logger = logging.getLogger(__name__)
APP = Path(__file__).resolve().parent / "app.py"
LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_S = 15.0
POLL_S = 0.2


def streamlit_command(port: int, host: str | None, python: str = sys.executable) -> list[str]:
    """``streamlit run`` on the app: headless, no usage statistics, no file watching."""
    command = [
        python, "-m", "streamlit", "run", str(APP),
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


def api_command(host: str, port: int, workers: int, python: str = sys.executable) -> list[str]:
    """``attrition serve`` in a child interpreter."""
    entry = "from attrition.cli import main; main()"
    return [python, "-c", entry, "serve", "--host", host, "--port", str(port),
            "--workers", str(workers)]  # fmt: skip


def cluster_command(replicas: int, port: int, python: str = sys.executable) -> list[str]:
    """``replicas`` API processes behind Debian's nginx on ``port`` (loopback), as a child."""
    entry = (
        "import sys; from attrition.scaleout import run_local_cluster; "
        f"sys.exit(run_local_cluster({int(replicas)}, http_port={int(port)}))"
    )
    return [python, "-c", entry]


def api_url_for(host: str, port: int) -> str:
    """The URL the dashboard should call for an API bound to ``host``."""
    reachable = LOOPBACK if host in ("0.0.0.0", "", "::") else host
    if ":" in reachable:
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}"


def _stop(processes: Mapping[str, subprocess.Popen[bytes]], timeout: float) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for name, process in processes.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop in %.0f s; killing it", name, timeout)
            process.kill()
            process.wait()


def _first_exit(processes: Mapping[str, subprocess.Popen[bytes]]) -> tuple[str, int] | None:
    for name, process in processes.items():
        code = process.poll()
        if code is not None:
            return name, code
    return None


def supervise(
    processes: Mapping[str, subprocess.Popen[bytes]],
    *,
    stop_timeout: float = STOP_TIMEOUT_S,
    on_exit: Callable[[str, int], None] = lambda name, code: None,
) -> int:
    """Wait until a signal arrives or a child exits; then stop the others.

    Returns 0 after SIGINT/SIGTERM, else the exit code of the child that died (1 if that
    child exited with 0, since it was not asked to).
    """
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        exited = _first_exit(processes)
        while not received and exited is None:
            time.sleep(POLL_S)
            exited = _first_exit(processes)
        _stop(processes, stop_timeout)
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
    if received or exited is None:
        return 0
    on_exit(*exited)
    return exited[1] or 1


def start(command: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """A child in its own session, so a terminal's Ctrl-C reaches only the supervisor."""
    return subprocess.Popen(list(command), env=dict(env), start_new_session=True)


def run_ui(port: int, host: str | None) -> int:
    """Run the dashboard in the foreground until it stops; returns its exit code."""
    process = start(streamlit_command(port, ui_host(host, os.environ)), os.environ)
    return supervise({"dashboard": process})


def run_up(
    *, host: str, api_port: int, ui_port: int, workers: int, replicas: int = 1,
    on_exit: Callable[[str, int], None] = lambda name, code: None,
) -> int:  # fmt: skip
    """Run the API and the dashboard together; returns when either stops.

    With ``replicas`` > 1 the API is a local cluster: that many ``attrition serve``
    processes behind nginx on ``api_port`` (loopback), sharing the configured database and
    Redis (see :mod:`attrition.scaleout`)."""
    env = dict(os.environ)
    env["ATTRITION_API_URL"] = api_url_for(host if replicas == 1 else LOOPBACK, api_port)
    api = (
        api_command(host, api_port, workers)
        if replicas == 1
        else cluster_command(replicas, api_port)
    )
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        processes["api"] = start(api, env)
        processes["dashboard"] = start(streamlit_command(ui_port, host), env)
    except OSError:
        _stop(processes, STOP_TIMEOUT_S)
        raise
    return supervise(processes, on_exit=on_exit)
