"""The local cluster's options, environment, supervision and failure reporting. Fast: no
API replica reaches readiness here (test_cluster_tls.py and test_cluster_failover.py do)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from attrition.errors import AttritionError
from attrition.operations.cluster import (
    ClusterConfig,
    LocalCluster,
    cluster_warnings,
    replica_env,
    run_local_cluster,
    supervise_replicas,
    validate_config,
)
from attrition.operations.processes import free_port
from attrition.operations.tls import TlsFiles
from attrition.settings import Settings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (ClusterConfig(replicas=0), "replicas"),
        (ClusterConfig(workers=0), "workers"),
        (ClusterConfig(http_port=70000), "http_port"),
        (ClusterConfig(replicas=2, replica_ports=(1,)), "replica_ports"),
        (ClusterConfig(tls=TlsFiles(Path("/no/cert"), Path("/no/key"))), "tls"),
        (ClusterConfig(http_port=8443, tls=TlsFiles(Path("c"), Path("k"))), "https_port"),
    ],
)
def test_bad_options_name_the_field(config: ClusterConfig, field: str) -> None:
    with pytest.raises(AttritionError, match=f"^{field}: "):
        validate_config(config)


def test_warnings_for_several_replicas_without_shared_services() -> None:
    plain = Settings(_env_file=None, database_url="sqlite:///x.db", redis_url=None)  # type: ignore[call-arg]
    assert cluster_warnings(plain, 1) == []
    warnings = cluster_warnings(plain, 2)
    assert any("ATTRITION_REDIS_URL" in w for w in warnings)
    assert any("SQLite" in w for w in warnings)
    shared = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url="postgresql+psycopg://h/db", redis_url="redis://h:6379/0"
    )
    assert cluster_warnings(shared, 3) == []


def test_replica_environment_names_the_replica_and_the_registry() -> None:
    settings = Settings(_env_file=None, mlflow_tracking_uri="sqlite:///s/mlflow.db")  # type: ignore[call-arg]
    env = replica_env({"PATH": "/bin"}, "replica-2", settings)
    assert env == {
        "PATH": "/bin",
        "ATTRITION_REPLICA_ID": "replica-2",
        "MLFLOW_TRACKING_URI": "sqlite:///s/mlflow.db",
    }
    kept = replica_env({"MLFLOW_TRACKING_URI": "http://m:5000"}, "r", settings)
    assert kept["MLFLOW_TRACKING_URI"] == "http://m:5000"


def test_a_replica_that_cannot_start_is_reported_and_nothing_is_left_running(
    tmp_path: Path, support: ModuleType
) -> None:
    """An unmigrated database: the replica exits; the error carries its log; nginx never
    started and no replica process survives."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")},
        "ATTRITION_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "ATTRITION_VAR_DIR": str(tmp_path / "var"),
        "ATTRITION_PSEUDONYM_KEY": "k",
    }
    (tmp_path / "empty.db").touch()
    config = ClusterConfig(replicas=1, http_port=free_port(), runtime_dir=tmp_path / "rt")
    cluster = LocalCluster(config, support.settings_from(env), env)
    with pytest.raises(AttritionError, match="attrition db upgrade"):
        cluster.start()
    assert cluster.nginx is None
    assert all(replica.process.poll() is not None for replica in cluster.replicas)


def test_a_second_cluster_on_the_same_runtime_folder_is_refused(tmp_path: Path) -> None:
    runtime = tmp_path / "rt"
    runtime.mkdir()
    (runtime / "nginx.pid").write_text(str(os.getpid()))
    cluster = LocalCluster(ClusterConfig(runtime_dir=runtime), Settings(_env_file=None))  # type: ignore[call-arg]
    with pytest.raises(AttritionError, match="already runs"):
        cluster.start()


def test_run_local_cluster_reports_a_cluster_that_cannot_start(tmp_path: Path) -> None:
    runtime = tmp_path / "rt"
    runtime.mkdir()
    (runtime / "nginx.pid").write_text(str(os.getpid()))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(AttritionError, match="already runs"):
        run_local_cluster(ClusterConfig(runtime_dir=runtime), settings)


class FakeCluster:
    """Exits reported by a script; restarts recorded."""

    def __init__(self, exits: list[tuple[str, int] | None]) -> None:
        self.exits = exits
        self.restarted: list[str] = []

    def exited(self) -> tuple[str, int] | None:
        return self.exits.pop(0) if self.exits else None

    def restart_replica(self, name: str) -> None:
        self.restarted.append(name)


def _supervise(cluster: Any, stop: threading.Event, **options: Any) -> tuple[int, list[Any]]:
    seen: list[tuple[str, int]] = []
    code = supervise_replicas(cluster, stop, on_exit=lambda n, c: seen.append((n, c)), **options)
    return code, seen


def test_a_replica_that_exits_is_restarted_up_to_the_limit() -> None:
    cluster = FakeCluster([("replica-1", -9), None, ("replica-1", 1), ("replica-1", 1)])
    code, seen = _supervise(cluster, threading.Event(), max_restarts=2)
    assert code == 1
    assert cluster.restarted == ["replica-1", "replica-1"]
    assert seen == [("replica-1", -9), ("replica-1", 1), ("replica-1", 1)]


def test_the_cluster_gives_up_when_nginx_exits_and_stops_when_asked() -> None:
    cluster = FakeCluster([("nginx", 0)])
    assert _supervise(cluster, threading.Event()) == (1, [("nginx", 0)])
    assert cluster.restarted == []
    stop = threading.Event()
    stop.set()
    assert _supervise(FakeCluster([("replica-1", 1)]), stop) == (0, [])
