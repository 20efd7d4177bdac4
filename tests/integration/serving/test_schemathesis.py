"""schemathesis against the live OpenAPI of `attrition serve`: every route, with a key and
without, at least 1,000 generated cases, no 5xx and no response that breaks the schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from attrition.db.migrate import upgrade

from .conftest import REPO, live_api, make_keys

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# 413 is a documented answer to an oversized batch, which negative cases generate.
# Beyond the schema: a request with two different keys is 400 (schemathesis adds a random
# bearer token beside the X-API-Key given); and what the schema cannot say about a body, the
# cross-field rules of a row (YearsAtCompany <= TotalWorkingYears, ...), an outcome date more
# than a year ahead, the same employee twice in one request, answers 422 naming the rule.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = [
    "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429",
]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]

[[operations]]
include-path-regex = "^/v1/(predictions(/batch)?|outcomes)$"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "400", "401", "403", "404", "409", "422", "429",
]
"""


def run_schemathesis(
    url: str, tmp: Path, name: str, headers: list[str], examples: int
) -> dict[str, int]:
    config = tmp / "schemathesis.toml"
    config.write_text(CONFIG)
    report = tmp / f"{name}.json"
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(examples),
        "--seed",
        "20240601",
        "--generation-database",
        "none",
        "--phases",
        "examples,coverage,fuzzing",
        # One worker: with two threads, hypothesis's concurrent ast.parse calls can hit
        # CPython 3.11.7's spurious "AST constructor recursion depth mismatch" SystemError
        # (see python/cpython#106905).
        "--workers",
        "1",
        "--no-color",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    for header in headers:
        command += ["-H", header]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    (tmp / f"{name}.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-6000:]
    return _count(json.loads(report.read_text()))


def _count(report: dict[str, object]) -> dict[str, int]:
    text = json.dumps(report)
    totals: dict[str, int] = {}
    for key in ("total_cases", "cases", "generated"):
        if f'"{key}"' in text:
            totals[key] = _find_int(report, key)
    return totals


def _find_int(data: object, key: str) -> int:
    if isinstance(data, dict):
        if isinstance(data.get(key), int):
            return int(data[key])
        return max((_find_int(v, key) for v in data.values()), default=0)
    if isinstance(data, list):
        return sum(_find_int(v, key) for v in data)
    return 0


def test_live_openapi_holds_under_generated_requests(
    registry: dict[str, str], sqlite_url: str, tmp_path: Path
) -> None:
    upgrade(sqlite_url)
    keys = make_keys(sqlite_url)
    env = {
        "ATTRITION_MLFLOW_TRACKING_URI": registry["uri"],
        "ATTRITION_RATE_LIMIT_PER_MINUTE": "1000000",
        # schemathesis sends many bad keys on purpose and expects 401 for each
        "ATTRITION_AUTH_FAILURES_PER_MINUTE": "1000000",
        "ATTRITION_MODEL_POLL_SECONDS": "0",
        "ATTRITION_LOG_LEVEL": "WARNING",
        "ATTRITION_MONITORING_CONFIG": str(REPO / "configs" / "monitoring.yaml"),
    }
    with live_api(env, tmp_path / "api.log", workers=1) as url:
        with_key = run_schemathesis(
            url, tmp_path, "authenticated", [f"X-API-Key: {keys['admin']}"], examples=60
        )
        without = run_schemathesis(url, tmp_path, "anonymous", [], examples=10)
    assert with_key.get("generated", 0) >= 1000, with_key
    assert without.get("generated", 0) > 0, without
