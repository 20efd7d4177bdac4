"""Throw-away PostgreSQL and Redis servers for the test suite (and the benchmarks).

The suite never relies on servers already running on the machine, on their ports or on a
``trust`` login: each test session starts its own PostgreSQL cluster (``initdb`` into a
temporary folder, password authentication, a free loopback port) and its own Redis (a
password, a free port, nothing on disk), and stops both at the end. Set
``ATTRITION_TEST_POSTGRES_URL`` / ``ATTRITION_TEST_REDIS_URL`` to use servers of your own
instead (the admin database URL, and a Redis URL whose database the tests may flush).

PostgreSQL refuses to run as root; as root the cluster runs as the ``postgres`` user that
Debian's package creates (``nobody`` where there is none).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_ENV = "ATTRITION_TEST_POSTGRES_URL"
REDIS_ENV = "ATTRITION_TEST_REDIS_URL"
POSTGRES_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/usr/pgsql-*/bin")


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_bin() -> Path | None:
    """The folder of the newest installed PostgreSQL server binaries, if any."""
    on_path = shutil.which("initdb")
    if on_path and (Path(on_path).parent / "postgres").exists():
        return Path(on_path).parent
    candidates = [p for pattern in POSTGRES_SEARCH for p in Path("/").glob(pattern.lstrip("/"))]
    found = [p for p in candidates if (p / "initdb").exists() and (p / "postgres").exists()]
    return max(found, key=_version_key) if found else None


def _version_key(folder: Path) -> tuple[int, ...]:
    digits = "".join(c if c.isdigit() else " " for c in str(folder))
    return tuple(int(part) for part in digits.split())


def _server_user() -> str | None:
    """Who runs PostgreSQL: ourselves, or as root the ``postgres`` (else ``nobody``) user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise RuntimeError("running as root, and neither a postgres nor a nobody user exists")


def _wait_for(check: Callable[[], bool], what: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s\n{tail}")


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PostgresServer:
    """A PostgreSQL cluster of its own in ``folder``: password login, loopback only."""

    folder: Path
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_hex(16))
    database: str = "test"
    process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    def url(self, database: str | None = None) -> str:
        name = database or self.database
        return f"postgresql+psycopg://postgres:{self.password}@127.0.0.1:{self.port}/{name}"

    def _run(self, *command: str) -> subprocess.CompletedProcess[bytes]:
        user = _server_user()
        return subprocess.run(
            list(command), check=True, capture_output=True, timeout=120, user=user
        )

    def init(self) -> PostgresServer:
        """initdb with a password for ``postgres``, start, create the test database."""
        binaries = postgres_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL server binaries not found (Debian package postgresql)")
        self.folder.mkdir(parents=True, exist_ok=True)
        secret = self.folder / "pwfile"
        secret.write_text(self.password)
        user = _server_user()
        if user is not None:
            shutil.chown(self.folder, user)
            shutil.chown(secret, user)
        self.folder.chmod(0o700)
        self._run(
            str(binaries / "initdb"), "-D", str(self.data), "-U", "postgres",
            f"--pwfile={secret}", "--auth=scram-sha-256", "-E", "UTF8", "--no-locale",
            "--no-sync",
        )  # fmt: skip
        secret.unlink()
        self.start()
        self._create_database()
        return self

    def start(self) -> None:
        binaries = postgres_bin()
        assert binaries is not None
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                str(binaries / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-k", str(self.folder), "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=300",
            ],
            stdout=log, stderr=subprocess.STDOUT, user=_server_user(), start_new_session=True,
        )  # fmt: skip
        _wait_for(self._ready, "PostgreSQL", self.log)

    def _ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def _dsn(self, database: str) -> str:
        return (
            f"host=127.0.0.1 port={self.port} user=postgres password={self.password} "
            f"dbname={database}"
        )

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database}"')

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open sessions are ended, the cluster stays on disk."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class RedisServer:
    """A Redis of its own: a password, a free loopback port, nothing kept on disk."""

    folder: Path
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError("redis-server not found (Debian package redis-server)")
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "redis.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\nrequirepass {self.password}\n"
            f'save ""\nappendonly no\ndir {self.folder}\n'
        )
        config.chmod(0o600)
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [binary, str(config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        _wait_for(lambda: _accepts(self.port), "Redis", self.folder / "redis.log")
        return self

    def remove(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class SessionServices:
    """The servers one test session started (none when the user named their own)."""

    postgres: PostgresServer | None = None
    redis: RedisServer | None = None

    def stop(self) -> None:
        if self.postgres is not None:
            self.postgres.remove()
        if self.redis is not None:
            self.redis.remove()


def start_test_services() -> SessionServices:
    """Start what ``ATTRITION_TEST_POSTGRES_URL`` / ``_REDIS_URL`` do not name, and set them."""
    services = SessionServices()
    try:
        if not os.environ.get(POSTGRES_ENV):
            services.postgres = PostgresServer(new_folder("pg")).init()
            os.environ[POSTGRES_ENV] = services.postgres.url()
        if not os.environ.get(REDIS_ENV):
            services.redis = RedisServer(new_folder("redis")).start()
            os.environ[REDIS_ENV] = services.redis.url()
    except BaseException:
        services.stop()
        raise
    return services


def new_folder(kind: str) -> Path:
    """A fresh folder under the system temp dir (not pytest's: that one is 0700 to root)."""
    return Path(tempfile.mkdtemp(prefix=f"attrition-{kind}-"))


def postgres_admin_url() -> str:
    """The admin URL of the test PostgreSQL server (its ``test`` database)."""
    return os.environ[POSTGRES_ENV]


def redis_test_url(database: int = 0) -> str:
    """The test Redis, at logical database ``database``."""
    base = os.environ[REDIS_ENV]
    return f"{base.rsplit('/', 1)[0]}/{database}"
