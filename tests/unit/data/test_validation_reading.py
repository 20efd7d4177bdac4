"""read_dataset on files: what is a file-level error, what is a row-level problem."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from attrition.data.reading import read_csv_bytes, read_csv_table
from attrition.data.validation import read_dataset
from attrition.errors import AttritionError
from attrition.schema import IDENTIFIER, TARGET


@pytest.fixture(scope="module")
def table(dev_csv: Path) -> tuple[list[str], list[list[str]]]:
    """Header and the first 25 real records."""
    rows = list(csv.reader(io.StringIO(dev_csv.read_text(), newline="")))
    return rows[0], rows[1:26]


def to_csv(header: list[str], rows: list[list[str]], newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([header, *rows])
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary content"),
        ("Age,Attrition\n41,Yes\n".encode("utf-16"), "UTF-16"),
        ("Age,Department\n41,Ventes générales\n".encode("latin-1"), "not UTF-8 text"),
        (b"a,b,c\n1,2,3\n", "not a CSV of the IBM HR attrition schema"),
        (
            b"Age,Attrition,Department\n41,Yes,Sales\n",
            "2 of the 31 required columns found (missing EmployeeNumber,",
        ),
        (b"Age;Attrition;Department\n41;Yes;Sales\n", "the delimiter is ';', expected ','"),
    ],
    ids=["empty", "blank", "binary", "utf16", "latin1", "other-csv", "few-columns", "short-semi"],
)
def test_files_that_are_not_csv_text_fail_with_one_message(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "input.csv"
    path.write_bytes(content)
    with pytest.raises(AttritionError, match=re.escape(message)) as caught:
        read_dataset(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AttritionError, match="file not found"):
        read_dataset(tmp_path / "absent.csv")


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_wrong_delimiter_is_named(
    tmp_path: Path, table: tuple[list[str], list[list[str]]], delimiter: str
) -> None:
    header, rows = table
    path = tmp_path / "input.csv"
    path.write_text("\n".join(delimiter.join(r) for r in [header, *rows]))
    with pytest.raises(
        AttritionError, match=re.escape(f"the delimiter is {delimiter!r}, expected")
    ):
        read_dataset(path)


def test_missing_columns_are_listed(
    tmp_path: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    header, rows = table
    drop = {header.index("MonthlyIncome"), header.index("JobRole")}
    keep = [i for i in range(len(header)) if i not in drop]
    path = tmp_path / "input.csv"
    path.write_text(to_csv([header[i] for i in keep], [[r[i] for i in keep] for r in rows]))
    with pytest.raises(
        AttritionError, match=r"missing required column\(s\): JobRole, MonthlyIncome"
    ):
        read_dataset(path)


def test_case_mismatch_in_a_column_name_is_explained(
    tmp_path: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    header, rows = table
    path = tmp_path / "input.csv"
    path.write_text(to_csv(["age" if h == "Age" else h for h in header], rows))
    with pytest.raises(AttritionError, match="Age \\(found 'age'; names are case-sensitive\\)"):
        read_dataset(path)


def test_no_header_row(tmp_path: Path, table: tuple[list[str], list[list[str]]]) -> None:
    _, rows = table
    path = tmp_path / "input.csv"
    path.write_text(to_csv(rows[0], rows[1:]))
    with pytest.raises(AttritionError, match="the first line is not a header"):
        read_dataset(path)


def test_header_only(tmp_path: Path, table: tuple[list[str], list[list[str]]]) -> None:
    header, _ = table
    path = tmp_path / "input.csv"
    path.write_text(to_csv(header, []))
    with pytest.raises(AttritionError, match="has a header but no data rows"):
        read_dataset(path)


def test_duplicated_column_names(tmp_path: Path, table: tuple[list[str], list[list[str]]]) -> None:
    header, rows = table
    path = tmp_path / "input.csv"
    path.write_text(to_csv([*header, "Age"], [[*r, "30"] for r in rows]))
    with pytest.raises(AttritionError, match="duplicated column names in the header: Age"):
        read_dataset(path)


def test_bom_crlf_and_blank_lines_read_like_the_plain_file(
    tmp_path: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    header, rows = table
    plain, odd = tmp_path / "plain.csv", tmp_path / "odd.csv"
    plain.write_text(to_csv(header, rows))
    text = to_csv(header, rows, newline="\r\n").replace("\r\n", "\r\n\r\n", 3)
    odd.write_bytes(b"\xef\xbb\xbf" + text.encode())
    expected, result = read_dataset(plain), read_dataset(odd)
    assert len(result.valid) == len(rows) and not result.rejected
    assert result.valid.equals(expected.valid)
    # Blank lines are not records, but line numbers still point into the file.
    assert read_csv_table(odd).frame.index[:4].tolist() == [3, 5, 7, 8]


def test_extra_and_optional_columns(
    tmp_path: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    header, rows = table
    target = header.index(TARGET)
    path = tmp_path / "input.csv"
    path.write_text(
        to_csv(
            [*(h for h in header if h != TARGET), "Notes", ""],
            [[*(v for i, v in enumerate(r) if i != target), "free text", ""] for r in rows],
        )
    )
    result = read_dataset(path)
    assert len(result.valid) == len(rows) and TARGET not in result.valid.columns
    assert result.warnings == [
        "ignored 2 column(s) not in the schema: 'Notes', ''",
        "no Attrition column: rows are loaded without labels",
    ]


def test_broken_records_are_row_problems_with_their_line_numbers(
    tmp_path: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    header, rows = table
    lines = to_csv(header, rows[:6]).splitlines()
    lines[2] += ",surplus"  # too many fields (line 3)
    lines[4] = lines[4].replace(rows[3][0], "x" * 200_000, 1)  # beyond the CSV field limit
    lines.append(lines[5][: len(lines[5]) // 2])  # partial last line, no newline
    path = tmp_path / "input.csv"
    path.write_text("\n".join(lines))
    result = read_dataset(path)
    assert result.rows_read == 7
    errors = {r.row_number: r.errors for r in result.rejected}
    assert set(errors) == {3, 5, 8}
    assert "the record has 36 fields, the header has 35" in errors[3][0]["reason"]
    assert errors[5][0]["reason"] == "the CSV parser could not read this record"
    assert "partial or truncated line" in errors[8][0]["reason"]
    assert all(e[0]["field"] == "_row" for e in errors.values())


def test_quoted_newlines_keep_line_numbers_right(
    tmp_path: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    header, rows = table
    rows = [list(r) for r in rows[:4]]
    rows[1][header.index("Department")] = "Sales,\nand more"
    path = tmp_path / "input.csv"
    path.write_text(to_csv(header, rows))
    result = read_dataset(path)
    (rejected,) = result.rejected
    assert rejected.row_number == 3
    assert rejected.errors[0]["field"] == "Department"
    assert read_csv_table(path).frame.index.tolist() == [2, 3, 5, 6]


def test_long_values_are_kept_shortened(
    tmp_path: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    header, rows = table
    rows = [list(r) for r in rows[:3]]
    rows[0][header.index("JobRole")] = "y" * 5000
    path = tmp_path / "input.csv"
    path.write_text(to_csv(header, rows))
    (rejected,) = read_dataset(path).rejected
    kept = rejected.raw["JobRole"]
    assert kept is not None and kept.endswith("(5000 characters)") and len(kept) < 300
    assert rejected.errors == [
        {"field": "JobRole", "value": kept, "reason": rejected.errors[0]["reason"]}
    ]
    assert "longer than 1024 characters" in rejected.errors[0]["reason"]
    assert rejected.raw[IDENTIFIER] == rows[0][header.index(IDENTIFIER)]


def test_uploaded_bytes_read_like_the_file_with_their_name_in_messages(
    tmp_path: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    header, rows = table
    path = tmp_path / "input.csv"
    path.write_text(to_csv(header, rows))
    from_file, uploaded = read_csv_table(path), read_csv_bytes(path.read_bytes(), "upload.csv")
    assert uploaded.frame.equals(from_file.frame) and uploaded.sha256 == from_file.sha256
    with pytest.raises(AttritionError, match=r"^upload\.csv: the file is empty"):
        read_csv_bytes(b" \n", "upload.csv")
