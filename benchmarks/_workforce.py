"""What the benchmarks run on: the real file when one is named, else the synthetic workforce.

``ATTRITION_REAL_DATA=/path/to/WA_Fn-UseC_-HR-Employee-Attrition.csv`` (the IBM HR attrition
file, see the README) makes a benchmark score real rows; without it the benchmark generates
the project's calibrated synthetic workforce (1,470 employees, seed 42) and says so. Speeds
differ little between the two: the models, the schema and the row counts are the same.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REAL_DATA_ENV = "ATTRITION_REAL_DATA"
TESTS = Path(__file__).resolve().parents[1] / "tests"


def workforce_csv(workdir: Path) -> Path:
    """The real file named by ``ATTRITION_REAL_DATA``, else a synthetic one in ``workdir``."""
    named = os.environ.get(REAL_DATA_ENV, "").strip()
    if named:
        print(f"data: {named} ({REAL_DATA_ENV})")
        return Path(named)
    from attrition.data.synthetic import generate_workforce, write_csv

    print(f"data: synthetic workforce, 1,470 rows (set {REAL_DATA_ENV} for the real file)")
    return write_csv(generate_workforce(1470, 42, attrition_rate=0.16), workdir / "workforce.csv")


def start_services() -> object:
    """The throw-away PostgreSQL and Redis of the test suite (``tests/attrition_services.py``),
    started unless ``ATTRITION_TEST_POSTGRES_URL`` / ``ATTRITION_TEST_REDIS_URL`` name servers."""
    sys.path.insert(0, str(TESTS))
    import attrition_services

    return attrition_services.start_test_services()
