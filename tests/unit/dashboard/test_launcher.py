"""`attrition ui` / `up` process handling: commands, signal forwarding, exit on a dead child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from attrition.dashboard.launcher import (
    APP,
    api_command,
    api_url_for,
    start,
    streamlit_command,
    supervise,
    ui_host,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
]


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_streamlit_command_is_headless_without_telemetry() -> None:
    command = streamlit_command(8600, "127.0.0.1", python="py")
    assert command[:5] == ["py", "-m", "streamlit", "run", str(APP)]
    assert _option(command, "--server.port") == "8600"
    assert _option(command, "--server.headless") == "true"
    assert _option(command, "--browser.gatherUsageStats") == "false"
    assert _option(command, "--server.address") == "127.0.0.1"
    assert "--server.address" not in streamlit_command(8600, None)
    assert APP.is_file()


def test_bind_address_and_api_url() -> None:
    assert ui_host(None, {}) == "127.0.0.1"
    assert ui_host(None, {"STREAMLIT_SERVER_ADDRESS": "0.0.0.0"}) is None  # the image's choice
    assert ui_host("10.0.0.5", {"STREAMLIT_SERVER_ADDRESS": "0.0.0.0"}) == "10.0.0.5"
    assert api_url_for("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert api_url_for("::1", 8000) == "http://[::1]:8000"
    command = api_command("127.0.0.1", 8001, 2, python="py")
    assert command[3:] == ["serve", "--host", "127.0.0.1", "--port", "8001", "--workers", "2"]


def test_a_dead_child_stops_the_other_and_sets_the_exit_code() -> None:
    sleeper = start(SLEEPER, os.environ)
    dying = start(
        [sys.executable, "-c", "import sys, time; time.sleep(0.3); sys.exit(3)"], os.environ
    )
    seen: list[tuple[str, int]] = []
    began = time.monotonic()
    code = supervise(
        {"api": dying, "dashboard": sleeper},
        stop_timeout=5,
        on_exit=lambda name, rc: seen.append((name, rc)),
    )
    assert code == 3 and seen == [("api", 3)]
    assert sleeper.poll() is not None and time.monotonic() - began < 10


def test_ctrl_c_stops_both_and_exits_cleanly() -> None:
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs in the background
    children = {"api": start(SLEEPER, os.environ), "dashboard": start(SLEEPER, os.environ)}
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        code = supervise(children, stop_timeout=5)
    finally:
        timer.cancel()
    assert code == 0
    assert all(child.poll() == -signal.SIGTERM for child in children.values())
    assert signal.getsignal(signal.SIGINT) is before, "the caller's handler is restored"


def test_a_child_that_ignores_sigterm_is_killed() -> None:
    stubborn = start(STUBBORN, os.environ)
    time.sleep(0.5)  # let it install its handler
    dying = subprocess.Popen([sys.executable, "-c", "pass"])
    assert supervise({"api": dying, "dashboard": stubborn}, stop_timeout=0.5) == 1
    assert stubborn.poll() == -signal.SIGKILL


def test_cluster_command_runs_the_local_cluster_on_the_api_port() -> None:
    from attrition.dashboard.launcher import cluster_command

    command = cluster_command(3, 8080, python="py")
    assert command[:2] == ["py", "-c"]
    assert "run_local_cluster(3, http_port=8080)" in command[2]
