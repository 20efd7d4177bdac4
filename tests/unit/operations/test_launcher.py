"""`attrition ui` / `up`: the command lines of the children and how `up` wires them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from attrition.operations import launcher
from attrition.operations.launcher import (
    DASHBOARD_APP,
    api_url_for,
    cluster_command,
    streamlit_command,
    ui_command,
    ui_host,
)


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_streamlit_command_is_headless_without_telemetry() -> None:
    command = streamlit_command(8600, "127.0.0.1", python="py")
    assert command[:5] == ["py", "-m", "streamlit", "run", str(DASHBOARD_APP)]
    assert _option(command, "--server.port") == "8600"
    assert _option(command, "--server.headless") == "true"
    assert _option(command, "--browser.gatherUsageStats") == "false"
    assert _option(command, "--server.address") == "127.0.0.1"
    assert "--server.address" not in streamlit_command(8600, None)
    assert DASHBOARD_APP.is_file()


def test_bind_address_and_api_url() -> None:
    assert ui_host(None, {}) == "127.0.0.1"
    assert ui_host(None, {"STREAMLIT_SERVER_ADDRESS": "0.0.0.0"}) is None  # the image's choice
    assert ui_host("10.0.0.5", {"STREAMLIT_SERVER_ADDRESS": "0.0.0.0"}) == "10.0.0.5"
    assert api_url_for("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert api_url_for("::1", 8000) == "http://[::1]:8000"


def test_the_dashboard_child_is_attrition_ui() -> None:
    command = ui_command(8502, "0.0.0.0", python="py")
    assert command == ["py", "-m", "attrition", "ui", "--port", "8502", "--host", "0.0.0.0"]


def test_cluster_command_runs_the_local_cluster_on_the_api_port() -> None:
    command = cluster_command(3, 8080, python="py")
    assert command == ["py", "-m", "attrition", "cluster", "--replicas", "3", "--http-port", "8080"]


class Recorded:
    """What run_up asked to start, and the environment it gave."""

    commands: dict[str, list[str]]
    env: dict[str, str]
    stop_timeout: float


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorded:
    seen = Recorded()

    def start_all(commands: Mapping[str, Sequence[str]], env: Mapping[str, str]) -> Any:
        seen.commands = {name: list(command) for name, command in commands.items()}
        seen.env = dict(env)
        return {}

    monkeypatch.setattr(launcher, "start_all", start_all)

    def supervise(children: Any, stop_timeout: float, on_exit: Any) -> int:
        seen.stop_timeout = stop_timeout
        return 7

    monkeypatch.setattr(launcher, "supervise", supervise)
    return seen


def test_up_runs_attrition_serve_and_attrition_ui(recorded: Recorded) -> None:
    code = launcher.run_up(host="0.0.0.0", api_port=8001, ui_port=8502, workers=2)
    assert code == 7
    api, dashboard = recorded.commands["api"], recorded.commands["dashboard"]
    assert api[1:] == ["-m", "attrition", "serve", "--host", "0.0.0.0", "--port", "8001",
                       "--workers", "2"]  # fmt: skip
    assert dashboard[1:] == ["-m", "attrition", "ui", "--port", "8502", "--host", "0.0.0.0"]
    assert recorded.env["ATTRITION_API_URL"] == "http://127.0.0.1:8001"
    # `attrition cluster` stops nginx, then the replicas, each within 15 s, then kills: `up`
    # waits for all of it before it kills the child.
    assert recorded.stop_timeout > 2 * 15


def test_up_with_replicas_runs_attrition_cluster_on_loopback(recorded: Recorded) -> None:
    launcher.run_up(host="10.0.0.5", api_port=8080, ui_port=8501, workers=1, replicas=3)
    assert recorded.commands["api"][1:] == ["-m", "attrition", "cluster", "--replicas", "3",
                                            "--http-port", "8080"]  # fmt: skip
    assert recorded.env["ATTRITION_API_URL"] == "http://127.0.0.1:8080"
