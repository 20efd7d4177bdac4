"""The nginx template: renders, passes `nginx -t`, and behaves as designed on loopback.

Debian's nginx runs the rendered template in front of two small HTTP processes standing in
for API replicas (the live test with real API replicas belongs to the serving work). They
answer with their X-Replica-Id and record what reached them, so the balancer's own behaviour
is checked: TLS termination, spreading, the body size limit, retry on a dead or failing
replica with one request id, no replay of slow admin work, no public /metrics.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

NGINX_DIR = Path(__file__).resolve().parents[3] / "deploy" / "nginx"
SITE_PLACEHOLDERS = (
    "ATTRITION_UPSTREAM_SERVERS",
    "ATTRITION_HTTP_PORT",
    "ATTRITION_HTTPS_PORT",
    "ATTRITION_PUBLIC_HTTPS_PORT",
    "ATTRITION_TLS_CERT",
    "ATTRITION_TLS_KEY",
    "ATTRITION_MAX_BODY_SIZE",
    "ATTRITION_ACCESS_LOG",
)
MAIN_PLACEHOLDERS = ("ATTRITION_NGINX_RUNTIME_DIR", "ATTRITION_NGINX_SITE_CONF")

REPLICA = """
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, replica, log_path, failing_prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


class Replica(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        record = {
            "method": self.command,
            "path": self.path,
            "request_id": self.headers.get("X-Request-Id"),
            "proto": self.headers.get("X-Forwarded-Proto"),
        }
        with open(log_path, "a") as log:
            log.write(json.dumps(record) + "\\n")
        failing = self.command == "POST" and failing_prefix and self.path.startswith(failing_prefix)
        body = json.dumps({"replica": replica}).encode()
        self.send_response(502 if failing else 200)
        self.send_header("X-Replica-Id", replica)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


HTTPServer(("127.0.0.1", port), Replica).serve_forever()
"""


@dataclass
class Replica:
    name: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    def requests(self) -> list[dict[str, str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@dataclass
class Edge:
    http_port: int
    https_port: int
    ca: ssl.SSLContext
    replicas: dict[str, Replica]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"https://127.0.0.1:{self.https_port}", verify=self.ca, trust_env=False
        )


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with status {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"{what} did not listen on port {port}")


def envsubst(
    envsubst_path: str, template: Path, names: tuple[str, ...], values: dict[str, str]
) -> str:
    """Render ``template`` substituting only ``names`` (nginx's own $variables stay)."""
    result = subprocess.run(
        [envsubst_path, " ".join(f"${{{name}}}" for name in names)],
        input=template.read_text(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={**values, "PATH": os.environ.get("PATH", "")},
    )
    return result.stdout


def make_certificate(openssl: str, folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(
        [openssl, "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    return cert, key


def render(
    tools: Callable[[str], str], folder: Path, replicas: list[int], ports: tuple[int, int]
) -> Path:
    """The two templates rendered into ``folder``; returns the main nginx.conf."""
    cert, key = make_certificate(tools("openssl"), folder)
    site_values = {
        "ATTRITION_UPSTREAM_SERVERS": "\n    ".join(
            f"server 127.0.0.1:{port} max_fails=2 fail_timeout=10s;" for port in replicas
        ),
        "ATTRITION_HTTP_PORT": str(ports[0]),
        "ATTRITION_HTTPS_PORT": str(ports[1]),
        "ATTRITION_PUBLIC_HTTPS_PORT": str(ports[1]),
        "ATTRITION_TLS_CERT": str(cert),
        "ATTRITION_TLS_KEY": str(key),
        "ATTRITION_MAX_BODY_SIZE": "1m",
        "ATTRITION_ACCESS_LOG": str(folder / "access.log"),
    }
    site = folder / "attrition.conf"
    envsubst_path = tools("envsubst")
    site.write_text(
        envsubst(
            envsubst_path, NGINX_DIR / "attrition.conf.template", SITE_PLACEHOLDERS, site_values
        )
    )
    main_values = {
        "ATTRITION_NGINX_RUNTIME_DIR": str(folder),
        "ATTRITION_NGINX_SITE_CONF": str(site),
    }
    main = folder / "nginx.conf"
    main.write_text(
        envsubst(envsubst_path, NGINX_DIR / "nginx.conf.template", MAIN_PLACEHOLDERS, main_values)
    )
    return main


def start_replica(name: str, port: int, folder: Path, failing_prefix: str, script: Path) -> Replica:
    log = folder / f"{name}.jsonl"
    process = subprocess.Popen(
        [sys.executable, str(script), str(port), name, str(log), failing_prefix]
    )
    wait_for_port(port, process, f"replica {name}")
    return Replica(name, port, log, process)


@pytest.fixture
def start_edge(
    tmp_path: Path, require_tool: Callable[[str], str], free_port: Callable[[], int]
) -> Iterator[Callable[[str], Edge]]:
    """``start_edge(failing_prefix)``: nginx on loopback in front of replicas r1 and r2.

    r1 answers 502 to POSTs under ``failing_prefix`` (empty: never).
    """
    processes: list[subprocess.Popen[bytes]] = []

    def start(failing_prefix: str = "") -> Edge:
        script = tmp_path / "replica.py"
        script.write_text(REPLICA)
        replicas = {
            "r1": start_replica("r1", free_port(), tmp_path, failing_prefix, script),
            "r2": start_replica("r2", free_port(), tmp_path, "", script),
        }
        processes.extend(replica.process for replica in replicas.values())
        ports = (free_port(), free_port())
        conf = render(require_tool, tmp_path, [r.port for r in replicas.values()], ports)
        nginx = require_tool("nginx")
        check = subprocess.run(
            [nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert check.returncode == 0, f"nginx -t rejected the rendered template:\n{check.stderr}"
        balancer = subprocess.Popen(
            [nginx, "-e", "stderr", "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"]
        )
        processes.append(balancer)
        wait_for_port(ports[1], balancer, "nginx")
        ca = ssl.create_default_context(cafile=str(tmp_path / "tls.crt"))
        return Edge(ports[0], ports[1], ca, replicas, processes)

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_templates_render_every_placeholder(
    tmp_path: Path, require_tool: Callable[[str], str]
) -> None:
    conf = render(require_tool, tmp_path, [18001, 18002], (18080, 18443))
    for path in (conf, tmp_path / "attrition.conf"):
        assert "${" not in path.read_text(), f"unrendered placeholder in {path.name}"
    site = (tmp_path / "attrition.conf").read_text()
    assert "server 127.0.0.1:18002 max_fails=2 fail_timeout=10s;" in site
    assert "$upstream_http_x_replica_id" in site, "nginx's own variables must survive"


def test_tls_terminates_and_requests_spread_over_both_replicas(
    start_edge: Callable[[str], Edge],
) -> None:
    edge = start_edge("")
    with edge.client() as client:
        answers = [client.get("/v1/model") for _ in range(12)]
    assert {answer.status_code for answer in answers} == {200}
    assert {answer.headers["x-replica-id"] for answer in answers} == {"r1", "r2"}
    seen = edge.replicas["r1"].requests() + edge.replicas["r2"].requests()
    assert {record["proto"] for record in seen} == {"https"}
    assert all(len(record["request_id"] or "") == 32 for record in seen)


def test_plain_http_redirects_to_https_and_the_balancer_reports_its_health(
    start_edge: Callable[[str], Edge],
) -> None:
    edge = start_edge("")
    with httpx.Client(base_url=f"http://127.0.0.1:{edge.http_port}", trust_env=False) as client:
        redirect = client.get("/v1/model")
        health = client.get("/nginx-health")
    assert redirect.status_code == 308
    assert redirect.headers["location"] == f"https://127.0.0.1:{edge.https_port}/v1/model"
    assert (health.status_code, health.text) == (200, "ok\n")


def test_oversized_body_is_refused_before_any_replica(start_edge: Callable[[str], Edge]) -> None:
    edge = start_edge("")
    with edge.client() as client:
        answer = client.post("/v1/predictions/batch", content=b"x" * (1024 * 1024 + 1))
    assert answer.status_code == 413
    assert edge.replicas["r1"].requests() == edge.replicas["r2"].requests() == []


def test_metrics_are_not_public(start_edge: Callable[[str], Edge]) -> None:
    edge = start_edge("")
    with edge.client() as client:
        assert client.get("/metrics").status_code == 404
    assert edge.replicas["r1"].requests() == edge.replicas["r2"].requests() == []


def test_a_killed_replica_loses_no_request(start_edge: Callable[[str], Edge]) -> None:
    edge = start_edge("")
    with edge.client() as client:
        assert client.get("/v1/model").status_code == 200
        edge.replicas["r1"].kill()
        answers = [client.post("/v1/predictions", json={"Age": 30}) for _ in range(10)]
        answers += [client.get("/v1/model") for _ in range(10)]
    assert {answer.status_code for answer in answers} == {200}
    assert {answer.headers["x-replica-id"] for answer in answers} == {"r2"}


def test_a_failing_replica_is_retried_with_the_same_request_id(
    start_edge: Callable[[str], Edge],
) -> None:
    edge = start_edge("/v1/predictions")
    with edge.client() as client:
        answers = [client.post("/v1/predictions", json={"Age": 30}) for _ in range(6)]
    assert {answer.status_code for answer in answers} == {200}
    failed = {record["request_id"] for record in edge.replicas["r1"].requests()}
    served = {record["request_id"] for record in edge.replicas["r2"].requests()}
    assert failed, "r1 was never tried"
    assert failed <= served, "a retried request must carry its original X-Request-Id"


def test_monitoring_runs_are_never_replayed_on_another_replica(
    start_edge: Callable[[str], Edge],
) -> None:
    edge = start_edge("/v1/monitoring/")
    with edge.client() as client:
        answers = [client.post("/v1/monitoring/run") for _ in range(6)]
    assert 502 in {answer.status_code for answer in answers}
    failed = {record["request_id"] for record in edge.replicas["r1"].requests()}
    served = {record["request_id"] for record in edge.replicas["r2"].requests()}
    assert failed and not failed & served
