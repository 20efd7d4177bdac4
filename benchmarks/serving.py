"""Serving benchmark: the project's API against MLflow's own scoring server, and offline
batch scoring against the scikit-learn pipeline. Every ratio compares numbers measured in
the same run on the same champion.

    python benchmarks/serving.py api [--seconds 20] [--connections 8]
    python benchmarks/serving.py offline [--rows 50000]
    python benchmarks/serving.py loadgen --url URL --key KEY --bodies FILE ...

``api`` trains a champion with the training library (a few trials), starts
``mlflow models serve`` (one worker, ``--env-manager local``) and ``attrition serve
--workers 2``, and drives both with wrk (Debian package; an async httpx client when wrk
is missing) with the same single-row and batch workloads. The project's single-row
requests carry auth, validation, top factors and prediction logging.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _workforce import workforce_csv

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BATCH_ROWS = 100


# --- load generation ------------------------------------------------------------------
async def _drive(
    url: str, headers: dict[str, str], bodies: list[bytes], seconds: float, connections: int
) -> dict[str, Any]:
    import httpx

    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker(offset: int) -> None:
            i = offset
            while time.perf_counter() < deadline:
                body = bodies[i % len(bodies)]
                i += connections
                start = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers=headers)
                    statuses[str(response.status_code)] += 1
                except httpx.HTTPError as error:
                    statuses[f"error:{type(error).__name__}"] += 1
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "statuses": dict(statuses),
        "throughput": len(latencies) / elapsed,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
    }


def _percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def loadgen(args: argparse.Namespace) -> None:
    rows = json.loads(Path(args.bodies).read_text())
    bodies = [json.dumps(row).encode() for row in rows]
    headers = {"Content-Type": "application/json"}
    if args.key:
        headers["Authorization"] = f"Bearer {args.key}"
    result = asyncio.run(_drive(args.url, headers, bodies, args.seconds, args.connections))
    Path(args.out).write_text(json.dumps(result))
    print(json.dumps(result))


def _wrk(
    url: str,
    headers: dict[str, str],
    bodies: list[str],
    seconds: float,
    connections: int,
    workdir: Path,
) -> dict[str, Any]:
    """wrk with a Lua script cycling through the bodies; latency from wrk's histogram."""
    script = workdir / f"wrk-{abs(hash(url)) % 10_000}.lua"
    header_lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    table = ",\n".join(f"[==[{b}]==]" for b in bodies)
    script.write_text(
        f'wrk.method = "POST"\n{header_lines}\nlocal bodies = {{\n{table}\n}}\n'
        "local i = 0\nrequest = function()\n  i = i % #bodies + 1\n"
        "  return wrk.format(nil, nil, nil, bodies[i])\nend\n"
    )
    command = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{int(seconds)}s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return _parse_wrk(output)


def _parse_wrk(output: str) -> dict[str, Any]:
    def duration_ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    p50 = duration_ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = duration_ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    return {
        "requests": total,
        "throughput": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else None,
    }


def drive(
    url: str,
    headers: dict[str, str],
    bodies: list[str],
    seconds: float,
    connections: int,
    workdir: Path,
) -> dict[str, Any]:
    if shutil.which("wrk"):
        return {"tool": "wrk", **_wrk(url, headers, bodies, seconds, connections, workdir)}
    rows = workdir / "bodies.json"
    rows.write_text(json.dumps([json.loads(b) for b in bodies]))
    out = workdir / "loadgen.json"
    key = headers.get("Authorization", "").removeprefix("Bearer ")
    command = [
        sys.executable,
        __file__,
        "loadgen",
        "--url",
        url,
        "--bodies",
        str(rows),
        "--seconds",
        str(seconds),
        "--connections",
        str(connections),
        "--out",
        str(out),
    ]
    if key:
        command += ["--key", key]
    subprocess.run(command, check=True, capture_output=True)
    return {"tool": "httpx", **json.loads(out.read_text())}


# --- set-up ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def configure(workdir: Path) -> dict[str, str]:
    var = workdir / "var"
    env = {
        "ATTRITION_VAR_DIR": str(var),
        "ATTRITION_DATABASE_URL": f"sqlite:///{var / 'attrition.db'}",
        "ATTRITION_MLFLOW_TRACKING_URI": f"sqlite:///{var / 'mlflow.db'}",
        "ATTRITION_MLFLOW_ARTIFACT_ROOT": str(var / "mlartifacts"),
        "ATTRITION_OPTUNA_STORAGE": f"sqlite:///{var / 'optuna.db'}",
        "ATTRITION_PSEUDONYM_KEY": "benchmark-pseudonym-key",
        "ATTRITION_RATE_LIMIT_PER_MINUTE": "100000000",
        "ATTRITION_LOG_LEVEL": "WARNING",
        "ATTRITION_MODEL_POLL_SECONDS": "0",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }
    os.environ.update(env)
    from attrition.settings import get_settings

    get_settings.cache_clear()
    return env


def prepare_champion(frame: Any) -> str:
    """Train a champion with the training library (few trials) and make it the champion."""
    from attrition import registry
    from attrition.db.migrate import upgrade
    from attrition.settings import get_settings
    from attrition.training.pipeline import TrainingOptions
    from attrition.training.train import train_model

    settings = get_settings()
    upgrade(settings.database_url)
    options = TrainingOptions.from_settings(
        settings,
        n_trials=3,
        timeout_s=120,
        cv_folds=3,
        cv_repeats=1,
        bootstrap_resamples=50,
        gate_config=REPO / "configs" / "gate.yaml",
    )
    result = train_model(frame, options)
    if not result.promoted:
        registry.promote(
            result.model_version,
            actor="benchmark",
            reason="benchmark champion",
            config=registry.RegistryConfig.from_settings(settings),
        )
    return str(result.model_version)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready in {timeout}s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _records(frame: Any, n: int) -> list[dict[str, Any]]:
    from attrition.schema import FEATURE_NAMES, IDENTIFIER

    columns = [IDENTIFIER, *FEATURE_NAMES]
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame[columns].head(n).to_dict("records")
    ]


def api(args: argparse.Namespace) -> dict[str, Any]:
    import pandas as pd

    workdir = Path(tempfile.mkdtemp(prefix="attrition-bench-"))
    env = configure(workdir)
    frame = pd.read_csv(workforce_csv(workdir))
    version = prepare_champion(frame)
    from attrition.serving.platform.api_keys import create_key
    from attrition.settings import get_settings

    settings = get_settings()
    key = create_key(
        "bench",
        "predictor",
        database_url=settings.database_url,
        server_secret=settings.pseudonym_secret(),
    ).secret
    records = _records(frame, 200)
    batch = [records[i : i + BATCH_ROWS] for i in range(0, len(records), BATCH_ROWS)]
    mlflow_port, api_port = free_port(), free_port()
    mlflow_env = {
        **env,
        "MLFLOW_TRACKING_URI": env["ATTRITION_MLFLOW_TRACKING_URI"],
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # its uvicorn
    }
    servers = [
        start(
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                f"models:/{settings.model_name}@champion",
                "-p",
                str(mlflow_port),
                "-h",
                "127.0.0.1",
                "--env-manager",
                "local",
                "-w",
                "1",
            ],
            mlflow_env,
            workdir / "mlflow-serve.log",
        ),
        start(
            [str(BIN / "attrition"), "serve", "--port", str(api_port), "--workers", "2"],
            env,
            workdir / "api.log",
        ),
    ]
    results: dict[str, Any] = {
        "model_version": version,
        "connections": args.connections,
        "seconds": args.seconds,
    }
    try:
        wait_http(f"http://127.0.0.1:{mlflow_port}/health", servers[0])
        wait_http(f"http://127.0.0.1:{api_port}/health/ready", servers[1])
        mlflow_url = f"http://127.0.0.1:{mlflow_port}/invocations"
        api_single = f"http://127.0.0.1:{api_port}/v1/predictions"
        api_batch = f"http://127.0.0.1:{api_port}/v1/predictions/batch"
        plain = {"Content-Type": "application/json"}
        authed = {**plain, "Authorization": f"Bearer {key}"}
        workloads = {
            "mlflow_single": (
                mlflow_url,
                plain,
                [json.dumps({"dataframe_records": [r]}) for r in records],
            ),
            "api_single": (api_single, authed, [json.dumps(r) for r in records]),
            "mlflow_batch": (
                mlflow_url,
                plain,
                [json.dumps({"dataframe_records": b}) for b in batch],
            ),
            "api_batch": (api_batch, authed, [json.dumps({"employees": b}) for b in batch]),
        }
        for name, (url, headers, bodies) in workloads.items():
            drive(url, headers, bodies, 3, args.connections, workdir)  # warm-up
            results[name] = drive(url, headers, bodies, args.seconds, args.connections, workdir)
            print(f"{name:14s} {_line(results[name])}", flush=True)
    finally:
        for server in servers:
            stop(server)
    results["single_throughput_ratio"] = (
        results["api_single"]["throughput"] / results["mlflow_single"]["throughput"]
    )
    results["batch_rows_ratio"] = (
        results["api_batch"]["throughput"] / results["mlflow_batch"]["throughput"]
    )
    results["single_p99_ratio"] = (
        results["api_single"]["p99_ms"] / results["mlflow_single"]["p99_ms"]
    )
    print(
        f"single-row throughput: {results['single_throughput_ratio']:.1f}x MLflow "
        f"(target >= 15x); API p99 {results['api_single']['p99_ms']:.1f} ms (target <= 25 ms)"
    )
    print(f"batch of {BATCH_ROWS}: {results['batch_rows_ratio']:.1f}x MLflow's rows/s")
    shutil.rmtree(workdir, ignore_errors=True)
    return results


def _line(result: dict[str, Any]) -> str:
    return (
        f"{result['throughput']:9.1f} req/s  p50 {result['p50_ms']:7.2f} ms  "
        f"p99 {result['p99_ms']:7.2f} ms  ({result['tool']}, {result['requests']} requests)"
    )


# --- offline batch scoring -------------------------------------------------------------
def offline(args: argparse.Namespace) -> dict[str, Any]:
    """Rows/s of the compiled scorer against the model's own predict_proba."""
    import numpy as np
    import pandas as pd

    workdir = Path(tempfile.mkdtemp(prefix="attrition-bench-"))
    configure(workdir)
    frame = pd.read_csv(workforce_csv(workdir))
    prepare_champion(frame)
    from attrition.serving.inference.csv_scoring import load_champion

    served = load_champion(__import__("attrition.settings").settings.get_settings())
    big = pd.concat([frame] * (args.rows // len(frame) + 1), ignore_index=True).head(args.rows)
    results: dict[str, Any] = {
        "rows": len(big),
        "estimator": type(served.model.pipeline.named_steps["estimator"]).__name__,
    }
    timings: dict[str, list[float]] = {"sklearn": [], "compiled": []}
    for _ in range(args.repeats):
        start = time.perf_counter()
        expected = served.model.predict_proba(big)[:, 1]
        timings["sklearn"].append(time.perf_counter() - start)
        start = time.perf_counter()
        got = served.scorer.probabilities_frame(big)
        timings["compiled"].append(time.perf_counter() - start)
    for name, values in timings.items():
        results[f"{name}_rows_per_s"] = len(big) / min(values)
    results["ratio"] = results["compiled_rows_per_s"] / results["sklearn_rows_per_s"]
    results["max_abs_difference"] = float(np.abs(got - expected).max())
    print(
        f"offline scoring of {len(big)} rows ({results['estimator']}): "
        f"sklearn {results['sklearn_rows_per_s']:,.0f} rows/s, compiled "
        f"{results['compiled_rows_per_s']:,.0f} rows/s = {results['ratio']:.1f}x "
        f"(target >= 2x); max |difference| {results['max_abs_difference']:.2e}"
    )
    shutil.rmtree(workdir, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    api_parser = sub.add_parser("api", help="API vs mlflow models serve")
    api_parser.add_argument("--seconds", type=float, default=20)
    api_parser.add_argument("--connections", type=int, default=8)
    offline_parser = sub.add_parser("offline", help="compiled vs sklearn offline scoring")
    offline_parser.add_argument("--rows", type=int, default=50_000)
    offline_parser.add_argument("--repeats", type=int, default=3)
    load = sub.add_parser("loadgen", help="async httpx load against one URL")
    load.add_argument("--url", required=True)
    load.add_argument("--key", default="")
    load.add_argument("--bodies", required=True)
    load.add_argument("--seconds", type=float, default=10)
    load.add_argument("--connections", type=int, default=8)
    load.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.mode == "loadgen":
        loadgen(args)
        return
    result = api(args) if args.mode == "api" else offline(args)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
