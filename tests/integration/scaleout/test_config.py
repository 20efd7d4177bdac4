"""The local cluster's nginx configuration, options, environment and failure reporting,
and the X-Replica-Id middleware. Fast: no API replica reaches readiness here."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attrition import scaleout
from attrition.errors import AttritionError
from attrition.scaleout import ClusterConfig, LocalCluster, TlsFiles
from attrition.serving.platform.replica import (
    ReplicaIdMiddleware,
    default_replica_id,
    replica_id_for,
    validate_replica_id,
)
from attrition.settings import Settings

pytestmark = pytest.mark.integration

TEMPLATES = scaleout.find_templates()
SITE = (TEMPLATES / scaleout.SITE_TEMPLATE).read_text()
MAIN = (TEMPLATES / scaleout.MAIN_TEMPLATE).read_text()


def render(folder: Path, config: ClusterConfig, ports: list[int]) -> Path:
    site_conf, main_conf = folder / "attrition.conf", folder / "nginx.conf"
    site_conf.write_text(scaleout.render_site(SITE, config, ports, folder, 2_000_000))
    main_conf.write_text(scaleout.render_main(MAIN, folder, site_conf))
    return main_conf


def nginx_test(require_tool: Callable[[str], str], folder: Path, conf: Path) -> None:
    command = scaleout.nginx_command(require_tool("nginx"), folder, conf, test=True)
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


def test_python_rendering_matches_envsubst(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    """The same substitution as the documented `envsubst "$vars"` (only ATTRITION_ names)."""
    config = ClusterConfig(tls=TlsFiles(tmp_path / "tls.crt", tmp_path / "tls.key"))
    values = scaleout.site_values(config, [18001, 18002], tmp_path, 2_000_000)
    names = " ".join(f"${{{name}}}" for name in values)
    done = subprocess.run(
        [require_tool("envsubst"), names],
        input=SITE,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={"PATH": os.environ.get("PATH", ""), **values},
    )
    assert scaleout.render_template(SITE, values) == done.stdout
    assert scaleout.placeholders(SITE) == set(values)


def test_tls_config_keeps_the_template_and_passes_nginx_check(
    tmp_path: Path, require_tool: Callable[[str], str], support: ModuleType
) -> None:
    cert, key = support.make_certificate(tmp_path / "certs")
    config = ClusterConfig(http_port=18080, https_port=18443, tls=TlsFiles(cert, key))
    conf = render(tmp_path, config, [18001, 18002])
    site = (tmp_path / "attrition.conf").read_text()
    assert "listen 18443 ssl default_server;" in site
    assert "return 308 https://$host:18443$request_uri;" in site
    assert "server 127.0.0.1:18002 max_fails=3 fail_timeout=10s;" in site
    assert "least_conn;" in site and "non_idempotent;" in site
    assert "client_max_body_size 2000000;" in site
    nginx_test(require_tool, tmp_path, conf)


def test_plain_http_config_has_no_tls_and_keeps_the_proxy_rules(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    conf = render(tmp_path, ClusterConfig(http_port=18080), [18001])
    site = (tmp_path / "attrition.conf").read_text()
    assert "ssl" not in site and "308" not in site and "Strict-Transport-Security" not in site
    assert site.count("server {") == 1
    assert "listen 18080 default_server;" in site
    kept = (
        "location = /nginx-health",
        "location /v1/monitoring/",
        "location = /metrics",
        "proxy_next_upstream_tries 3;",
        "proxy_set_header X-Request-Id $request_id;",
    )
    assert [line for line in kept if line not in site] == []
    nginx_test(require_tool, tmp_path, conf)


def test_a_template_missing_a_value_is_refused() -> None:
    with pytest.raises(AttritionError, match="ATTRITION_HTTP_PORT"):
        scaleout.render_template("listen ${ATTRITION_HTTP_PORT};", {})


def test_plain_mode_refuses_a_template_of_another_shape() -> None:
    with pytest.raises(AttritionError, match="return 308"):
        scaleout.plain_http_site("server {\n    listen 1 ssl default_server;\n}\n", 8080)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (ClusterConfig(replicas=0), "replicas"),
        (ClusterConfig(workers=0), "workers"),
        (ClusterConfig(http_port=70000), "http_port"),
        (ClusterConfig(replicas=2, replica_ports=(1,)), "replica_ports"),
        (ClusterConfig(tls=TlsFiles(Path("/no/cert"), Path("/no/key"))), "tls"),
    ],
)
def test_bad_options_name_the_field(config: ClusterConfig, field: str) -> None:
    with pytest.raises(AttritionError, match=f"^{field}: "):
        scaleout.validate_config(config)


def test_warnings_for_several_replicas_without_shared_services() -> None:
    plain = Settings(_env_file=None, database_url="sqlite:///x.db", redis_url=None)  # type: ignore[call-arg]
    assert scaleout.cluster_warnings(plain, 1) == []
    warnings = scaleout.cluster_warnings(plain, 2)
    assert any("ATTRITION_REDIS_URL" in w for w in warnings)
    assert any("SQLite" in w for w in warnings)
    shared = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url="postgresql+psycopg://h/db", redis_url="redis://h:6379/0"
    )
    assert scaleout.cluster_warnings(shared, 3) == []


def test_replica_environment_names_the_replica_and_the_registry() -> None:
    settings = Settings(_env_file=None, mlflow_tracking_uri="sqlite:///s/mlflow.db")  # type: ignore[call-arg]
    env = scaleout.replica_env({"PATH": "/bin"}, "replica-2", settings)
    assert env == {
        "PATH": "/bin",
        "ATTRITION_REPLICA_ID": "replica-2",
        "MLFLOW_TRACKING_URI": "sqlite:///s/mlflow.db",
    }
    kept = scaleout.replica_env({"MLFLOW_TRACKING_URI": "http://m:5000"}, "r", settings)
    assert kept["MLFLOW_TRACKING_URI"] == "http://m:5000"


def test_missing_nginx_is_a_clear_error() -> None:
    with pytest.raises(AttritionError, match="nginx-light"):
        scaleout.find_nginx("no-such-nginx-binary")


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
    config = ClusterConfig(replicas=1, http_port=scaleout.free_port(), runtime_dir=tmp_path / "rt")
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


# --- X-Replica-Id -----------------------------------------------------------------------
async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    status = 200 if scope["path"] == "/" else 404
    headers = [(b"content-type", b"text/plain"), (b"x-replica-id", b"spoofed")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"hi"})


def _call(app: ASGIApp, path: str) -> tuple[int, list[tuple[bytes, bytes]]]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http", "path": path, "headers": []}, receive, send))
    return sent[0]["status"], list(sent[0]["headers"])


def test_every_response_names_its_replica_once() -> None:
    app = ReplicaIdMiddleware(_hello, "replica-7")
    for path, status in (("/", 200), ("/nowhere", 404)):
        got, headers = _call(app, path)
        assert got == status
        assert [v for k, v in headers if k == b"x-replica-id"] == [b"replica-7"]
        assert (b"content-type", b"text/plain") in headers


def test_replica_id_comes_from_the_setting_or_host_and_pid() -> None:
    assert replica_id_for(Settings(_env_file=None, replica_id=" api-2 ")) == "api-2"  # type: ignore[call-arg]
    assert replica_id_for(Settings(_env_file=None)) == default_replica_id()  # type: ignore[call-arg]
    assert default_replica_id().endswith(f":{os.getpid()}")


@pytest.mark.parametrize("bad", ["", "two words", "x" * 65, "new\nline", "é"])
def test_unsafe_replica_ids_are_refused(bad: str) -> None:
    with pytest.raises(AttritionError, match="ATTRITION_REPLICA_ID"):
        validate_replica_id(bad)
