"""Local scale-out without Docker: N API replicas on loopback behind Debian's nginx.

:class:`LocalCluster` starts N ``attrition serve`` processes on loopback ports, each with its
own ``ATTRITION_REPLICA_ID`` and otherwise this process's environment (so they share
``ATTRITION_DATABASE_URL``, ``ATTRITION_REDIS_URL``, the registry and ``var/``). It renders
nginx's configuration from the same templates as the compose stack (``deploy/nginx``:
least connections, passive health checks, retries on a dead replica, body size limit), runs
nginx unprivileged with every file it writes under one runtime folder, waits until every
replica and then the balancer answer ``/health/ready``, and stops everything in order:
nginx first (graceful), then the replicas (SIGTERM, so each flushes its prediction log),
SIGKILL for any process still running after the timeout.

Without TLS files the balancer speaks plain HTTP on the HTTP port (the template's TLS server
with its TLS lines removed); with them, HTTPS on the HTTPS port and a redirect on the HTTP
port, exactly as in compose.

Config rendering is pure (:func:`render_site`, :func:`render_main`); processes are the edge.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType

import httpx

from attrition.errors import AttritionError
from attrition.settings import Settings, get_settings

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
SITE_TEMPLATE = "attrition.conf.template"
MAIN_TEMPLATE = "nginx.conf.template"
_PLACEHOLDER = re.compile(r"\$\{(ATTRITION_[A-Z0-9_]+)\}")
_POLL_S = 0.2


# --- configuration ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TlsFiles:
    """A PEM certificate chain and its private key, served by nginx."""

    cert: Path
    key: Path


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
    for path in (config.tls.cert, config.tls.key) if config.tls else ():
        if not path.is_file():
            raise AttritionError(f"tls: {path} is not a file; give a PEM certificate and key")


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


def find_templates(configured: Path | None = None) -> Path:
    """The folder holding the nginx templates: the option, the source checkout, or ./deploy."""
    candidates = [configured] if configured else []
    candidates += [
        Path(__file__).resolve().parents[2] / "deploy" / "nginx",
        Path.cwd() / "deploy" / "nginx",
    ]
    for folder in candidates:
        if (folder / SITE_TEMPLATE).is_file() and (folder / MAIN_TEMPLATE).is_file():
            return folder
    raise AttritionError(
        f"templates_dir: no {SITE_TEMPLATE} and {MAIN_TEMPLATE} in "
        f"{', '.join(str(c) for c in candidates)}; run from the repository root or give the "
        "deploy/nginx folder"
    )


def find_nginx(configured: str | None = None) -> str:
    """The nginx binary (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which(configured or "nginx", path=search)
    if found is None:
        raise AttritionError(
            f"nginx: {configured or 'nginx'} not found; install Debian's nginx "
            "(apt-get install nginx-light) or give its path"
        )
    return found


# --- rendering (pure) ------------------------------------------------------------------
def placeholders(template: str) -> set[str]:
    """The ``${ATTRITION_*}`` names a template uses."""
    return set(_PLACEHOLDER.findall(template))


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Substitute ``${NAME}`` for the given names only, as ``envsubst '${NAME} ...'`` does.

    nginx's own ``$variables`` are left alone; a placeholder without a value is an error.
    """
    missing = sorted(placeholders(template) - set(values))
    if missing:
        raise AttritionError(f"nginx template: no value for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def upstream_servers(ports: list[int], max_fails: int, fail_timeout_s: int) -> str:
    """One ``server`` line per replica, with its passive health-check limits."""
    lines = [
        f"server {LOOPBACK}:{port} max_fails={max_fails} fail_timeout={fail_timeout_s}s;"
        for port in ports
    ]
    return "\n    ".join(lines)


def site_values(
    config: ClusterConfig, ports: list[int], runtime: Path, max_body_bytes: int
) -> dict[str, str]:
    """Values for ``attrition.conf.template``.

    Without TLS the HTTPS server becomes the plain one (see :func:`plain_http_site`), so its
    certificate lines are placeholders that never reach nginx.
    """
    tls = config.tls
    return {
        "ATTRITION_UPSTREAM_SERVERS": upstream_servers(
            ports, config.max_fails, config.fail_timeout_s
        ),
        "ATTRITION_HTTP_PORT": str(config.http_port),
        "ATTRITION_HTTPS_PORT": str(config.https_port if tls else config.http_port),
        "ATTRITION_PUBLIC_HTTPS_PORT": str(config.https_port),
        "ATTRITION_TLS_CERT": str(tls.cert.resolve()) if tls else "unused",
        "ATTRITION_TLS_KEY": str(tls.key.resolve()) if tls else "unused",
        "ATTRITION_MAX_BODY_SIZE": str(max_body_bytes),
        "ATTRITION_ACCESS_LOG": str(runtime / "access.log"),
    }


def _server_blocks(site: str) -> list[str]:
    """The top-level ``server { ... }`` blocks (the template opens and closes them at column
    0, with everything inside indented)."""
    return re.findall(r"^server \{\n.*?^\}\n", site, flags=re.MULTILINE | re.DOTALL)


def _one(blocks: list[str], marker: str) -> str:
    found = [block for block in blocks if marker in block]
    if len(found) != 1:
        raise AttritionError(
            f"nginx template: expected one server block with {marker!r}, found {len(found)}; "
            "plain-HTTP mode cannot adapt it (give TLS files instead)"
        )
    return found[0]


def plain_http_site(site: str, http_port: int) -> str:
    """A rendered site without TLS: the proxying server listens on ``http_port`` in plain
    HTTP (with the balancer's ``/nginx-health``), the HTTP-to-HTTPS redirect server is gone.
    """
    blocks = _server_blocks(site)
    redirect, proxy = _one(blocks, "return 308"), _one(blocks, " ssl default_server;")
    health = re.search(r"^    location = /nginx-health \{\n.*?^    \}\n", redirect, re.M | re.S)
    if health is None:
        raise AttritionError("nginx template: the redirect server lost its /nginx-health")
    kept = [
        line
        for line in proxy.splitlines(keepends=True)
        if not re.match(r"\s*(ssl_|add_header Strict-Transport-Security)", line)
    ]
    plain = re.sub(
        r"^    listen \S+ ssl default_server;\n",
        f"    listen {http_port} default_server;\n" + health.group(0),
        "".join(kept),
        flags=re.MULTILINE,
    )
    return site.replace(redirect, "").replace(proxy, plain)


def render_site(
    template: str, config: ClusterConfig, ports: list[int], runtime: Path, max_body_bytes: int
) -> str:
    """``attrition.conf`` for these replica ports, with or without TLS."""
    site = render_template(template, site_values(config, ports, runtime, max_body_bytes))
    return site if config.tls else plain_http_site(site, config.http_port)


def render_main(template: str, runtime: Path, site_conf: Path) -> str:
    """``nginx.conf`` keeping the pid file, logs and temp files under ``runtime``."""
    return render_template(
        template,
        {"ATTRITION_NGINX_RUNTIME_DIR": str(runtime), "ATTRITION_NGINX_SITE_CONF": str(site_conf)},
    )


def replica_env(base: Mapping[str, str], replica_id: str, settings: Settings) -> dict[str, str]:
    """A replica's environment: this process's, plus its id.

    ``MLFLOW_TRACKING_URI`` is set to the configured registry when absent, because MLflow
    resolves ``models:/`` artifact URIs against its process-wide registry URI, not the one a
    client was given.
    """
    env = dict(base)
    env["ATTRITION_REPLICA_ID"] = replica_id
    env.setdefault("MLFLOW_TRACKING_URI", settings.mlflow_tracking_uri)
    return env


def replica_command(port: int, workers: int, python: str = sys.executable) -> list[str]:
    """``attrition serve`` on a loopback port, in a child interpreter."""
    entry = "from attrition.cli import main; main()"
    return [python, "-c", entry, "serve", "--host", LOOPBACK, "--port", str(port),
            "--workers", str(workers)]  # fmt: skip


def nginx_command(nginx: str, runtime: Path, conf: Path, *, test: bool = False) -> list[str]:
    """nginx in the foreground (so this process owns it), prefix and logs under ``runtime``."""
    command = [nginx, "-e", str(runtime / "error.log"), "-p", str(runtime), "-c", str(conf)]
    return [*command, "-t", "-q"] if test else [*command, "-g", "daemon off;"]


def free_port() -> int:
    """A TCP port free on loopback a moment ago."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


# --- processes -------------------------------------------------------------------------
@dataclass
class Replica:
    """One ``attrition serve`` process."""

    replica_id: str
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def send_signal(self, signum: int) -> None:
        """Signal the replica (its uvicorn master, which passes it to its workers)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)


def _log_tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _spawn(command: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            command,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this process only; it stops the rest
        )


def _stop_processes(processes: list[subprocess.Popen[bytes]], signum: int, timeout: float) -> None:
    """Send ``signum``, wait up to ``timeout`` for all, then SIGKILL their process groups."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signum)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("process %d did not stop in %.0fs: killing it", process.pid, timeout)
            with suppress(ProcessLookupError):  # its own session: it and its workers
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _probe_context() -> ssl.SSLContext:
    """TLS for probing our own nginx on loopback: its certificate names the public host, not
    127.0.0.1, so it is not verified here (clients verify it)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass
class LocalCluster:
    """N replicas behind nginx; a context manager (``with LocalCluster(...) as cluster``)."""

    config: ClusterConfig = field(default_factory=ClusterConfig)
    settings: Settings | None = None
    env: Mapping[str, str] | None = None
    replicas: list[Replica] = field(default_factory=list, init=False)
    nginx: subprocess.Popen[bytes] | None = field(default=None, init=False)
    runtime: Path = field(default=Path(), init=False)
    _settings: Settings | None = field(default=None, init=False, repr=False)

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
        config = self.config
        validate_config(config)
        settings = self.settings or get_settings()
        for warning in cluster_warnings(settings, config.replicas):
            logger.warning("local cluster: %s", warning)
        nginx = find_nginx(config.nginx)
        templates = find_templates(config.templates_dir)
        self.runtime = self._prepare_runtime(settings)
        ports = list(config.replica_ports) or [free_port() for _ in range(config.replicas)]
        main_conf = self._write_configs(templates, ports, settings)
        self._check_nginx(nginx, main_conf)
        settings.pseudonym_secret()  # a generated key exists before replicas race to make it
        try:
            self._start_replicas(ports, settings)
            self._wait_replicas()
            self.nginx = _spawn(
                nginx_command(nginx, self.runtime, main_conf),
                os.environ,
                self.runtime / "nginx.out",
            )
            self._wait_balancer()
        except BaseException:
            self.stop()
            raise
        logger.info("local cluster: %d replicas ready behind %s", len(ports), self.url)

    def _prepare_runtime(self, settings: Settings) -> Path:
        runtime = (self.config.runtime_dir or settings.var_dir / "scaleout").resolve()
        runtime.mkdir(parents=True, exist_ok=True)
        pid_file = runtime / "nginx.pid"
        if pid_file.exists():
            pid = pid_file.read_text().strip()
            if pid.isdigit() and _alive(int(pid)):
                raise AttritionError(
                    f"runtime_dir: a local cluster already runs from {runtime} (nginx pid {pid}); "
                    "stop it or give another folder"
                )
            pid_file.unlink()
        return runtime

    def _write_configs(self, templates: Path, ports: list[int], settings: Settings) -> Path:
        site_conf, main_conf = self.runtime / "attrition.conf", self.runtime / "nginx.conf"
        site = (templates / SITE_TEMPLATE).read_text()
        site_conf.write_text(
            render_site(site, self.config, ports, self.runtime, settings.max_body_bytes)
        )
        main_conf.write_text(
            render_main((templates / MAIN_TEMPLATE).read_text(), self.runtime, site_conf)
        )
        return main_conf

    def _check_nginx(self, nginx: str, main_conf: Path) -> None:
        done = subprocess.run(
            nginx_command(nginx, self.runtime, main_conf, test=True),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            detail = (done.stderr.strip() or _log_tail(self.runtime / "error.log"))[-1500:]
            raise AttritionError(
                f"nginx rejected the rendered configuration {main_conf}:\n{detail}"
            )

    def _start_replicas(self, ports: list[int], settings: Settings) -> None:
        self._settings = settings
        for index, port in enumerate(ports, start=1):
            replica_id = f"{self.config.replica_id_prefix}-{index}"
            log = self.runtime / f"{replica_id}.log"
            self.replicas.append(
                Replica(replica_id, port, log, self._spawn_replica(replica_id, port, log))
            )

    def _spawn_replica(self, replica_id: str, port: int, log: Path) -> subprocess.Popen[bytes]:
        base = self.env if self.env is not None else os.environ
        settings = self._settings or get_settings()
        env = replica_env(base, replica_id, settings)
        return _spawn(replica_command(port, self.config.workers), env, log)

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
        with httpx.Client(timeout=2.0, trust_env=False, verify=_probe_context()) as client:
            self._wait_ready(client, self.url, self.nginx, self.runtime / "error.log", deadline)

    def _wait_ready(
        self,
        client: httpx.Client,
        base_url: str,
        process: subprocess.Popen[bytes],
        log: Path,
        deadline: float,
    ) -> None:
        last = "no answer"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AttritionError(
                    f"{base_url}: process exited with code {process.returncode} before it was "
                    f"ready; last lines of {log}:\n{_log_tail(log)}"
                )
            try:
                answer = client.get(f"{base_url}/health/ready")
            except httpx.HTTPError as error:
                last = type(error).__name__
            else:
                if answer.status_code == 200:
                    return
                last = f"HTTP {answer.status_code}: {answer.text[:200]}"
            time.sleep(_POLL_S)
        raise AttritionError(
            f"{base_url}/health/ready: not ready within {self.config.ready_timeout_s:.0f}s "
            f"({last}); see {log}"
        )

    def exited(self) -> tuple[str, int] | None:
        """The first process that is no longer running, as (name, exit code)."""
        for replica in self.replicas:
            code = replica.process.poll()
            if code is not None:
                return replica.replica_id, code
        if self.nginx is not None and self.nginx.poll() is not None:
            return "nginx", self.nginx.returncode
        return None

    def stop(self) -> None:
        """nginx first (graceful: SIGQUIT), then every replica (SIGTERM); SIGKILL for any
        process still running after the stop timeout. Safe to call more than once."""
        timeout = self.config.stop_timeout_s
        if self.nginx is not None:
            _stop_processes([self.nginx], signal.SIGQUIT, timeout)
        _stop_processes([replica.process for replica in self.replicas], signal.SIGTERM, timeout)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- foreground ------------------------------------------------------------------------
@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_local_cluster(
    replicas: int,
    *,
    http_port: int = 8080,
    https_port: int = 8443,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    workers: int = 1,
    runtime_dir: Path | None = None,
    on_ready: Callable[[LocalCluster], None] | None = None,
    on_exit: Callable[[str, int], None] | None = None,
    stop: threading.Event | None = None,
    max_restarts: int = 3,
) -> int:
    """Run a cluster in the foreground until Ctrl-C, SIGTERM or ``stop`` (exit code 0).

    ``on_ready(cluster)`` is called once every replica and the balancer answer; a replica that
    exits is restarted (see :func:`supervise`); exit code 1 when the cluster gives up."""
    if (tls_cert is None) != (tls_key is None):
        raise AttritionError("tls: give both the certificate (--tls-cert) and key (--tls-key)")
    tls = TlsFiles(tls_cert, tls_key) if tls_cert and tls_key else None
    config = ClusterConfig(
        replicas=replicas,
        http_port=http_port,
        https_port=https_port,
        tls=tls,
        workers=workers,
        runtime_dir=runtime_dir,
    )
    stop = stop or threading.Event()
    try:
        with _stop_on_sigterm(stop), LocalCluster(config) as cluster:
            if on_ready is not None:
                on_ready(cluster)
            return supervise(cluster, stop, on_exit=on_exit, max_restarts=max_restarts)
    except KeyboardInterrupt:
        return 0


def supervise(
    cluster: LocalCluster,
    stop: threading.Event,
    *,
    on_exit: Callable[[str, int], None] | None = None,
    max_restarts: int = 3,
) -> int:
    """Watch a started cluster until ``stop`` is set (0). A replica that exits is reported
    (``on_exit(replica id, code)``) and started again, up to ``max_restarts`` times each;
    past that, or when nginx exits, the cluster is given up (1). nginx keeps sending
    requests to the other replicas meanwhile."""
    restarts: dict[str, int] = {}
    while not stop.wait(_POLL_S):
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
