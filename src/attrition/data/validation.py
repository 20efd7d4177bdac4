"""Row-level validation of an HR snapshot against the feature schema, with pandera.

Validation runs in two lazy pandera passes over the whole frame, never row by row:

1. the *text* pass over the raw strings: required values present, no over-long field,
   integers written as integers (``24`` or ``24.0``, never ``24.5``), categories (and
   ``Attrition`` and the constant columns) spelled exactly as in :mod:`attrition.schema`;
2. the *value* pass over the parsed integers: schema ranges, ``EmployeeNumber`` unique
   within the snapshot (every copy of a duplicated id is rejected: the file cannot say
   which one is right) and the cross-field rules of ``schema.CROSS_FIELD_RULES``.

The API checks its rows (already typed by its request models) with :func:`row_problems`,
the same rules with the same reasons, and client dates with :func:`date_problem`.

Each pandera failure case becomes a ``{field, value, reason}`` entry of its row (one per
field, the most basic problem first). Rows in == valid + rejected, always.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, TypedDict, overload

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from attrition.data.reading import (
    RAW_VALUE_CHARS,
    ROW_FIELD,
    TEXT_DTYPE,
    CsvTable,
    missing_columns_message,
    read_csv_table,
    shorten,
)
from attrition.errors import AttritionError
from attrition.schema import (
    CATEGORICAL_NAMES,
    CONSTANT_COLUMNS,
    CROSS_FIELD_RULES,
    EARLIEST_DATE,
    FEATURE_NAMES,
    FEATURES,
    IDENTIFIER,
    IDENTIFIER_RANGE,
    MAX_DAYS_AHEAD,
    NUMERIC_NAMES,
    OPTIONAL_COLUMNS,
    RAW_COLUMNS,
    REQUIRED_COLUMNS,
    TARGET,
    TARGET_LABELS,
    NumericFeature,
    allowed_values,
    categories_of,
)

MAX_FIELD_CHARS = 1024
# An integer, also written as a decimal with nothing after the point ("24.0", as
# spreadsheets and pandas write integers); "24.5" is not an integer.
INTEGER_PATTERN = r"^-?\d{1,18}(\.0+)?$"
INTEGER_COLUMNS = (IDENTIFIER, *NUMERIC_NAMES)
# Problem codes, most basic first: a field keeps only its most basic problem.
CODE_PRIORITY = ("missing", "too_long", "not_integer", "not_allowed", "out_of_range")
_PANDERA_CODES = {"not_nullable": "missing"}
_TENURE_PREFIX = "tenure:"
_DUPLICATE = "duplicate"


class FieldError(TypedDict):
    """Why one field of one row was rejected."""

    field: str
    value: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row that failed validation: where it was, what it held, and why."""

    row_number: int
    raw: dict[str, str | None]
    errors: list[FieldError]


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """Valid rows as a typed frame, rejected rows with reasons, file-level warnings.

    ``valid`` has ``EmployeeNumber``, every feature (int64 numerics, str categoricals)
    and, when the input had it, ``Attrition`` ("Yes", "No" or None when unknown).
    """

    valid: pd.DataFrame
    rejected: list[RejectedRow]
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Rows in: always ``len(valid) + len(rejected)``."""
        return len(self.valid) + len(self.rejected)

    def top_reasons(self, limit: int = 10) -> list[tuple[str, str, int]]:
        """The most frequent (field, reason, rows) among the rejected rows."""
        counts = Counter((e["field"], e["reason"]) for row in self.rejected for e in row.errors)
        return [(f, reason, n) for (f, reason), n in counts.most_common(limit)]


def read_dataset(path: Path) -> ValidationResult:
    """Read and validate a snapshot CSV (no database); see :func:`validate_frame`."""
    return validate_table(read_csv_table(path))


def validate_table(table: CsvTable) -> ValidationResult:
    """Validate a parsed file, adding its malformed records to the rejected rows."""
    result = validate_frame(table.frame)
    malformed = [
        RejectedRow(m.row_number, m.raw, [FieldError(field=ROW_FIELD, value=None, reason=m.reason)])
        for m in table.malformed
    ]
    rejected = sorted([*result.rejected, *malformed], key=lambda row: row.row_number)
    return ValidationResult(result.valid, rejected, [*table.warnings, *result.warnings])


def validate_frame(raw: pd.DataFrame) -> ValidationResult:
    """Validate a frame of raw values (strings as read from a file) against the schema.

    Row numbers come from the frame's index when it is a unique integer index (a file's
    line numbers), else they are 1-based positions. Columns outside the schema are
    ignored with a warning; a missing required column raises :class:`AttritionError`.
    """
    warnings = _check_columns(list(map(str, raw.columns)))
    text = _as_text(raw)
    numbers = pd.DataFrame({name: _parse_integers(text[name]) for name in INTEGER_COLUMNS})
    failures = pd.concat(
        [_failure_cases(text_schema(tuple(text.columns)), text), _value_failures(numbers)]
    )
    errors = _errors_by_row(failures, text)
    result = ValidationResult(
        valid=_typed(text.drop(index=list(errors)), numbers),
        rejected=_rejected_rows(text, errors),
        warnings=warnings,
    )
    if result.rows_read != len(raw):  # the invariant every caller relies on
        raise RuntimeError(f"validation lost rows: {len(raw)} in, {result.rows_read} out")
    return result


def _check_columns(columns: list[str]) -> list[str]:
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise AttritionError(missing_columns_message(missing, columns))
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise AttritionError(f"duplicated column names: {', '.join(repeated)}")
    extra = [name for name in columns if name not in RAW_COLUMNS]
    if not extra:
        return []
    return [f"ignored {len(extra)} column(s) not in the schema: {', '.join(map(repr, extra))}"]


def _as_text(raw: pd.DataFrame) -> pd.DataFrame:
    """Known columns as Arrow strings, blank values as <NA>, index = row numbers."""
    known = [name for name in RAW_COLUMNS if name in raw.columns]
    text = pd.DataFrame({name: _column_as_text(raw[name]) for name in known})
    index = raw.index
    if not (index.is_unique and pd.api.types.is_integer_dtype(index)):
        index = pd.RangeIndex(1, len(raw) + 1)
    text.index = pd.Index(index, dtype="int64")
    return text


def _column_as_text(column: pd.Series) -> pd.Series:
    text = column.astype(TEXT_DTYPE)
    blank = (text.str.strip() == "").fillna(False).astype(bool)
    return text.mask(blank, pd.NA)


def _parse_integers(column: pd.Series) -> pd.Series:
    """Integers where the text is an integer, <NA> elsewhere (the text pass reports those)."""
    is_integer = column.str.fullmatch(INTEGER_PATTERN).fillna(False).astype(bool)
    digits = column.str.replace(r"\.0+$", "", regex=True)
    integers: pd.Series = digits.mask(~is_integer).astype("Int64")
    return integers


@lru_cache(maxsize=16)
def text_schema(columns: tuple[str, ...]) -> pa.DataFrameSchema:
    """The text pass for a frame with ``columns`` (optional columns checked if present)."""
    present = [*REQUIRED_COLUMNS, *(name for name in OPTIONAL_COLUMNS if name in columns)]
    return pa.DataFrameSchema({name: _text_column(name) for name in present}, strict=False)


def _text_column(name: str) -> pa.Column:
    checks = [pa.Check.str_length(max_value=MAX_FIELD_CHARS, error="too_long")]
    if name in INTEGER_COLUMNS:
        checks.append(pa.Check.str_matches(INTEGER_PATTERN, error="not_integer"))
    elif isinstance(CONSTANT_COLUMNS.get(name), int):  # 80 or 80.0, like any integer
        constant = rf"^{CONSTANT_COLUMNS[name]}(\.0+)?$"
        checks.append(pa.Check.str_matches(constant, error="not_allowed"))
    else:
        checks.append(pa.Check.isin(_allowed_strings(name), error="not_allowed"))
    return pa.Column(checks=checks, nullable=name not in REQUIRED_COLUMNS)


def _allowed_strings(name: str) -> tuple[str, ...]:
    if name == TARGET:
        return TARGET_LABELS
    if name in CONSTANT_COLUMNS:
        return (str(CONSTANT_COLUMNS[name]),)
    return categories_of(name)


@lru_cache(maxsize=1)
def value_schema() -> pa.DataFrameSchema:
    """The value pass over parsed integers: ranges, unique ids, tenure order."""
    columns = {name: _range_column(name) for name in INTEGER_COLUMNS}
    checks = [_order_check(*rule) for rule in CROSS_FIELD_RULES]
    return pa.DataFrameSchema(columns, checks=checks)


def _range_column(name: str) -> pa.Column:
    low, high = _integer_range(name)
    checks = [pa.Check.in_range(low, high, error="out_of_range")]
    if name == IDENTIFIER:
        checks.append(
            pa.Check(lambda ids: ~ids.duplicated(keep=False) | ids.isna(), error=_DUPLICATE)
        )
    return pa.Column("Int64", checks, nullable=True)


def _integer_range(name: str) -> tuple[int, int]:
    if name == IDENTIFIER:
        return IDENTIFIER_RANGE
    feature = FEATURES[name]
    assert isinstance(feature, NumericFeature)
    return feature.low, feature.high


def _order_code(smaller: str, larger: str, margin: int) -> str:
    return f"{_TENURE_PREFIX}{smaller}:{larger}:{margin}"


def _order_check(smaller: str, larger: str, margin: int) -> pa.Check:
    """The rule on values that are each in range (an out-of-range value is reported as
    such, not as a cross-field problem of its neighbour)."""

    def holds(frame: pd.DataFrame) -> pd.Series:
        a, b = _ranged(frame[smaller], smaller), _ranged(frame[larger], larger)
        return ((a + margin <= b) | a.isna() | b.isna()).fillna(True).astype(bool)

    return pa.Check(holds, error=_order_code(smaller, larger, margin), ignore_na=False)


def _ranged(values: pd.Series, name: str) -> pd.Series:
    low, high = _integer_range(name)
    return values.where((values >= low) & (values <= high))


@cache
def _row_rules() -> tuple[tuple[str, str, int, tuple[int, int], tuple[int, int]], ...]:
    """CROSS_FIELD_RULES with each side's range, looked up once (the API checks every row)."""
    return tuple(
        (smaller, larger, margin, _integer_range(smaller), _integer_range(larger))
        for smaller, larger, margin in CROSS_FIELD_RULES
    )


def row_problems(row: Mapping[str, Any]) -> list[FieldError]:
    """The cross-field rules for one typed row (an API row), with ingest's reasons; the
    value is not repeated (``value`` None): the caller knows what it sent. A rule is judged
    only when both values are integers in range (as in ``_order_check``)."""
    problems: list[FieldError] = []
    for smaller, larger, margin, (low_a, high_a), (low_b, high_b) in _row_rules():
        a, b = row.get(smaller), row.get(larger)
        if not (isinstance(a, int) and isinstance(b, int)):
            continue
        if low_a <= a <= high_a and low_b <= b <= high_b and a + margin > b:
            code = _order_code(smaller, larger, margin)
            problems.append(FieldError(field=smaller, value=None, reason=reason(smaller, code)))
    return problems


def date_problem(value: date, today: date) -> str | None:
    """Why a date sent by a client cannot be right, or None: before ``EARLIEST_DATE`` or
    more than ``MAX_DAYS_AHEAD`` days after ``today``."""
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if value < EARLIEST_DATE or value > latest:
        return f"must be from {EARLIEST_DATE.isoformat()} to {latest.isoformat()}"
    return None


def _failure_cases(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """Pandera's failure cases as (row, field, code) for a lazy validation of ``frame``."""
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as error:
        return _normalise_failures(error.failure_cases)
    return pd.DataFrame({"row": [], "field": [], "code": []})


def _value_failures(numbers: pd.DataFrame) -> pd.DataFrame:
    return _failure_cases(value_schema(), numbers)


def _normalise_failures(cases: pd.DataFrame) -> pd.DataFrame:
    if cases["index"].isna().any():  # a column-level failure: the schemas are wrong
        bad = cases.loc[cases["index"].isna(), ["column", "check"]].drop_duplicates()
        raise RuntimeError(f"unexpected column-level validation failure: {bad.to_dict('records')}")
    code = cases["check"].astype(str).replace(_PANDERA_CODES)
    is_tenure = code.str.startswith(_TENURE_PREFIX)
    # A frame-level tenure failure lists every column of the row; keep the checked one.
    tenure_field = code.str.split(":").str[1]
    keep = ~is_tenure | (cases["column"] == tenure_field)
    return pd.DataFrame(
        {"row": cases["index"].astype("int64"), "field": cases["column"], "code": code}
    )[keep]


def _errors_by_row(failures: pd.DataFrame, text: pd.DataFrame) -> dict[int, list[FieldError]]:
    """One error per (row, field), the most basic first, fields in file order."""
    if failures.empty:
        return {}
    rank = {code: i for i, code in enumerate(CODE_PRIORITY)}
    failures = failures.assign(
        rank=failures["code"].map(rank).fillna(len(rank)),
        position=failures["field"].map({name: i for i, name in enumerate(RAW_COLUMNS)}),
    ).sort_values(["row", "position", "rank"], kind="stable")
    failures = failures.drop_duplicates(["row", "field"])
    rows, fields = pd.Index(failures["row"]), pd.Index(failures["field"])
    cells = _plain_values(text.loc[rows.unique()])
    values = cells.to_numpy()[cells.index.get_indexer(rows), cells.columns.get_indexer(fields)]
    errors: dict[int, list[FieldError]] = {}
    cases = failures[["row", "field", "code"]].itertuples(index=False)
    for (row, name, code), value in zip(cases, values, strict=True):
        error = FieldError(field=name, value=value, reason=reason(name, code))
        errors.setdefault(int(row), []).append(error)
    return errors


def _plain_values(text: pd.DataFrame) -> pd.DataFrame:
    """Cells as Python ``str`` (long ones shortened) or None, for reasons and quarantine."""
    cells = with_none(text)
    for name in cells.columns:
        long = (text[name].str.len() > RAW_VALUE_CHARS).fillna(False).astype(bool)
        if long.any():
            cells.loc[long, name] = cells.loc[long, name].map(shorten)
    return cells


def reason(name: str, code: str) -> str:
    """A user-facing reason for problem ``code`` in column ``name``, naming what is allowed."""
    if code.startswith(_TENURE_PREFIX):
        _, _, larger, margin = code.split(":")
        if margin == "0":
            return f"must not be greater than {larger} (cross-field rule {name} <= {larger})"
        return (
            f"must not be greater than {larger} - {margin} "
            f"(cross-field rule {name} + {margin} <= {larger})"
        )
    if code == _DUPLICATE:
        return f"{IDENTIFIER} appears on more than one row of this snapshot; every copy is rejected"
    expected = _expected(name)
    messages = {
        "missing": "required value is missing",
        "too_long": f"value is longer than {MAX_FIELD_CHARS} characters",
        "not_integer": "not an integer",
        "not_allowed": "not an allowed value (values are case-sensitive)",
        "out_of_range": "out of range",
    }
    return f"{messages.get(code, f'failed check {code}')}; expected {expected}"


def _expected(name: str) -> str:
    if name == IDENTIFIER:
        low, high = IDENTIFIER_RANGE
        return f"an integer from {low} to {high}"
    if name == TARGET:
        return "one of 'No', 'Yes' (or empty when unknown)"
    if name in CONSTANT_COLUMNS:
        return f"the constant {CONSTANT_COLUMNS[name]!r} (or empty; the column is dropped)"
    return allowed_values(name)


def _rejected_rows(text: pd.DataFrame, errors: dict[int, list[FieldError]]) -> list[RejectedRow]:
    if not errors:
        return []
    cells = _plain_values(text.loc[list(errors)])
    names = [str(name) for name in cells.columns]
    raws = [dict(zip(names, values, strict=True)) for values in cells.itertuples(index=False)]
    return [
        RejectedRow(row_number=row, raw=raw, errors=row_errors)
        for (row, row_errors), raw in zip(errors.items(), raws, strict=True)
    ]


def _typed(text: pd.DataFrame, numbers: pd.DataFrame) -> pd.DataFrame:
    """Valid rows: the identifier and features typed, plus the target when present."""
    columns: dict[str, pd.Series] = {IDENTIFIER: numbers.loc[text.index, IDENTIFIER]}
    for name in FEATURE_NAMES:
        source = numbers if name in NUMERIC_NAMES else text
        columns[name] = source.loc[text.index, name]
    if TARGET in text.columns:
        columns[TARGET] = with_none(text[TARGET])
    return typed_frame(pd.DataFrame(columns).reset_index(drop=True))


def typed_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Schema dtypes for an already valid frame: int64 integers, str categoricals."""
    dtypes: dict[str, str | type] = dict.fromkeys(INTEGER_COLUMNS, "int64")
    dtypes.update(dict.fromkeys(CATEGORICAL_NAMES, object))
    typed = frame.astype({name: t for name, t in dtypes.items() if name in frame.columns})
    for name in (*CATEGORICAL_NAMES, TARGET):
        if name in typed.columns:
            typed[name] = with_none(typed[name])
    return typed


@overload
def with_none(values: pd.DataFrame) -> pd.DataFrame: ...
@overload
def with_none(values: pd.Series) -> pd.Series: ...
def with_none(values: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Object values with every missing marker (NaN, <NA>) replaced by None."""
    objects = values.astype(object)
    return objects.where(values.notna(), None)  # type: ignore[call-overload,no-any-return]
