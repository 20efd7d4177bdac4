"""Ingest of the real dev file into SQLite and PostgreSQL; idempotency; database errors."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from attrition.data.ingest import ingest_file
from attrition.errors import AttritionError
from attrition.privacy import pseudonymise
from attrition.schema import CONSTANT_COLUMNS, FEATURE_NAMES, IDENTIFIER, NUMERIC_NAMES, TARGET

pytestmark = pytest.mark.integration

Stored = Callable[[str, date], dict[str, Any]]
KEY = b"test-pseudonym-key"  # set by the isolated_settings fixture


def test_dev_file_loads_all_1176_rows(migrated: str, dev_csv: Path, stored_rows: Stored) -> None:
    result = ingest_file(dev_csv, date(2024, 6, 30), migrated, pseudonym_key=KEY)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (1176, 1176, 0)
    db = stored_rows(migrated, date(2024, 6, 30))
    assert len(db["snapshots"]) == 1176 and db["quarantine"] == []
    assert db["batches"][0][1:] == (1176, 1176, 0, result_sha(dev_csv))
    records = list(csv.DictReader(io.StringIO(dev_csv.read_text())))
    by_key = {key: (label, features) for key, label, features, _ in db["snapshots"]}
    assert set(by_key) == {pseudonymise(r[IDENTIFIER], KEY) for r in records}
    for record in records[:50]:
        label, features = by_key[pseudonymise(record[IDENTIFIER], KEY)]
        assert label is (record[TARGET] == "Yes")
        assert set(features) == set(FEATURE_NAMES)  # no id, no target, no constants
        expected = {
            name: int(record[name]) if name in NUMERIC_NAMES else record[name]
            for name in FEATURE_NAMES
        }
        assert features == expected
    assert not set(CONSTANT_COLUMNS) & set(by_key[next(iter(by_key))][1])


def result_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def without_ids(db: dict[str, Any]) -> dict[str, Any]:
    """Table contents without surrogate batch ids (timestamps are not compared)."""
    return {
        "snapshots": sorted((k, a, sorted(f.items())) for k, a, f, _ in db["snapshots"]),
        "quarantine": [(n, k, r, e) for n, k, r, e, _ in db["quarantine"]],
        "batches": [b[1:] for b in db["batches"]],
    }


def mixed_file(dev_csv: Path, tmp_path: Path) -> Path:
    lines = dev_csv.read_text().splitlines()[:41]
    lines[3] = lines[3].replace("Research & Development", "R&D", 1)
    lines[7] = lines[7].replace(",Y,", ",N,", 1)
    lines.append(lines[5])  # a duplicated employee
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reingesting_a_snapshot_is_idempotent(
    migrated: str, dev_csv: Path, tmp_path: Path, stored_rows: Stored
) -> None:
    path, day = mixed_file(dev_csv, tmp_path), date(2024, 3, 31)
    first = ingest_file(path, day, migrated, pseudonym_key=KEY)
    before = without_ids(stored_rows(migrated, day))
    second = ingest_file(path, day, migrated, pseudonym_key=KEY)
    after = without_ids(stored_rows(migrated, day))
    assert after == before
    assert (first.rows_loaded, first.rows_quarantined) == (37, 4)
    assert (second.rows_loaded, second.rows_quarantined) == (37, 4)
    assert second.replaced_rows == 41
    assert any(
        "replaced 41 row(s) stored earlier for snapshot 2024-03-31" in w for w in second.warnings
    )
    assert len(after["batches"]) == 1


def test_a_new_file_replaces_its_date_and_keeps_other_dates(
    migrated: str, dev_csv: Path, tmp_path: Path, stored_rows: Stored
) -> None:
    ingest_file(mixed_file(dev_csv, tmp_path), date(2024, 3, 31), migrated, pseudonym_key=KEY)
    ingest_file(mixed_file(dev_csv, tmp_path), date(2024, 4, 30), migrated, pseudonym_key=KEY)
    small = tmp_path / "small.csv"
    small.write_text("\n".join(dev_csv.read_text().splitlines()[:11]))
    result = ingest_file(small, date(2024, 3, 31), migrated, pseudonym_key=KEY)
    march, april = (
        stored_rows(migrated, date(2024, 3, 31)),
        stored_rows(migrated, date(2024, 4, 30)),
    )
    assert (len(march["snapshots"]), len(march["quarantine"]), len(march["batches"])) == (10, 0, 1)
    assert march["batches"][0][0] == result.batch_id
    assert (len(april["snapshots"]), len(april["quarantine"])) == (37, 4)


def test_snapshot_date_defaults_to_today_utc(
    migrated_sqlite: str, dev_csv: Path, tmp_path: Path, stored_rows: Stored
) -> None:
    small = tmp_path / "small.csv"
    small.write_text("\n".join(dev_csv.read_text().splitlines()[:6]))
    result = ingest_file(small, None, migrated_sqlite, pseudonym_key=KEY)
    assert result.snapshot_date == datetime.now(UTC).date()
    assert len(stored_rows(migrated_sqlite, result.snapshot_date)["snapshots"]) == 5
    assert result.as_dict()["snapshot_date"] == result.snapshot_date.isoformat()


def with_value(line: str, column: int, value: str) -> str:
    """A CSV line (no quoted fields) with one column's value replaced."""
    fields = line.split(",")
    fields[column] = value
    return ",".join(fields)


def test_quarantine_never_stores_raw_employee_ids(
    migrated_sqlite: str, dev_csv: Path, tmp_path: Path, stored_rows: Stored
) -> None:
    lines = dev_csv.read_text().splitlines()[:5]
    header = lines[0].split(",")
    lines[1] = with_value(lines[1], header.index(IDENTIFIER), "E-1")
    lines[2] = with_value(lines[2], header.index("Over18"), "N")
    path = tmp_path / "ids.csv"
    path.write_text("\n".join(lines))
    ingest_file(path, date(2024, 1, 31), migrated_sqlite, pseudonym_key=KEY)
    (bad_id, bad_constant) = stored_rows(migrated_sqlite, date(2024, 1, 31))["quarantine"]
    assert bad_id[1] is None and bad_id[2][IDENTIFIER] == "<redacted: not an integer>"
    assert bad_id[3] == [
        {
            "field": IDENTIFIER,
            "value": "<redacted: not an integer>",
            "reason": "not an integer; expected an integer from 1 to 2147483647",
        }
    ]
    raw_id = lines[2].split(",")[header.index(IDENTIFIER)]
    assert bad_constant[1] == pseudonymise(raw_id, KEY) == bad_constant[2][IDENTIFIER]


def test_an_unmigrated_database_says_to_run_db_upgrade(sqlite_url: str, dev_csv: Path) -> None:
    with pytest.raises(AttritionError, match=r"run `attrition db upgrade` first"):
        ingest_file(dev_csv, None, sqlite_url, pseudonym_key=KEY)


def test_an_unreachable_database_is_a_clear_error_without_its_password(dev_csv: Path) -> None:
    url = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test?connect_timeout=2"
    with pytest.raises(AttritionError, match="cannot reach the database") as caught:
        ingest_file(dev_csv, None, url, pseudonym_key=KEY)
    assert "s3cret" not in str(caught.value)


def test_integers_written_as_decimals_ingest_and_fractions_are_quarantined(
    migrated_sqlite: str,
    dev_records: tuple[list[str], list[list[str]]],
    tmp_path: Path,
    stored_rows: Stored,
) -> None:
    """Issue 12 item 4: a spreadsheet's 24.0 is the integer 24; 24.5 is quarantined naming
    the field."""
    header, rows = dev_records
    integer_columns = {IDENTIFIER, *NUMERIC_NAMES, "EmployeeCount", "StandardHours"}
    positions = [i for i, name in enumerate(header) if name in integer_columns]
    decimal = [[f"{v}.0" if i in positions else v for i, v in enumerate(r)] for r in rows[:40]]
    decimal[7][header.index("Age")] = "24.5"
    path = tmp_path / "decimals.csv"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *decimal])
    path.write_text(out.getvalue())
    result = ingest_file(path, date(2024, 6, 30), migrated_sqlite, pseudonym_key=KEY)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (40, 39, 1)
    db = stored_rows(migrated_sqlite, date(2024, 6, 30))
    ((row_number, _, _, errors, _),) = db["quarantine"]
    assert row_number == 9 and [e["field"] for e in errors] == ["Age"]
    assert "not an integer" in errors[0]["reason"]
    first = rows[0]
    _, features = {k: (a, f) for k, a, f, _ in db["snapshots"]}[
        pseudonymise(first[header.index(IDENTIFIER)], KEY)
    ]
    assert features["Age"] == int(first[header.index("Age")]) and isinstance(features["Age"], int)
