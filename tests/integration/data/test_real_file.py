"""The real IBM HR file (``ATTRITION_REAL_DATA``; skipped without it) ingests whole."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from attrition.data.ingest import ingest_file

pytestmark = pytest.mark.integration
KEY = b"test-pseudonym-key"


def test_the_real_file_loads_every_row(migrated: str, real_csv: Path) -> None:
    """On SQLite and PostgreSQL (``migrated`` runs on both): nothing quarantined."""
    with real_csv.open(newline="", encoding="utf-8-sig") as handle:
        rows = sum(1 for _ in csv.DictReader(handle))
    result = ingest_file(real_csv, date(2024, 6, 30), migrated, pseudonym_key=KEY)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (rows, rows, 0)
