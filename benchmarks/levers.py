"""Retention levers benchmark: the latency of a prediction with ``?levers=true`` against the
same plain prediction, on the same champion in the same run (target: within 2x).

    python benchmarks/levers.py [--requests 300] [--batch 100] [--batches 80]

Trains a champion with the training library (a few trials, as ``serving.py`` does), builds
the API in process and sends each request through the whole ASGI app (key check, rate limit,
validation, scoring, prediction log) with Starlette's test client, alternating plain and
levers requests on the same rows so load from other processes hits both alike. Prints the
median and p90 of each, and their ratios, as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _workforce import workforce_csv
from serving import configure, prepare_champion


def _records(frame: Any, count: int) -> list[dict[str, Any]]:
    from attrition.schema import FEATURE_NAMES, IDENTIFIER

    rows = frame[[IDENTIFIER, *FEATURE_NAMES]].head(count).to_dict("records")
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in rows]


def _timed(client: Any, url: str, body: Any, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    response = client.post(url, json=body, headers=headers)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    return elapsed


def _summary(plain: list[float], levers: list[float]) -> dict[str, float]:
    def p90(values: list[float]) -> float:
        return sorted(values)[int(0.9 * (len(values) - 1))]

    median_plain, median_levers = statistics.median(plain), statistics.median(levers)
    return {
        "plain_p50_ms": round(median_plain * 1000, 3),
        "levers_p50_ms": round(median_levers * 1000, 3),
        "plain_p90_ms": round(p90(plain) * 1000, 3),
        "levers_p90_ms": round(p90(levers) * 1000, 3),
        "ratio_p50": round(median_levers / median_plain, 2),
        "ratio_p90": round(p90(levers) / p90(plain), 2),
    }


def measure(client: Any, key: str, records: list[dict[str, Any]], args: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    results: dict[str, Any] = {}
    for label, path, bodies in (
        ("single", "/v1/predictions", records[: args.requests]),
        ("batch", "/v1/predictions/batch", [{"employees": records[: args.batch]}] * args.batches),
    ):
        plain: list[float] = []
        levers: list[float] = []
        for body in bodies[:5]:  # warm-up
            client.post(path + "?levers=true", json=body, headers=headers)
        for body in bodies:
            plain.append(_timed(client, path, body, headers))
            levers.append(_timed(client, path + "?levers=true", body, headers))
        results[label] = _summary(plain, levers)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--batch", type=int, default=100, help="rows per batch request")
    parser.add_argument("--batches", type=int, default=80, help="batch requests of each kind")
    args = parser.parse_args()
    import pandas as pd
    from fastapi.testclient import TestClient

    workdir = Path(tempfile.mkdtemp(prefix="attrition-bench-levers-"))
    configure(workdir)
    frame = pd.read_csv(workforce_csv(workdir))
    prepare_champion(frame)
    from attrition.serving.app import create_app
    from attrition.serving.platform.api_keys import create_key
    from attrition.settings import get_settings

    settings = get_settings()
    key = create_key(
        "bench",
        "predictor",
        database_url=settings.database_url,
        server_secret=settings.pseudonym_secret(),
    ).secret
    with TestClient(create_app(settings)) as client:
        served = client.app.state.serving.models.current  # type: ignore[attr-defined]
        results: dict[str, Any] = {
            "estimator": type(served.model.pipeline.named_steps["estimator"]).__name__,
            "scorer": served.scorer.kind,
        }
        results |= measure(client, key, _records(frame, max(args.requests, args.batch)), args)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
