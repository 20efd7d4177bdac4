"""Batch file checks (the ingest rules), chunked scoring and result handling, on the dev rows."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pandas as pd
import pytest

from attrition.actions import ACTION_COLUMNS, NO_LEVER
from attrition.dashboard.api.client import TooLargeError
from attrition.dashboard.api.responses import Lever, LeverChange, Prediction
from attrition.dashboard.panels.batch import (
    LINE,
    action_list,
    check_upload,
    chunked,
    filter_results,
    payloads,
    results_frame,
    score_in_chunks,
    to_csv_bytes,
)
from attrition.data.validation import read_dataset
from attrition.errors import AttritionError
from attrition.schema import FEATURE_NAMES, IDENTIFIER, PROTECTED_ATTRIBUTES


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


@pytest.fixture
def raw(dev_csv: Path) -> pd.DataFrame:
    return pd.read_csv(dev_csv, dtype=str, keep_default_na=False).head(40)


def _prediction(number: int, probability: float) -> Prediction:
    return Prediction(
        prediction_id=f"p{number}",
        employee_number=number,
        attrition_probability=probability,
        at_risk=probability >= 0.3,
        threshold=0.3,
        model_name="m",
        model_version="1",
        top_factors=[],
    )


def test_real_rows_all_pass(dev_csv: Path) -> None:
    data = dev_csv.read_bytes()
    check = check_upload(data)
    assert check.sha256 == hashlib.sha256(data).hexdigest()
    assert check.total_rows == 1176
    assert len(check.valid) == 1176 and check.errors.empty
    assert list(check.valid.columns) == [LINE, IDENTIFIER, *FEATURE_NAMES]
    assert check.valid["Age"].dtype == "int64"


def test_errors_name_line_field_and_allowed_values(raw: pd.DataFrame) -> None:
    raw.loc[0, "OverTime"] = "Sometimes"
    raw.loc[1, "Age"] = "17"
    raw.loc[1, "JobLevel"] = "2.5"
    raw.loc[2, "MonthlyIncome"] = ""
    raw.loc[3, "YearsAtCompany"] = "60"  # more than TotalWorkingYears
    check = check_upload(_csv(raw))
    found = {(int(r[LINE]), r["field"]): r["problem"] for _, r in check.errors.iterrows()}
    assert found[(2, "OverTime")] == (
        "not an allowed value (values are case-sensitive); expected one of 'No', 'Yes'"
    )
    assert found[(3, "Age")] == "out of range; expected an integer from 18 to 80"
    assert found[(3, "JobLevel")] == "not an integer; expected an integer from 1 to 5"
    assert found[(4, "MonthlyIncome")].startswith("required value is missing")
    assert found[(5, "YearsAtCompany")].startswith("must not be greater than TotalWorkingYears")
    assert check.invalid_rows == 4
    assert len(check.valid) == 36
    assert not set(check.valid[LINE]) & {2, 3, 4, 5}
    assert check.errors.loc[0, IDENTIFIER] == raw.loc[0, IDENTIFIER]


def test_every_copy_of_a_duplicate_employee_number_is_rejected(raw: pd.DataFrame) -> None:
    raw.loc[4, IDENTIFIER] = raw.loc[5, IDENTIFIER]
    raw.loc[30, IDENTIFIER] = raw.loc[5, IDENTIFIER]
    check = check_upload(_csv(raw))
    assert list(check.errors[LINE]) == [6, 7, 32]
    assert set(check.errors["field"]) == {IDENTIFIER}
    assert set(check.errors["value"]) == {raw.loc[5, IDENTIFIER]}
    assert all("every copy is rejected" in problem for problem in check.errors["problem"])
    assert check.invalid_rows == 3 and len(check.valid) == 37
    assert raw.loc[5, IDENTIFIER] not in set(check.valid[IDENTIFIER].astype(str))


def test_upload_checks_are_the_ingest_checks(raw: pd.DataFrame, tmp_path: Path) -> None:
    raw.loc[0, "BusinessTravel"] = "travel_rarely"
    raw.loc[1, "YearsInCurrentRole"] = "99"
    raw.loc[2, IDENTIFIER] = raw.loc[3, IDENTIFIER]
    path = tmp_path / "snapshot.csv"
    path.write_bytes(_csv(raw) + b"1,2,3\n")  # and a record with too few fields
    check, ingested = check_upload(path.read_bytes()), read_dataset(path)
    expected = [
        (row.row_number, error["field"], error["value"], error["reason"])
        for row in ingested.rejected
        for error in row.errors
    ]
    shown = check.errors[[LINE, "field", "value", "problem"]].itertuples(index=False)
    assert [tuple(row) for row in shown] == expected
    assert check.valid.drop(columns=LINE).equals(ingested.valid.drop(columns="Attrition"))
    assert check.total_rows == ingested.rows_read == len(raw) + 1


def test_whole_file_problems_are_one_clear_error(raw: pd.DataFrame) -> None:
    with pytest.raises(AttritionError, match=r"^team\.csv: missing required column\(s\): OverTime"):
        check_upload(_csv(raw.drop(columns=["OverTime"])), "team.csv")
    with pytest.raises(AttritionError, match="empty"):
        check_upload(b"  \n")
    with pytest.raises(AttritionError, match="UTF-16"):
        check_upload(b"\xff\xfe\x00binary\x00")
    with pytest.raises(AttritionError, match="not UTF-8"):
        check_upload(_csv(raw).replace(b"Sales", b"Ventes g\xe9n\xe9rales", 1))


def test_bom_extra_columns_and_payload_types(raw: pd.DataFrame) -> None:
    raw["Notes"] = "x"
    check = check_upload(b"\xef\xbb\xbf" + _csv(raw))
    assert check.ignored_columns == ("Notes",)
    body = payloads(check.valid)[0]
    assert set(body) == {IDENTIFIER, *FEATURE_NAMES}
    assert type(body["Age"]) is int and type(body["OverTime"]) is str


def test_chunks_follow_the_api_limit() -> None:
    rows = [{"i": i} for i in range(25)]
    sizes: list[int] = []

    def score(chunk: object) -> list[Prediction]:
        assert isinstance(chunk, list)
        sizes.append(len(chunk))
        if len(chunk) > 7:
            raise TooLargeError("too large", limit=7)
        return [_prediction(r["i"] + 1, 0.1) for r in chunk]

    progress: list[int] = []
    out = score_in_chunks(rows, score, 10, lambda done, total: progress.append(done))
    assert [p.employee_number for p in out] == list(range(1, 26))
    assert sizes == [10, 7, 7, 7, 4] and progress == [7, 14, 21, 25]
    assert [len(c) for c in chunked(rows, 10)] == [10, 10, 5]


def test_results_filter_sort_and_export(raw: pd.DataFrame) -> None:
    check = check_upload(_csv(raw.head(4)))
    probabilities = [0.1, 0.5, 0.2, 0.9]
    numbers = check.valid[IDENTIFIER].tolist()
    results = results_frame(
        check.valid, [_prediction(n, p) for n, p in zip(numbers, probabilities, strict=True)]
    )
    assert list(results["risk_band"]) == ["low", "high", "medium", "high"]
    top = filter_results(results, min_probability=0.15)
    assert list(top["attrition_probability"]) == [0.9, 0.5, 0.2]
    assert list(
        filter_results(results, at_risk_only=True, ascending=True)["attrition_probability"]
    ) == [0.5, 0.9]
    department = results.loc[0, "Department"]
    assert set(filter_results(results, departments=[department])["Department"]) == {department}
    exported = pd.read_csv(io.BytesIO(to_csv_bytes(results)))
    assert list(exported[IDENTIFIER]) == numbers
    with pytest.raises(ValueError, match="3 predictions for 4 rows"):
        results_frame(check.valid, [_prediction(1, 0.1)] * 3)


def test_action_list_holds_the_capacity_ranked_by_score(raw: pd.DataFrame) -> None:
    check = check_upload(_csv(raw.head(6)))
    numbers = check.valid[IDENTIFIER].tolist()
    probabilities = [0.1, 0.5, 0.2, 0.9, 0.5, 0.05]
    lever = Lever(
        changes=[
            LeverChange(feature="OverTime", value="Yes", new_value="No", action="end overtime")
        ],
        attrition_probability=0.3,
        risk_reduction=0.6,
    )
    predictions = [
        _prediction(n, p).model_copy(update={"levers": [lever] if p == 0.9 else []})
        for n, p in zip(numbers, probabilities, strict=True)
    ]
    results = results_frame(check.valid, predictions)
    listed = action_list(results, 3)
    assert list(listed.columns) == list(ACTION_COLUMNS)
    assert not set(listed.columns) & set(PROTECTED_ATTRIBUTES)
    assert listed["attrition_probability"].tolist() == [0.9, 0.5, 0.5]
    tied = sorted(n for n, p in zip(numbers, probabilities, strict=True) if p == 0.5)
    assert listed[IDENTIFIER].tolist()[1:] == tied
    assert listed.loc[0, "best_lever"] == "end overtime (OverTime Yes -> No)"
    assert listed.loc[0, "risk_after_lever"] == 0.3
    assert listed.loc[1, "best_lever"] == NO_LEVER
    assert len(action_list(results, 50)) == 6
