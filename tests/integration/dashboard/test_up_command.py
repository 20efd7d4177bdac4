"""`attrition up` runs the API and the dashboard together: Ctrl-C stops both, and when one
dies the other is stopped and the command fails."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration
ATTRITION = Path(sys.executable).with_name("attrition")


def _children(pid: int) -> dict[int, str]:
    """Child pid -> command line, from /proc."""
    listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = {}
    for child in map(int, listed):
        try:
            found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except FileNotFoundError:
            continue
    return found


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _up(stack: Any, module: Any, log: Path) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    """`attrition up` on free ports (output to ``log``), waiting until both servers answer."""
    api_port, ui_port = module.free_port(), module.free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ATTRITION), "up", "--api-port", str(api_port), "--ui-port", str(ui_port)],
            env=stack.env, cwd=stack.root, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    urls = [
        f"http://127.0.0.1:{api_port}/health/live",
        f"http://127.0.0.1:{ui_port}/_stcore/health",
    ]
    deadline = time.monotonic() + 120
    while urls and time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(urls[0], timeout=2).status_code == 200:
                urls.pop(0)
                continue
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    assert not urls, f"not up: {urls}"
    children = _children(process.pid)
    roles = {"api" if " serve " in cmd else "dashboard": pid for pid, cmd in children.items()}
    assert set(roles) == {"api", "dashboard"}, children
    return process, roles


def test_ctrl_c_stops_api_and_dashboard(
    empty_stack: Any, stack_module: Any, tmp_path: Path
) -> None:
    process, children = _up(empty_stack, stack_module, tmp_path / "up.log")
    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 0
    assert not any(_alive(pid) for pid in children.values())


def test_when_the_api_dies_up_stops_the_dashboard_and_fails(
    empty_stack: Any, stack_module: Any, tmp_path: Path
) -> None:
    log = tmp_path / "up.log"
    process, children = _up(empty_stack, stack_module, log)
    os.kill(children["api"], signal.SIGKILL)
    assert process.wait(60) != 0
    assert not _alive(children["dashboard"])
    assert "api exited with code -9" in log.read_text()


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_sigkill_of_up_stops_api_and_dashboard_and_frees_their_ports(
    empty_stack: Any, stack_module: Any, tmp_path: Path
) -> None:
    process, children = _up(empty_stack, stack_module, tmp_path / "up.log")
    ports = [int(arg) for arg in process.args[3::2]]  # type: ignore[index]
    family = {*children.values(), *_children(children["dashboard"])}  # streamlit too
    process.kill()
    process.wait(10)
    deadline = time.monotonic() + 10  # about 1 s in practice
    while time.monotonic() < deadline and (
        any(map(_running, family)) or not all(map(_port_free, ports))
    ):
        time.sleep(0.2)
    assert not [pid for pid in family if _running(pid)]
    assert all(map(_port_free, ports)), ports
