"""The Batch page's pure parts: check an uploaded CSV with the ingest rules, score the valid
rows in chunks, then sort, filter and export the results.

Checking is :mod:`attrition.data.validation`, exactly as ``attrition ingest`` applies it
(same rules, same reasons; every copy of a duplicated ``EmployeeNumber`` is rejected);
this module only lays its rejected rows out as one problem per line and field. Scoring
goes through a callable (the API client's batch route) so this module stays free of I/O.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from attrition import actions
from attrition.dashboard.api.client import TooLargeError
from attrition.dashboard.api.responses import Prediction
from attrition.data.reading import CsvTable, read_csv_bytes
from attrition.data.validation import RejectedRow, ValidationResult, validate_table
from attrition.risk import risk_band
from attrition.schema import FEATURE_NAMES, IDENTIFIER, RAW_COLUMNS

LINE = "line"  # the row's line number in the file (the header is line 1)
ERROR_COLUMNS = (LINE, IDENTIFIER, "field", "value", "problem")
CONTEXT_COLUMNS = ("Department", "JobRole", "JobLevel", "OverTime")
SCORE_COLUMNS = (
    IDENTIFIER,
    "attrition_probability",
    "at_risk",
    "risk_band",
    *CONTEXT_COLUMNS,
    "top_factors",
    "best_lever",
    "risk_after_lever",
    "model_version",
)


@dataclass(frozen=True)
class BatchCheck:
    """The outcome of checking a file: valid rows (typed), problems by line and field."""

    valid: pd.DataFrame
    errors: pd.DataFrame
    total_rows: int
    ignored_columns: tuple[str, ...]
    sha256: str  # of the file, so results are shown only for the file they came from

    @property
    def invalid_rows(self) -> int:
        return int(self.errors[LINE].nunique()) if len(self.errors) else 0


def check_upload(data: bytes, file_name: str = "upload") -> BatchCheck:
    """Read and check uploaded CSV bytes as ``attrition ingest`` reads and checks a file.

    A problem with the file as a whole raises :class:`AttritionError` (its message starts
    with ``file_name``); problems with rows become :attr:`BatchCheck.errors`.
    """
    table = read_csv_bytes(data, file_name)
    result = validate_table(table)
    return BatchCheck(
        valid=_valid_rows(table, result),
        errors=problems_table(result.rejected),
        total_rows=result.rows_read,
        ignored_columns=_ignored_columns(data),
        sha256=table.sha256,
    )


def problems_table(rejected: Sequence[RejectedRow]) -> pd.DataFrame:
    """One row per rejected field: line, the row's EmployeeNumber, field, value, reason."""
    rows = [
        (row.row_number, row.raw.get(IDENTIFIER), error["field"], error["value"], error["reason"])
        for row in rejected
        for error in row.errors
    ]
    return pd.DataFrame(rows, columns=list(ERROR_COLUMNS))


def _valid_rows(table: CsvTable, result: ValidationResult) -> pd.DataFrame:
    """The valid rows' identifier and features, after their line numbers (validation keeps
    the file's order, so the valid rows are the parsed lines minus the rejected ones)."""
    rejected = {row.row_number for row in result.rejected}
    lines = [int(line) for line in table.frame.index if line not in rejected]
    valid = result.valid[[IDENTIFIER, *FEATURE_NAMES]].reset_index(drop=True)
    valid.insert(0, LINE, pd.Series(lines, dtype="int64"))
    return valid


def _ignored_columns(data: bytes) -> tuple[str, ...]:
    """Header names outside the schema (the bytes were read already, so they decode)."""
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")), [])
    return tuple(name.strip() for name in header if name.strip() not in RAW_COLUMNS)


def payloads(valid: pd.DataFrame) -> list[dict[str, Any]]:
    """Request bodies (plain Python types) for the valid rows."""
    columns = [IDENTIFIER, *FEATURE_NAMES]
    return [
        {
            name: (value.item() if isinstance(value, np.generic) else value)
            for name, value in zip(columns, row, strict=True)
        }
        for row in valid[columns].itertuples(index=False, name=None)
    ]


def chunked(rows: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """``rows`` in consecutive chunks of at most ``size``."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def score_in_chunks(
    rows: Sequence[dict[str, Any]],
    score: Callable[[Sequence[dict[str, Any]]], list[Prediction]],
    chunk_size: int,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> list[Prediction]:
    """Score ``rows`` in chunks; when the API says a chunk is too large, retry the rest in
    chunks of the limit it names (or half the size)."""
    done: list[Prediction] = []
    size = chunk_size
    while len(done) < len(rows):
        chunk = rows[len(done) : len(done) + size]
        try:
            done.extend(score(chunk))
        except TooLargeError as error:
            smaller = error.limit if error.limit and error.limit < size else size // 2
            if smaller < 1:
                raise
            size = smaller
            continue
        on_progress(len(done), len(rows))
    return done


def _factors(prediction: Prediction) -> str:
    chosen = prediction.top_factors[: actions.TOP_FACTORS]
    return actions.factors_text([(f.feature, f.value, f.contribution) for f in chosen])


def _best_lever(prediction: Prediction) -> dict[str, Any] | None:
    """The first (best single) lever the API returned, as a plain mapping."""
    return prediction.levers[0].model_dump() if prediction.levers else None


def results_frame(valid: pd.DataFrame, predictions: Sequence[Prediction]) -> pd.DataFrame:
    """One row per scored employee: id, probability, decision, band, context, factors."""
    if len(valid) != len(predictions):
        raise ValueError(f"{len(predictions)} predictions for {len(valid)} rows")
    frame = pd.DataFrame(
        {
            IDENTIFIER: valid[IDENTIFIER].to_numpy(),
            "attrition_probability": [p.attrition_probability for p in predictions],
            "at_risk": [p.at_risk for p in predictions],
            "risk_band": [risk_band(p.attrition_probability, p.threshold) for p in predictions],
        }
    )
    for name in CONTEXT_COLUMNS:
        frame[name] = valid[name].to_numpy()
    frame["top_factors"] = [_factors(p) for p in predictions]
    best = [_best_lever(p) for p in predictions]
    frame["best_lever"] = [actions.lever_text(lever) for lever in best]
    frame["risk_after_lever"] = pd.Series([actions.risk_after(b) for b in best], dtype="float64")
    frame["model_version"] = [p.model_version for p in predictions]
    return frame[list(SCORE_COLUMNS)]


def action_list(results: pd.DataFrame, capacity: int) -> pd.DataFrame:
    """The ranked action list (``attrition.actions``): the ``capacity`` highest risks,
    ranked by score alone, with their top factors and best lever."""
    return actions.ranked(results, capacity)[list(actions.ACTION_COLUMNS)]


def filter_results(
    results: pd.DataFrame,
    *,
    min_probability: float = 0.0,
    at_risk_only: bool = False,
    departments: Sequence[str] = (),
    ascending: bool = False,
) -> pd.DataFrame:
    """Rows at or above ``min_probability`` (optionally at risk only, in some departments),
    sorted by probability (highest first unless ``ascending``)."""
    keep = results["attrition_probability"] >= min_probability
    if at_risk_only:
        keep &= results["at_risk"]
    if departments:
        keep &= results["Department"].isin(list(departments))
    return (
        results[keep]
        .sort_values("attrition_probability", ascending=ascending, kind="stable")
        .reset_index(drop=True)
    )


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV bytes for download."""
    return frame.to_csv(index=False).encode("utf-8")
