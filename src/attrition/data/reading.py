"""Reading an HR snapshot CSV into a frame of strings, before any validation.

Everything is read as text so that bad values survive to the quarantine. Problems with
the file as a whole (not text, empty, wrong delimiter, no header, missing columns) raise
one :class:`AttritionError`; problems with single records (a partial last line, a record
with too many fields, a field the CSV parser refuses) become :class:`MalformedRecord`
entries, so the caller can quarantine them and still account for every record.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from attrition.errors import AttritionError
from attrition.schema import OPTIONAL_COLUMNS, RAW_COLUMNS, REQUIRED_COLUMNS, TARGET

# Arrow-backed strings: vectorised string checks, fast enough for 100,000-row files.
TEXT_DTYPE = pd.StringDtype("pyarrow")
ROW_FIELD = "_row"  # the "field" of a problem that concerns a whole record
RAW_VALUE_CHARS = 200  # raw values longer than this are shortened before they are kept
_OTHER_DELIMITERS = (";", "\t", "|")


@dataclass(frozen=True, slots=True)
class MalformedRecord:
    """A record the CSV layer could not turn into one value per column."""

    row_number: int
    raw: dict[str, str | None]
    reason: str


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A parsed file: the known columns as found (``TEXT_DTYPE``), index = line number."""

    frame: pd.DataFrame
    malformed: tuple[MalformedRecord, ...]
    warnings: tuple[str, ...]
    sha256: str

    @property
    def rows_read(self) -> int:
        """Data records in the file (blank lines are not records)."""
        return len(self.frame) + len(self.malformed)


def shorten(value: str | None) -> str | None:
    """A raw value cut to a storable length, marked when it was cut."""
    if value is None or len(value) <= RAW_VALUE_CHARS:
        return value
    return f"{value[:RAW_VALUE_CHARS]}… ({len(value)} characters)"


def read_csv_table(path: Path) -> CsvTable:
    """Read ``path`` (UTF-8, optional BOM, LF or CRLF) into a :class:`CsvTable`."""
    return read_csv_bytes(_read_bytes(path), path)


def read_csv_bytes(data: bytes, path: Path | str) -> CsvTable:
    """Parse a CSV file's bytes (an upload, say) exactly as :func:`read_csv_table` parses a
    file; every message starts with ``path`` (a file's path or an upload's name)."""
    if not data.strip():
        raise AttritionError(f"{path}: the file is empty; expected a CSV with a header row")
    text = _decode(data, path)
    records = _records(text)
    _, header = next(records, (1, []))
    columns = _check_header(header or [], text, path)
    known = [c for c in columns if c in RAW_COLUMNS]
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    malformed: list[MalformedRecord] = []
    for line, fields in records:
        if fields is not None and len(fields) == len(columns):
            rows.append(fields)
            line_numbers.append(line)
        else:
            malformed.append(_malformed(line, fields, columns))
    if not rows and not malformed:
        raise AttritionError(f"{path}: the file has a header but no data rows")
    frame = _to_frame(rows, line_numbers, columns, known)
    return CsvTable(frame, tuple(malformed), tuple(_warnings(columns)), _sha256(data))


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise AttritionError(f"{path}: file not found")
    if not path.is_file():
        raise AttritionError(f"{path}: not a file")
    return path.read_bytes()


def _decode(data: bytes, path: Path | str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise AttritionError(f"{path}: the file is UTF-16 encoded; save it as UTF-8 CSV")
    if b"\x00" in data:
        raise AttritionError(f"{path}: binary content (NUL bytes); expected a UTF-8 CSV text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise AttritionError(
            f"{path}: not UTF-8 text (invalid byte at offset {error.start}); "
            "save the file as UTF-8 CSV"
        ) from None


def _records(text: str) -> Iterator[tuple[int, list[str] | None]]:
    """(first line number, fields) per non-blank record; fields None when unparseable."""
    reader = csv.reader(io.StringIO(text, newline=""))
    last_line = 0
    while True:
        start = last_line + 1
        try:
            fields: list[str] | None = next(reader)
        except StopIteration:
            return
        except csv.Error:
            fields = None
        last_line = reader.line_num
        if fields != []:
            yield start, fields


def _check_header(header: Sequence[str], text: str, path: Path | str) -> list[str]:
    columns = [name.strip() for name in header]
    found = set(columns) & set(RAW_COLUMNS)
    if len(found) < len(REQUIRED_COLUMNS) // 2:
        raise AttritionError(f"{path}: {_diagnose_header(columns, text)}")
    duplicated = sorted(name for name, n in Counter(columns).items() if n > 1 and name)
    if duplicated:
        raise AttritionError(f"{path}: duplicated column names in the header: {_names(duplicated)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in found]
    if missing:
        raise AttritionError(f"{path}: {missing_columns_message(missing, columns)}")
    return columns


def _diagnose_header(columns: Sequence[str], text: str) -> str:
    first_line = text.split("\n", 1)[0].rstrip("\r")
    found = set(columns) & set(RAW_COLUMNS)
    for delimiter in _OTHER_DELIMITERS:
        names = {name.strip() for name in first_line.split(delimiter)}
        if len(names & set(RAW_COLUMNS)) > max(len(found), 1):
            return f"the delimiter is {delimiter!r}, expected ',' (comma-separated values)"
    numeric = sum(value.strip().lstrip("-").isdigit() for value in columns)
    if numeric:
        return (
            f"the first line is not a header (it holds {numeric} numbers among "
            f"{len(columns)} values); the file must start with the column names "
            f"({', '.join(RAW_COLUMNS[:3])}, ...)"
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in found]
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    present = len(REQUIRED_COLUMNS) - len(missing)
    return (
        f"not a CSV of the IBM HR attrition schema: {present} of the "
        f"{len(REQUIRED_COLUMNS)} required columns found (missing {_names(missing[:5])}{more})"
    )


def missing_columns_message(missing: Sequence[str], columns: Sequence[str]) -> str:
    lowered = {name.lower(): name for name in columns}
    hints = [
        f"{name} (found {lowered[name.lower()]!r}; names are case-sensitive)"
        if name.lower() in lowered
        else name
        for name in missing
    ]
    return f"missing required column(s): {', '.join(hints)}"


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def _malformed(line: int, fields: list[str] | None, columns: Sequence[str]) -> MalformedRecord:
    if fields is None:
        return MalformedRecord(line, {}, "the CSV parser could not read this record")
    raw = {name: shorten(value) for name, value in zip(columns, fields, strict=False)}
    raw = {name: value for name, value in raw.items() if name in RAW_COLUMNS}
    kind = "partial or truncated line" if len(fields) < len(columns) else "unquoted delimiter?"
    reason = f"the record has {len(fields)} fields, the header has {len(columns)} ({kind})"
    return MalformedRecord(line, raw, reason)


def _to_frame(
    rows: list[list[str]], line_numbers: list[int], columns: list[str], known: list[str]
) -> pd.DataFrame:
    """Known columns as Arrow-backed strings (built column-wise, no per-cell conversion)."""
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    data = {
        name: pd.array(pa.array(by_column[columns.index(name)], pa.string()), TEXT_DTYPE)
        for name in known
    }
    return pd.DataFrame(data, index=pd.Index(line_numbers, dtype="int64"), columns=known)


def _warnings(columns: Sequence[str]) -> list[str]:
    warnings: list[str] = []
    extra = [name for name in columns if name not in RAW_COLUMNS]
    if extra:
        shown = ", ".join(repr(name) for name in extra[:10])
        more = f" and {len(extra) - 10} more" if len(extra) > 10 else ""
        warnings.append(f"ignored {len(extra)} column(s) not in the schema: {shown}{more}")
    absent = [name for name in OPTIONAL_COLUMNS if name not in columns]
    if TARGET in absent:
        warnings.append("no Attrition column: rows are loaded without labels")
    return warnings


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
