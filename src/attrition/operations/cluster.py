"""Local scale-out without Docker: N API replicas on loopback behind Debian's nginx.

:class:`LocalCluster` starts N ``attrition serve`` processes on loopback ports, each with its
own ``ATTRITION_REPLICA_ID`` and otherwise the given environment (so they share
``ATTRITION_DATABASE_URL``, ``ATTRITION_REDIS_URL``, the registry and ``var/``). It renders
nginx's configuration (:mod:`attrition.operations.nginx`), runs nginx unprivileged with every
file it writes under one runtime folder, waits until every replica and then the balancer
answer ``/health/ready``, and stops everything in order: nginx first (graceful), then the
replicas (SIGTERM, so each flushes its prediction log), SIGKILL for any process still running
after the timeout. :func:`run_local_cluster` runs one in the foreground (``attrition
cluster``), restarting replicas that exit.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from attrition.errors import AttritionError
from attrition.operations import processes
from attrition.operations.nginx import (
    check_configs,
    find_nginx,
    find_templates,
    nginx_command,
    write_configs,
)
from attrition.operations.processes import LOOPBACK, POLL_S, ExitListener, Process, free_port
from attrition.operations.tls import TlsFiles, check_tls_files, probe_context
from attrition.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """How to run the cluster; every path and port has a working default."""

    replicas: int = 2
    http_port: int = 8080
    https_port: int = 8443
    tls: TlsFiles | None = None
    workers: int = 1
    replica_ports: tuple[int, ...] = ()
    runtime_dir: Path | None = None
    templates_dir: Path | None = None
    max_fails: int = 3
    fail_timeout_s: int = 10
    ready_timeout_s: float = 180.0
    stop_timeout_s: float = 15.0
    replica_id_prefix: str = "replica"
    nginx: str | None = None


def validate_config(config: ClusterConfig) -> None:
    """Refuse impossible settings with a message naming the option and allowed values."""
    if config.replicas < 1:
        raise AttritionError(f"replicas: {config.replicas} is not allowed; use 1 or more")
    if config.workers < 1:
        raise AttritionError(f"workers: {config.workers} is not allowed; use 1 or more")
    ports = {"http_port": config.http_port, "https_port": config.https_port}
    for name, port in ports.items():
        if not 1 <= port <= 65535:
            raise AttritionError(f"{name}: {port} is not allowed; use 1 to 65535")
    if config.tls is not None and config.http_port == config.https_port:
        raise AttritionError("https_port: must differ from http_port when TLS is on")
    if config.replica_ports and len(config.replica_ports) != config.replicas:
        raise AttritionError(
            f"replica_ports: {len(config.replica_ports)} given; give one per replica "
            f"({config.replicas}) or none for free ports"
        )
    check_tls_files(config.tls)


def cluster_warnings(settings: Settings, replicas: int) -> list[str]:
    """What makes several replicas behave differently from one (empty: nothing)."""
    if replicas < 2:
        return []
    warnings = []
    if not settings.redis_url:
        warnings.append(
            "ATTRITION_REDIS_URL is not set: each replica keeps its own rate limit, so a key "
            f"may make up to {replicas} x ATTRITION_RATE_LIMIT_PER_MINUTE requests"
        )
    if settings.database_url.startswith("sqlite"):
        warnings.append(
            "ATTRITION_DATABASE_URL is a SQLite file: replicas take turns writing to it; "
            "use PostgreSQL for more than one replica"
        )
    return warnings


def replica_env(base: Mapping[str, str], replica_id: str, settings: Settings) -> dict[str, str]:
    """A replica's environment: the given one, plus its id.

    ``MLFLOW_TRACKING_URI`` is set to the configured registry when absent, because MLflow
    resolves ``models:/`` artifact URIs against its process-wide registry URI, not the one a
    client was given.
    """
    env = dict(base)
    env["ATTRITION_REPLICA_ID"] = replica_id
    env.setdefault("MLFLOW_TRACKING_URI", settings.mlflow_tracking_uri)
    return env


@dataclass
class Replica:
    """One ``attrition serve`` process."""

    replica_id: str
    port: int
    log: Path
    process: Process

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def send_signal(self, signum: int) -> None:
        """Signal the replica (its uvicorn master, which passes it to its workers)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)


def _readiness(client: httpx.Client, base_url: str) -> str | None:
    """None when ``/health/ready`` answers 200, else what it answered instead."""
    try:
        answer = client.get(f"{base_url}/health/ready")
    except httpx.HTTPError as error:
        return type(error).__name__
    if answer.status_code == 200:
        return None
    return f"HTTP {answer.status_code}: {answer.text[:200]}"


@dataclass
class LocalCluster:
    """N replicas behind nginx; a context manager (``with LocalCluster(...) as cluster``).

    Replicas get ``env`` (default: this process's environment) and read ``settings`` from
    it; ``settings`` are the same values as this process sees them (registry, var folder,
    shared services)."""

    config: ClusterConfig
    settings: Settings
    env: Mapping[str, str] | None = None
    replicas: list[Replica] = field(default_factory=list, init=False)
    nginx: Process | None = field(default=None, init=False)
    runtime: Path = field(default=Path(), init=False)

    @property
    def url(self) -> str:
        """The balancer's base URL clients use."""
        if self.config.tls:
            return f"https://{LOOPBACK}:{self.config.https_port}"
        return f"http://{LOOPBACK}:{self.config.http_port}"

    def replica(self, replica_id: str) -> Replica:
        """The replica with this id."""
        for replica in self.replicas:
            if replica.replica_id == replica_id:
                return replica
        known = ", ".join(r.replica_id for r in self.replicas)
        raise AttritionError(f"replica: {replica_id!r} is not running; known: {known}")

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Render the config, start replicas and nginx, and wait until all are ready."""
        nginx, main_conf, ports = self._prepare()
        self.settings.pseudonym_secret()  # a generated key exists before replicas race to make it
        try:
            self._start_replicas(ports)
            self._wait_replicas()
            command = nginx_command(nginx, self.runtime, main_conf)
            self.nginx = processes.start(command, os.environ, log=self.runtime / "nginx.out")
            self._wait_balancer()
        except BaseException:
            self.stop()
            raise
        logger.info("local cluster: %d replicas ready behind %s", len(ports), self.url)

    def _prepare(self) -> tuple[str, Path, list[int]]:
        """Check options, tools and templates; write and check nginx's configuration.
        Returns the nginx binary, its main configuration and the replicas' ports."""
        config = self.config
        validate_config(config)
        for warning in cluster_warnings(self.settings, config.replicas):
            logger.warning("local cluster: %s", warning)
        nginx = find_nginx(config.nginx)
        templates = find_templates(config.templates_dir)
        self.runtime = self._prepare_runtime()
        ports = list(config.replica_ports) or [free_port() for _ in range(config.replicas)]
        body_limit = self.settings.max_body_bytes
        main_conf = write_configs(templates, self.runtime, config, ports, body_limit)
        check_configs(nginx, self.runtime, main_conf)
        return nginx, main_conf, ports

    def _prepare_runtime(self) -> Path:
        runtime = (self.config.runtime_dir or self.settings.var_dir / "scaleout").resolve()
        runtime.mkdir(parents=True, exist_ok=True)
        pid_file = runtime / "nginx.pid"
        if pid_file.exists():
            pid = pid_file.read_text().strip()
            if pid.isdigit() and processes.alive(int(pid)):
                raise AttritionError(
                    f"runtime_dir: a local cluster already runs from {runtime} (nginx pid {pid}); "
                    "stop it or give another folder"
                )
            pid_file.unlink()
        return runtime

    def _start_replicas(self, ports: list[int]) -> None:
        for index, port in enumerate(ports, start=1):
            replica_id = f"{self.config.replica_id_prefix}-{index}"
            log = self.runtime / f"{replica_id}.log"
            self.replicas.append(
                Replica(replica_id, port, log, self._spawn_replica(replica_id, port, log))
            )

    def _spawn_replica(self, replica_id: str, port: int, log: Path) -> Process:
        base = self.env if self.env is not None else os.environ
        env = replica_env(base, replica_id, self.settings)
        command = processes.serve_command(LOOPBACK, port, self.config.workers)
        return processes.start(command, env, log=log)

    def restart_replica(self, replica_id: str) -> Replica:
        """Start an exited replica again on its port (nginx keeps its address); returns it
        without waiting for it to be ready."""
        replica = self.replica(replica_id)
        if replica.process.poll() is None:
            raise AttritionError(f"replica: {replica_id} is still running")
        replica.process = self._spawn_replica(replica_id, replica.port, replica.log)
        return replica

    def _wait_replicas(self) -> None:
        deadline = time.monotonic() + self.config.ready_timeout_s
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            for replica in self.replicas:
                self._wait_ready(client, replica.url, replica.process, replica.log, deadline)

    def _wait_balancer(self) -> None:
        assert self.nginx is not None
        deadline = time.monotonic() + self.config.ready_timeout_s
        with httpx.Client(timeout=2.0, trust_env=False, verify=probe_context()) as client:
            self._wait_ready(client, self.url, self.nginx, self.runtime / "error.log", deadline)

    def _wait_ready(
        self, client: httpx.Client, base_url: str, process: Process, log: Path, deadline: float
    ) -> None:
        last = "no answer"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AttritionError(
                    f"{base_url}: process exited with code {process.returncode} before it was "
                    f"ready; last lines of {log}:\n{processes.log_tail(log)}"
                )
            not_ready = _readiness(client, base_url)
            if not_ready is None:
                return
            last = not_ready
            time.sleep(POLL_S)
        raise AttritionError(
            f"{base_url}/health/ready: not ready within {self.config.ready_timeout_s:.0f}s "
            f"({last}); see {log}"
        )

    def exited(self) -> tuple[str, int] | None:
        """The first process that is no longer running, as (name, exit code)."""
        children = {replica.replica_id: replica.process for replica in self.replicas}
        if self.nginx is not None:
            children["nginx"] = self.nginx
        return processes.first_exit(children)

    def stop(self) -> None:
        """nginx first (graceful: SIGQUIT), then every replica (SIGTERM); SIGKILL for any
        process still running after the stop timeout. Safe to call more than once."""
        timeout = self.config.stop_timeout_s
        if self.nginx is not None:
            processes.stop({"nginx": self.nginx}, signal.SIGQUIT, timeout)
        replicas = {replica.replica_id: replica.process for replica in self.replicas}
        processes.stop(replicas, signal.SIGTERM, timeout)


# --- foreground ------------------------------------------------------------------------
def run_local_cluster(
    config: ClusterConfig,
    settings: Settings,
    *,
    on_ready: Callable[[LocalCluster], None] | None = None,
    on_exit: ExitListener | None = None,
    stop: threading.Event | None = None,
    max_restarts: int = 3,
) -> int:
    """Run a cluster in the foreground until Ctrl-C, SIGTERM or ``stop`` (exit code 0).

    ``on_ready(cluster)`` is called once every replica and the balancer answer; a replica that
    exits is restarted (see :func:`supervise_replicas`); exit code 1 when the cluster gives
    up."""
    stopping = stop or threading.Event()
    try:
        with (
            processes.signals_caught(lambda _: stopping.set(), (signal.SIGTERM,)),
            LocalCluster(config, settings) as cluster,
        ):
            if on_ready is not None:
                on_ready(cluster)
            return supervise_replicas(cluster, stopping, on_exit=on_exit, max_restarts=max_restarts)
    except KeyboardInterrupt:
        return 0


def supervise_replicas(
    cluster: LocalCluster,
    stop: threading.Event,
    *,
    on_exit: ExitListener | None = None,
    max_restarts: int = 3,
) -> int:
    """Watch a started cluster until ``stop`` is set (0). A replica that exits is reported
    (``on_exit(replica id, code)``) and started again, up to ``max_restarts`` times each;
    past that, or when nginx exits, the cluster is given up (1). nginx keeps sending
    requests to the other replicas meanwhile."""
    restarts: dict[str, int] = {}
    while not stop.wait(POLL_S):
        ended = cluster.exited()
        if ended is None:
            continue
        name, code = ended
        if on_exit is not None:
            on_exit(name, code)
        if name == "nginx" or restarts.get(name, 0) >= max_restarts:
            logger.error("local cluster: %s exited with code %d; stopping", name, code)
            return 1
        restarts[name] = restarts.get(name, 0) + 1
        logger.warning("local cluster: %s exited with code %d; restarting it", name, code)
        cluster.restart_replica(name)
    return 0
