"""Malformed files built from the real dev data: a clear error, or loaded + quarantined rows.

Every case is checked against the database: rows in == rows loaded + rows quarantined,
quarantined rows carry their line number and one reason per offending field, and a file
that is not a CSV of the schema leaves the database untouched.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from attrition.data.ingest import ingest_file
from attrition.db.migrate import upgrade
from attrition.errors import AttritionError
from attrition.schema import IDENTIFIER, TARGET

pytestmark = pytest.mark.integration
KEY = b"test-pseudonym-key"

ROWS = 30  # records per built file (lines 2..31)
DAY = date(2024, 6, 30)
Records = tuple[list[str], list[list[str]]]


@dataclass(frozen=True)
class Case:
    """A malformed input: how to build it and what ingest must do with it."""

    name: str
    build: Callable[[list[str], list[list[str]]], bytes]
    error: str | None = None  # a file-level failure: this text in the message
    rejected: dict[int, set[str]] = field(default_factory=dict)  # line -> fields
    records: int = ROWS
    warning: str | None = None


def encode(header: list[str], rows: list[list[str]], newline: str = "\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([header, *rows])
    return out.getvalue().encode()


def with_cells(*changes: tuple[int, str, str]) -> Callable[[list[str], list[list[str]]], bytes]:
    """Set (record index, column, value) cells and write the file."""

    def build(header: list[str], rows: list[list[str]]) -> bytes:
        rows = [list(r) for r in rows]
        for index, column, value in changes:
            rows[index][header.index(column)] = value
        return encode(header, rows)

    return build


def duplicate_ids(header: list[str], rows: list[list[str]]) -> bytes:
    rows = [list(r) for r in rows]
    rows[7][header.index(IDENTIFIER)] = rows[2][header.index(IDENTIFIER)]
    return encode(header, rows)


def inconsistent_tenure(header: list[str], rows: list[list[str]]) -> bytes:
    rows = [list(r) for r in rows]
    total = int(rows[4][header.index("TotalWorkingYears")])
    rows[4][header.index("YearsAtCompany")] = str(total + 1)
    return encode(header, rows)


def extra_columns(header: list[str], rows: list[list[str]]) -> bytes:
    return encode([*header, "Notes", "Band"], [[*r, "free text, quoted", "B2"] for r in rows])


def partial_last_line(header: list[str], rows: list[list[str]]) -> bytes:
    text = encode(header, rows)
    return text[: len(text) - 40]  # cut in the middle of the last record


def huge_fields(header: list[str], rows: list[list[str]]) -> bytes:
    changed = with_cells((5, "Department", "x" * 5_000), (6, "EducationField", "y" * 300_000))
    return changed(header, rows)


def too_many_fields(header: list[str], rows: list[list[str]]) -> bytes:
    lines = encode(header, rows).decode().split("\n")
    lines[10] += ",Sales,unquoted"
    return "\n".join(lines).encode()


def no_attrition_column(header: list[str], rows: list[list[str]]) -> bytes:
    at = header.index(TARGET)
    return encode(
        [h for i, h in enumerate(header) if i != at],
        [[v for i, v in enumerate(r) if i != at] for r in rows],
    )


def mixed(header: list[str], rows: list[list[str]]) -> bytes:
    changed = with_cells(
        (0, "Gender", "F"),
        (3, "MonthlyIncome", "n/a"),
        (3, "JobRole", "Intern"),
        (9, "Age", "15"),
        (20, "OverTime", ""),
    )
    return changed(header, rows)


def all_rows_bad(header: list[str], rows: list[list[str]]) -> bytes:
    return with_cells(*((i, "BusinessTravel", "Sometimes") for i in range(ROWS)))(header, rows)


def wrong_delimiter(header: list[str], rows: list[list[str]]) -> bytes:
    return "\n".join(";".join(r) for r in [header, *rows]).encode()


def missing_column(header: list[str], rows: list[list[str]]) -> bytes:
    at = header.index("YearsAtCompany")
    return encode(header[:at] + header[at + 1 :], [r[:at] + r[at + 1 :] for r in rows])


def no_header(header: list[str], rows: list[list[str]]) -> bytes:
    return encode(rows[0], rows[1:])


def line(index: int) -> int:
    return index + 2  # the header is line 1


CASES = [
    Case(
        "unknown_category", with_cells((3, "Department", "Finance")), rejected={5: {"Department"}}
    ),
    Case(
        "negative_income",
        with_cells((0, "MonthlyIncome", "-2500")),
        rejected={2: {"MonthlyIncome"}},
    ),
    Case("text_in_numeric", with_cells((1, "Age", "forty-one")), rejected={3: {"Age"}}),
    Case("fraction_in_integer", with_cells((2, "JobLevel", "2.5")), rejected={4: {"JobLevel"}}),
    Case("missing_value", with_cells((8, "JobRole", "")), rejected={10: {"JobRole"}}),
    Case("bad_label", with_cells((11, TARGET, "Maybe")), rejected={13: {TARGET}}),
    Case("bad_constant", with_cells((12, "Over18", "N")), rejected={14: {"Over18"}}),
    Case("duplicate_ids", duplicate_ids, rejected={4: {IDENTIFIER}, 9: {IDENTIFIER}}),
    Case("inconsistent_tenure", inconsistent_tenure, rejected={6: {"YearsAtCompany"}}),
    Case("extra_columns", extra_columns, warning="ignored 2 column(s) not in the schema"),
    Case("bom", lambda h, r: b"\xef\xbb\xbf" + encode(h, r)),
    Case("crlf", lambda h, r: encode(h, r, newline="\r\n")),
    Case("huge_fields", huge_fields, rejected={7: {"Department"}, 8: {"_row"}}),
    Case("partial_last_line", partial_last_line, rejected={31: {"_row"}}),
    Case("too_many_fields", too_many_fields, rejected={11: {"_row"}}),
    Case("no_attrition_column", no_attrition_column, warning="no Attrition column"),
    Case(
        "mixed_good_and_bad",
        mixed,
        rejected={2: {"Gender"}, 5: {"MonthlyIncome", "JobRole"}, 11: {"Age"}, 22: {"OverTime"}},
    ),
    Case("all_rows_bad", all_rows_bad, rejected={line(i): {"BusinessTravel"} for i in range(ROWS)}),
    Case("empty_file", lambda h, r: b"", error="the file is empty"),
    Case("binary_file", lambda h, r: bytes(range(256)) * 8, error="binary content"),
    Case("wrong_delimiter", wrong_delimiter, error="the delimiter is ';', expected ','"),
    Case("missing_column", missing_column, error="missing required column(s): YearsAtCompany"),
    Case("header_only", lambda h, r: encode(h, []), error="has a header but no data rows"),
    Case("no_header", no_header, error="the first line is not a header"),
    Case("utf16", lambda h, r: encode(h, r).decode().encode("utf-16"), error="UTF-16"),
]
FIELD_ERRORS = re.compile(r"expected |must not be greater than|more than one row")


def check_case(
    case: Case,
    url: str,
    path: Path,
    day: date,
    stored: Callable[[str, date], dict[str, Any]],
    count_all: Callable[[str], int],
) -> None:
    """Ingest the case's file into ``url`` and check the database against the expectation."""
    if case.error is not None:
        before = count_all(url)
        with pytest.raises(AttritionError) as caught:
            ingest_file(path, day, url, pseudonym_key=KEY)
        assert case.error in str(caught.value) and "\n" not in str(caught.value)
        assert count_all(url) == before  # nothing written
        return
    result = ingest_file(path, day, url, pseudonym_key=KEY)
    db = stored(url, day)
    assert result.rows_read == case.records == result.rows_loaded + result.rows_quarantined
    assert len(db["snapshots"]) == result.rows_loaded == case.records - len(case.rejected)
    assert len(db["quarantine"]) == result.rows_quarantined
    assert db["batches"][0][1:4] == (result.rows_read, result.rows_loaded, result.rows_quarantined)
    got = {row: {e["field"] for e in errors} for row, _, _, errors, _ in db["quarantine"]}
    assert got == case.rejected
    for _, key, raw, errors, batch_id in db["quarantine"]:
        assert batch_id == result.batch_id
        assert all(e["reason"] for e in errors)
        assert all(FIELD_ERRORS.search(e["reason"]) for e in errors if e["field"] != "_row")
        if IDENTIFIER in raw:  # the raw id is never stored, only its pseudonym
            assert raw[IDENTIFIER] == key and re.fullmatch("[0-9a-f]{64}", key)
    if case.warning:
        assert any(case.warning in w for w in result.warnings), result.warnings


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_on_sqlite(
    case: Case,
    migrated_sqlite: str,
    dev_records: Records,
    tmp_path: Path,
    stored_rows: Callable[[str, date], dict[str, Any]],
    count_all_rows: Callable[[str], int],
) -> None:
    header, rows = dev_records
    path = tmp_path / f"{case.name}.csv"
    path.write_bytes(case.build(header, rows[:ROWS]))
    check_case(case, migrated_sqlite, path, DAY, stored_rows, count_all_rows)


def test_every_bad_input_on_postgresql(
    postgres_url: str,
    dev_records: Records,
    tmp_path: Path,
    stored_rows: Callable[[str, date], dict[str, Any]],
    count_all_rows: Callable[[str], int],
) -> None:
    """The same suite in one PostgreSQL database, one snapshot date per case."""
    upgrade(postgres_url)
    header, rows = dev_records
    for offset, case in enumerate(CASES):
        path = tmp_path / f"{case.name}.csv"
        path.write_bytes(case.build(header, rows[:ROWS]))
        day = date(2024, 1, 1).replace(day=1 + offset)
        check_case(case, postgres_url, path, day, stored_rows, count_all_rows)
