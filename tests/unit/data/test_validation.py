"""validate_frame: pandera failure cases become per-row, per-field reasons; rows are never lost."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attrition.data.validation import MAX_FIELD_CHARS, ValidationResult, validate_frame
from attrition.errors import AttritionError
from attrition.schema import (
    CATEGORICAL_NAMES,
    FEATURE_NAMES,
    IDENTIFIER,
    NUMERIC_NAMES,
    RAW_COLUMNS,
    TARGET,
)


@pytest.fixture(scope="module")
def raw(dev_csv: Path) -> pd.DataFrame:
    """The first 60 real rows as strings, indexed by their line number in the file."""
    frame = pd.read_csv(dev_csv, dtype=str, keep_default_na=False, nrows=60)
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return frame


def errors_of(result: ValidationResult) -> dict[int, dict[str, str]]:
    return {r.row_number: {e["field"]: e["reason"] for e in r.errors} for r in result.rejected}


def test_real_rows_are_all_valid_and_typed(raw: pd.DataFrame) -> None:
    result = validate_frame(raw)
    assert (len(result.valid), len(result.rejected), result.warnings) == (60, 0, [])
    assert list(result.valid.columns) == [IDENTIFIER, *FEATURE_NAMES, TARGET]
    assert all(result.valid[name].dtype == "int64" for name in (IDENTIFIER, *NUMERIC_NAMES))
    assert all(isinstance(v, str) for name in CATEGORICAL_NAMES for v in result.valid[name])
    assert result.valid[IDENTIFIER].tolist() == raw[IDENTIFIER].astype(int).tolist()
    assert set(result.valid[TARGET]) == {"Yes", "No"}


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("Department", "Finance", "expected one of 'Human Resources', 'Research & Development'"),
        ("Gender", "female", "values are case-sensitive"),
        ("MonthlyIncome", "-10", "out of range; expected an integer from 0 to 1000000"),
        ("Age", "forty", "not an integer; expected an integer from 18 to 80"),
        ("Age", "41.5", "not an integer; expected an integer from 18 to 80"),
        ("MonthlyIncome", "5000.01", "not an integer"),
        ("StandardHours", "80.5", "expected the constant 80"),
        ("Age", "17", "out of range; expected an integer from 18 to 80"),
        ("JobLevel", "", "required value is missing; expected an integer from 1 to 5"),
        ("OverTime", " ", "required value is missing; expected one of 'No', 'Yes'"),
        (IDENTIFIER, "0", "out of range; expected an integer from 1 to 2147483647"),
        (IDENTIFIER, "E-17", "not an integer"),
        (TARGET, "Maybe", "expected one of 'No', 'Yes' (or empty when unknown)"),
        ("Over18", "N", "expected the constant 'Y'"),
        ("StandardHours", "40", "expected the constant 80"),
        ("EducationField", "x" * (MAX_FIELD_CHARS + 1), "longer than 1024 characters"),
        ("Age", "9" * 30, "not an integer"),
    ],
    ids=lambda v: str(v)[:20],
)
def test_each_bad_value_rejects_its_row_with_a_reason_naming_the_field(
    raw: pd.DataFrame, column: str, value: str, expected: str
) -> None:
    bad = raw.copy()
    bad.loc[5, column] = value
    result = validate_frame(bad)
    errors = errors_of(result)
    assert list(errors) == [5]
    assert list(errors[5]) == [column]
    assert expected in errors[5][column]
    assert len(result.valid) == len(raw) - 1
    kept = result.rejected[0].raw[column]
    assert kept is None if not value.strip() else kept is not None and kept[:50] == value[:50]


def test_missing_attrition_value_is_an_unlabelled_valid_row(raw: pd.DataFrame) -> None:
    bad = raw.copy()
    bad.loc[7, TARGET] = ""
    result = validate_frame(bad)
    assert not result.rejected
    assert result.valid[TARGET].isna().sum() == 1


def test_every_copy_of_a_duplicated_id_is_rejected(raw: pd.DataFrame) -> None:
    bad = raw.copy()
    bad.loc[9, IDENTIFIER] = bad.loc[3, IDENTIFIER]
    result = validate_frame(bad)
    assert sorted(errors_of(result)) == [3, 9]
    assert all("more than one row" in e[IDENTIFIER] for e in errors_of(result).values())


def test_tenure_order_is_a_cross_field_rule(raw: pd.DataFrame) -> None:
    bad = raw.copy()
    bad.loc[4, "YearsAtCompany"] = str(int(bad.loc[4, "TotalWorkingYears"]) + 1)
    bad.loc[6, "YearsWithCurrManager"] = str(int(bad.loc[6, "YearsAtCompany"]) + 1)
    result = validate_frame(bad)
    errors = errors_of(result)
    assert set(errors) == {4, 6}
    assert "must not be greater than TotalWorkingYears" in errors[4]["YearsAtCompany"]
    assert "YearsAtCompany" in errors[6]["YearsWithCurrManager"]


def test_one_row_lists_every_bad_field_once_most_basic_problem_first(raw: pd.DataFrame) -> None:
    bad = raw.copy()
    bad.loc[2, ["Age", "Gender", "YearsAtCompany"]] = ["", "X", "99"]
    result = validate_frame(bad)
    (row,) = result.rejected
    assert [e["field"] for e in row.errors] == ["Age", "Gender", "YearsAtCompany"]
    # YearsAtCompany is both out of range and above TotalWorkingYears: range is reported.
    assert row.errors[2]["reason"].startswith("out of range")


def test_missing_required_column_is_one_clear_error(raw: pd.DataFrame) -> None:
    with pytest.raises(AttritionError, match=r"missing required column\(s\): MonthlyIncome"):
        validate_frame(raw.drop(columns=["MonthlyIncome"]))


def test_duplicated_columns_are_one_clear_error(raw: pd.DataFrame) -> None:
    with pytest.raises(AttritionError, match="duplicated column names: Age"):
        validate_frame(pd.concat([raw, raw[["Age"]]], axis=1))


def test_extra_columns_are_ignored_with_a_warning(raw: pd.DataFrame) -> None:
    result = validate_frame(raw.assign(Notes="x"))
    assert len(result.valid) == len(raw)
    assert "Notes" not in result.valid.columns
    assert result.warnings == ["ignored 1 column(s) not in the schema: 'Notes'"]


def test_typed_input_and_default_index_are_accepted(raw: pd.DataFrame) -> None:
    typed = raw.reset_index(drop=True).astype(dict.fromkeys(NUMERIC_NAMES, "int64"))
    typed = pd.concat([typed, typed.iloc[[0]]])  # a non-unique index: positions are used
    result = validate_frame(typed.drop(columns=[TARGET]))
    assert sorted(errors_of(result)) == [1, len(typed)]
    assert TARGET not in result.valid.columns


def test_an_empty_frame_validates_to_nothing(raw: pd.DataFrame) -> None:
    result = validate_frame(raw.iloc[0:0])
    assert (len(result.valid), len(result.rejected)) == (0, 0)
    assert list(result.valid.columns) == [IDENTIFIER, *FEATURE_NAMES, TARGET]


def test_top_reasons_count_rows_per_field_and_reason(raw: pd.DataFrame) -> None:
    bad = raw.copy()
    bad.loc[[2, 3, 4], "Gender"] = "?"
    bad.loc[5, "Age"] = "x"
    (first, second) = validate_frame(bad).top_reasons()
    assert (first[0], first[2], second[0], second[2]) == ("Gender", 3, "Age", 1)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(
        st.tuples(
            st.integers(min_value=2, max_value=61),
            st.sampled_from(RAW_COLUMNS),
            st.sampled_from(["", "-1", "abc", "99999999", "Yes", "1.5", "Sales", "0"]),
        ),
        max_size=12,
    )
)
def test_rows_in_equal_valid_plus_rejected_for_any_corruption(
    raw: pd.DataFrame, cells: list[tuple[int, str, str]]
) -> None:
    bad = raw.copy()
    for row, column, value in cells:
        bad.loc[row, column] = value
    result = validate_frame(bad)
    assert result.rows_read == len(raw)
    rejected = {r.row_number for r in result.rejected}
    assert all(
        r.errors and all(e["field"] in RAW_COLUMNS for e in r.errors) for r in result.rejected
    )
    untouched = set(bad.index) - {row for row, _, _ in cells}
    assert not rejected & untouched - _rows_sharing_ids(bad)


def _rows_sharing_ids(frame: pd.DataFrame) -> set[int]:
    return set(frame.index[frame[IDENTIFIER].duplicated(keep=False)])


def test_integers_written_as_decimals_load_as_integers(raw: pd.DataFrame) -> None:
    """Spreadsheets and pandas write 24 as 24.0: such a file is valid, values unchanged."""
    decimal = raw.copy()
    for name in (IDENTIFIER, *NUMERIC_NAMES, "EmployeeCount", "StandardHours"):
        decimal[name] = decimal[name].astype(str) + ".0"
    result = validate_frame(decimal)
    assert (len(result.valid), len(result.rejected)) == (60, 0)
    expected = validate_frame(raw).valid
    pd.testing.assert_frame_equal(result.valid, expected)
