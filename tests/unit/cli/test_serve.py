"""`attrition cluster`, `ui` and `up` parse their options and hand them to the operations
package (the processes themselves are tested in tests/unit/operations and
tests/integration/operations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from attrition.cli import app
from attrition.operations import cluster, launcher
from attrition.operations.cluster import ClusterConfig
from attrition.operations.tls import TlsFiles
from attrition.settings import Settings

runner = CliRunner()


@pytest.fixture
def cluster_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def run_local_cluster(config: ClusterConfig, settings: Settings, **hooks: Any) -> int:
        calls.append({"config": config, "settings": settings, **hooks})
        return 1

    monkeypatch.setattr(cluster, "run_local_cluster", run_local_cluster)
    return calls


def test_cluster_passes_its_options_and_the_settings(
    cluster_calls: list[dict[str, Any]], tmp_path: Path
) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    options = ["--replicas", "3", "--workers", "2", "--http-port", "9080", "--https-port", "9443"]
    tls = ["--tls-cert", str(cert), "--tls-key", str(key)]
    result = runner.invoke(app, ["cluster", *options, *tls])
    assert result.exit_code == 1, result.output  # the cluster's own exit code
    (call,) = cluster_calls
    assert call["config"] == ClusterConfig(
        replicas=3, workers=2, http_port=9080, https_port=9443, tls=TlsFiles(cert, key)
    )
    assert isinstance(call["settings"], Settings)
    assert callable(call["on_ready"]) and callable(call["on_exit"])


def test_cluster_defaults_to_two_replicas_in_plain_http(
    cluster_calls: list[dict[str, Any]],
) -> None:
    runner.invoke(app, ["cluster"])
    assert cluster_calls[0]["config"] == ClusterConfig()


def test_cluster_needs_both_tls_files(cluster_calls: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["cluster", "--tls-cert", "tls.crt"])
    assert result.exit_code == 1
    assert "--tls-key" in str(result.exception)
    assert cluster_calls == []


def test_up_passes_its_options_and_exits_with_the_supervisor_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []

    def run_up(**options: Any) -> int:
        calls.append(options)
        return 3

    monkeypatch.setattr(launcher, "run_up", run_up)
    result = runner.invoke(app, ["up", "--replicas", "2", "--api-port", "9000"])
    assert result.exit_code == 3
    (call,) = calls
    assert {k: call[k] for k in ("host", "api_port", "ui_port", "workers", "replicas")} == {
        "host": "127.0.0.1", "api_port": 9000, "ui_port": 8501, "workers": 1, "replicas": 2
    }  # fmt: skip
    assert "API on http://127.0.0.1:9000" in result.output


def test_ui_exits_with_the_dashboard_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launcher, "run_ui", lambda port, host: 5 if port == 8600 else 0)
    assert runner.invoke(app, ["ui", "--port", "8600"]).exit_code == 5
