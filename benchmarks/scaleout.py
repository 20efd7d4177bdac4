"""Scale-out benchmark: throughput of 2 API replicas against 1, behind the same nginx.

    python benchmarks/scaleout.py [--seconds 15] [--connections 16] [--rounds 1]

Sets up what the local cluster needs: PostgreSQL and Redis (``ATTRITION_TEST_POSTGRES_URL`` and
``ATTRITION_TEST_REDIS_URL``, else throw-away servers of its own as the test suite starts them),
a fresh database, a champion trained by the training library with a tiny search
(or ``--mlflow-uri`` of an existing store), and a predictor key. Then, for 1 and for 2 replicas,
:class:`attrition.operations.cluster.LocalCluster` runs them behind nginx rendered from
``deploy/nginx`` (plain HTTP on loopback) and wrk (Debian package) drives
``POST /v1/predictions`` with workforce rows (``ATTRITION_REAL_DATA``, else synthetic) for a
fixed time after a short warm-up. Every request is authenticated, rate-limited through Redis,
validated, scored with explanations and logged to PostgreSQL.

The ratio is 2-replica throughput over 1-replica throughput measured in the same run. Read it
against the machine: replicas, nginx, PostgreSQL, Redis and wrk share its cores (``os.cpu_count()``
is printed), so on 2 cores the ceiling is well below 2x.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _workforce import start_services, workforce_csv

REPO = Path(__file__).resolve().parents[1]
REDIS_DATABASE = 12
WARMUP_S = 3


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database for this run, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"attrition_bench_{uuid.uuid4().hex[:12]}"
    admin_url = os.environ["ATTRITION_TEST_POSTGRES_URL"]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from attrition.db.engine import get_engine

        get_engine.cache_clear()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_url(database: int) -> str:
    return f"{os.environ['ATTRITION_TEST_REDIS_URL'].rsplit('/', 1)[0]}/{database}"


def configure(workdir: Path, database_url: str, mlflow_uri: str | None) -> None:
    """This process's settings; the replicas inherit them."""
    var = workdir / "var"
    os.environ.update(
        {
            "ATTRITION_VAR_DIR": str(var),
            "ATTRITION_DATABASE_URL": database_url,
            "ATTRITION_REDIS_URL": redis_url(REDIS_DATABASE),
            "ATTRITION_MLFLOW_TRACKING_URI": mlflow_uri or f"sqlite:///{var / 'mlflow.db'}",
            "ATTRITION_MLFLOW_ARTIFACT_ROOT": str(var / "mlartifacts"),
            "ATTRITION_OPTUNA_STORAGE": f"sqlite:///{var / 'optuna.db'}",
            "ATTRITION_PSEUDONYM_KEY": "benchmark-pseudonym-key",
            "ATTRITION_RATE_LIMIT_PER_MINUTE": "100000000",
            "ATTRITION_LOG_LEVEL": "WARNING",
            "ATTRITION_MODEL_POLL_SECONDS": "0",
            "ATTRITION_GATE_CONFIG": str(REPO / "configs" / "gate.yaml"),
        }
    )
    from attrition.settings import get_settings

    get_settings.cache_clear()


def prepare(frame: Any, train: bool) -> str:
    """Migrate; train and promote a champion (few trials) unless a store was given; a key."""
    from attrition import registry
    from attrition.db.migrate import upgrade
    from attrition.serving.platform.api_keys import create_key
    from attrition.settings import get_settings
    from attrition.training.pipeline import TrainingOptions
    from attrition.training.train import train_model

    settings = get_settings()
    upgrade(settings.database_url)
    if train:
        options = TrainingOptions.from_settings(
            settings, n_trials=2, timeout_s=60, cv_folds=3, cv_repeats=1, bootstrap_resamples=50
        )
        result = train_model(frame, options)
        if not result.promoted:
            config = registry.RegistryConfig.from_settings(settings)
            registry.promote(
                result.model_version, actor="benchmark", reason="benchmark", config=config
            )
    secret = settings.pseudonym_secret()
    key = create_key("bench", "predictor", database_url=settings.database_url, server_secret=secret)
    return str(key.secret)


def bodies(frame: Any, n: int = 200) -> list[str]:
    from attrition.schema import FEATURE_NAMES, IDENTIFIER

    records = frame[[IDENTIFIER, *FEATURE_NAMES]].head(n).to_dict("records")
    plain = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in records]
    return [json.dumps(row) for row in plain]


def wrk_script(path: Path, key: str, rows: list[str]) -> Path:
    """A wrk Lua script posting the rows in turn with the key."""
    table = ",\n".join(f"[==[{row}]==]" for row in rows)
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["X-API-Key"] = "{key}"\n'
        f"local bodies = {{\n{table}\n}}\n"
        "local i = 0\n"
        "request = function()\n  i = i % #bodies + 1\n"
        "  return wrk.format(nil, nil, nil, bodies[i])\nend\n"
    )
    return path


def run_wrk(url: str, script: Path, seconds: float, connections: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: apt-get install wrk (listed in .ci/run)")
    command = [wrk, "-t", "1", "-c", str(connections), "-d", f"{int(seconds)}s", "--latency",
               "-s", str(script), url]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> dict[str, Any]:
    def number(pattern: str) -> str:
        found = re.search(pattern, output)
        if found is None:
            raise ValueError(f"wrk output without {pattern!r}:\n{output}")
        return found.group(1)

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {
        "requests": int(number(r"(\d+) requests in")),
        "throughput": float(number(r"Requests/sec:\s+([\d.]+)")),
        "p50_ms": ms(number(r"\s50%\s+(\S+)")),
        "p99_ms": ms(number(r"\s99%\s+(\S+)")),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": "Socket errors" in output,
    }


def measure(
    replicas: int, key: str, rows: list[str], args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    """Throughput of ``replicas`` replicas behind nginx, after a warm-up."""
    from attrition.operations.cluster import ClusterConfig, LocalCluster
    from attrition.operations.processes import free_port
    from attrition.settings import get_settings

    runtime = workdir / f"runtime-{replicas}-{time.monotonic_ns()}"
    config = ClusterConfig(replicas=replicas, http_port=free_port(), runtime_dir=runtime)
    script = wrk_script(workdir / "post.lua", key, rows)
    started = time.monotonic()
    with LocalCluster(config, get_settings()) as cluster:
        startup = time.monotonic() - started
        url = f"{cluster.url}/v1/predictions"
        run_wrk(url, script, WARMUP_S, args.connections)
        result = run_wrk(url, script, args.seconds, args.connections)
    return {"replicas": replicas, "startup_s": round(startup, 1), **result}


def report(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Best throughput per replica count and the 2-vs-1 ratio."""
    best = {
        n: max((r for r in results if r["replicas"] == n), key=lambda r: r["throughput"])
        for n in (1, 2)
    }
    for n, result in best.items():
        print(
            f"{n} replica(s) behind nginx: {result['throughput']:,.0f} predictions/s "
            f"(p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            f"{result['non_2xx']} non-2xx, started in {result['startup_s']} s)"
        )
    ratio = best[2]["throughput"] / best[1]["throughput"]
    print(
        f"2 replicas vs 1: {ratio:.2f}x throughput on {os.cpu_count()} CPU cores shared by "
        "the replicas, nginx, PostgreSQL, Redis and wrk"
    )
    return {"ratio": ratio, "cpu_count": os.cpu_count(), "runs": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="1-then-2 measurements each")
    parser.add_argument("--mlflow-uri", default=None, help="an existing store with a champion")
    args = parser.parse_args()
    import pandas as pd

    workdir = Path(tempfile.mkdtemp(prefix="attrition-bench-scaleout-"))
    services = start_services()
    try:
        with fresh_database() as database_url:
            configure(workdir, database_url, args.mlflow_uri)
            frame = pd.read_csv(workforce_csv(workdir))
            key = prepare(frame, train=args.mlflow_uri is None)
            rows = bodies(frame)
            results = []
            for round_ in range(args.rounds):
                order = (1, 2) if round_ % 2 == 0 else (2, 1)
                results += [measure(n, key, rows, args, workdir) for n in order]
            print(json.dumps(report(results)))
    finally:
        services.stop()  # type: ignore[attr-defined]
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
