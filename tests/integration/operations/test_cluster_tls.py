"""Two API replicas behind Debian's nginx on loopback, over TLS, with real PostgreSQL and
Redis: requests are spread over both, one rate limit holds across them, and HTTPS works
with a certificate made by openssl. One cluster serves this module (each test its own key).
"""

from __future__ import annotations

import ssl
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from attrition.operations.cluster import ClusterConfig, LocalCluster
from attrition.operations.processes import free_port
from attrition.operations.tls import TlsFiles

pytestmark = pytest.mark.integration

RATE_LIMIT = 12  # per key per minute: one request every 5 s after a burst of 12
REPLICA_IDS = {"replica-1", "replica-2"}


class Edge:
    """The running cluster and how to call it."""

    def __init__(self, cluster: LocalCluster, env: dict[str, str], cert: Path) -> None:
        self.cluster, self.env = cluster, env
        self.ca = ssl.create_default_context(cafile=str(cert))

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(
            base_url=self.cluster.url, verify=self.ca, headers=headers, trust_env=False, timeout=30
        )


@pytest.fixture(scope="module")
def edge(
    support: ModuleType, champion: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Edge]:
    root = tmp_path_factory.mktemp("scaleout-tls")
    cert, key = support.make_certificate(root / "certs")
    config = ClusterConfig(
        replicas=2,
        http_port=free_port(),
        https_port=free_port(),
        tls=TlsFiles(cert, key),
        runtime_dir=root / "runtime",
    )
    with support.fresh_postgres() as database_url:
        env = support.cluster_env(
            root, database_url, champion, rate_limit_per_minute=str(RATE_LIMIT)
        )
        with LocalCluster(config, support.settings_from(env), env) as cluster:
            yield Edge(cluster, env, cert)


def predict(client: httpx.Client, employees: Any, n: int) -> list[httpx.Response]:
    return [client.post("/v1/predictions", json=employees.body(i)) for i in range(n)]


def test_requests_are_spread_over_both_replicas(
    edge: Edge, support: ModuleType, employees: Any
) -> None:
    with edge.client(support.new_key(edge.env)) as client:
        answers = predict(client, employees, 10)
    assert [a.status_code for a in answers] == [200] * 10
    served = Counter(a.headers["x-replica-id"] for a in answers)
    assert set(served) == REPLICA_IDS
    assert min(served.values()) >= 3, served
    wanted = {a.headers["x-request-id"] for a in answers}
    logged = support.wait_for_logged(edge.env["ATTRITION_DATABASE_URL"], wanted)
    assert wanted <= set(logged), "every answered prediction is logged once flushed"


def test_one_rate_limit_holds_across_replicas(
    edge: Edge, support: ModuleType, employees: Any
) -> None:
    """L + k requests within the refill interval, spread over both replicas: exactly k are
    refused (per-replica limits would refuse none)."""
    extra = 5
    with edge.client(support.new_key(edge.env)) as client:
        answers = predict(client, employees, RATE_LIMIT + extra)
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {200: RATE_LIMIT, 429: extra}
    assert {a.headers["x-replica-id"] for a in answers if a.status_code == 200} == REPLICA_IDS
    assert {a.headers["x-replica-id"] for a in answers if a.status_code == 429} == REPLICA_IDS
    for refused in (a for a in answers if a.status_code == 429):
        assert 1 <= int(refused.headers["retry-after"]) <= 60 // RATE_LIMIT


def test_https_with_a_self_signed_certificate(
    edge: Edge, support: ModuleType, employees: Any
) -> None:
    with edge.client(support.new_key(edge.env, "viewer")) as client:
        ready = client.get("/health/ready")
        model = client.get("/v1/model")
        refused = client.post("/v1/predictions", json=employees.body(0))
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert model.status_code == 200 and model.json()["version"]
    assert refused.status_code == 403  # viewer key: the API's own checks, through TLS
    assert ready.headers["strict-transport-security"] == "max-age=31536000"
    assert ready.headers["x-replica-id"] in REPLICA_IDS
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{edge.cluster.url}/health/ready", trust_env=False)  # not trusted by default
    plain = f"http://127.0.0.1:{edge.cluster.config.http_port}"
    redirect = httpx.get(f"{plain}/v1/model", trust_env=False)
    assert redirect.status_code == 308
    assert redirect.headers["location"] == f"{edge.cluster.url}/v1/model"


def test_the_balancer_hides_metrics_and_limits_bodies(edge: Edge, support: ModuleType) -> None:
    with edge.client(support.new_key(edge.env)) as client:
        metrics = client.get("/metrics")
        too_big = client.post(
            "/v1/predictions/batch",
            content=b"x" * (2_000_000 + 1),
            headers={"Content-Type": "application/json"},
        )
    assert metrics.status_code == 404
    assert too_big.status_code == 413
