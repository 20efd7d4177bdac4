"""Batch scoring from an uploaded CSV: read, check every row and field, score valid rows in
chunks, then sort, filter and export the results.

Checking is vectorised pandas over the schema module's ranges and categories; scoring goes
through a callable (the API client's batch route) so this module stays free of I/O.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from attrition.dashboard.api.client import TooLargeError
from attrition.dashboard.api.responses import Prediction
from attrition.errors import AttritionError
from attrition.risk import risk_band
from attrition.schema import (
    FEATURE_NAMES,
    FEATURES,
    IDENTIFIER,
    IDENTIFIER_RANGE,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    TENURE_ORDER,
    CategoricalFeature,
    allowed_values,
)

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
    "model_version",
)


@dataclass(frozen=True)
class BatchCheck:
    """The outcome of checking a file: valid rows (typed), errors by line and field."""

    valid: pd.DataFrame
    errors: pd.DataFrame
    total_rows: int
    ignored_columns: tuple[str, ...]

    @property
    def invalid_rows(self) -> int:
        return int(self.errors[LINE].nunique()) if len(self.errors) else 0


def read_upload(data: bytes) -> pd.DataFrame:
    """The uploaded bytes as a frame of strings, or one clear error about the file."""
    if not data.strip():
        raise AttritionError("The file is empty; upload a CSV with a header row.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AttritionError("The file is not UTF-8 text; upload a CSV file.") from None
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise AttritionError(f"The file is not a readable CSV: {error}".strip()) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise AttritionError(
            f"The file lacks required columns: {', '.join(missing)} (found "
            f"{', '.join(frame.columns[:8])}{'...' if len(frame.columns) > 8 else ''})."
        )
    return frame


def _errors(
    lines: pd.Series[Any],
    frame: pd.DataFrame,
    mask: pd.Series[bool],
    field: str,
    problem: str | pd.Series[Any],
) -> pd.DataFrame:
    bad = mask[mask].index
    text = problem if isinstance(problem, str) else problem.loc[bad]
    return pd.DataFrame(
        {
            LINE: lines.loc[bad],
            IDENTIFIER: frame.loc[bad, IDENTIFIER],
            "field": field,
            "value": frame.loc[bad, field],
            "problem": text,
        }
    )


def _integers(
    values: pd.Series[Any], low: int, high: int
) -> tuple[pd.Series[Any], pd.Series[bool]]:
    """Parsed integers and a mask of cells that are not integers inside [low, high]."""
    numbers = pd.to_numeric(values.str.strip(), errors="coerce")
    whole = numbers.notna() & (numbers == np.floor(numbers))
    bad = ~(whole & (numbers >= low) & (numbers <= high))
    return numbers, bad


def _check_identifier(frame: pd.DataFrame, lines: pd.Series[Any]) -> list[pd.DataFrame]:
    numbers, bad = _integers(frame[IDENTIFIER], *IDENTIFIER_RANGE)
    low, high = IDENTIFIER_RANGE
    found = [_errors(lines, frame, bad, IDENTIFIER, f"must be an integer from {low} to {high}")]
    first = lines.groupby(numbers).transform("min")
    duplicate = ~bad & numbers.duplicated(keep="first")
    found.append(
        _errors(
            lines,
            frame,
            duplicate,
            IDENTIFIER,
            "duplicate EmployeeNumber (first on line " + first.astype(str) + ")",
        )
    )
    return found


Parsed = dict[str, "pd.Series[Any]"]


def _check_features(
    frame: pd.DataFrame, lines: pd.Series[Any]
) -> tuple[list[pd.DataFrame], Parsed]:
    found: list[pd.DataFrame] = []
    parsed: Parsed = {}
    for name in FEATURE_NAMES:
        feature = FEATURES[name]
        if isinstance(feature, CategoricalFeature):
            values = frame[name].str.strip()
            bad = ~values.isin(feature.categories)
            parsed[name] = values
        else:
            parsed[name], bad = _integers(frame[name], feature.low, feature.high)
        empty = frame[name].str.strip() == ""
        found.append(_errors(lines, frame, bad & empty, name, "is missing"))
        found.append(_errors(lines, frame, bad & ~empty, name, f"must be {allowed_values(name)}"))
    return found, parsed


def _check_tenure(
    frame: pd.DataFrame, lines: pd.Series[Any], parsed: Mapping[str, pd.Series[Any]]
) -> list[pd.DataFrame]:
    found = []
    for smaller, larger in TENURE_ORDER:
        bad = (parsed[smaller] > parsed[larger]).fillna(False).astype(bool)
        found.append(
            _errors(
                lines,
                frame,
                bad,
                smaller,
                f"cannot exceed {larger} (" + frame[larger].astype(str) + ")",
            )
        )
    return found


def check_rows(frame: pd.DataFrame) -> BatchCheck:
    """Check every row and field of a frame read by :func:`read_upload`."""
    frame = frame.reset_index(drop=True)
    lines = pd.Series(np.arange(len(frame)) + 2, index=frame.index)
    id_errors = _check_identifier(frame, lines)
    feature_errors, parsed = _check_features(frame, lines)
    found = [*id_errors, *feature_errors, *_check_tenure(frame, lines, parsed)]
    errors = (
        pd.concat(found, ignore_index=True)
        .sort_values([LINE, "field"], kind="stable")
        .reset_index(drop=True)
    )
    bad_lines = set(errors[LINE])
    keep = ~lines.isin(bad_lines)
    valid = pd.DataFrame({IDENTIFIER: pd.to_numeric(frame.loc[keep, IDENTIFIER]).astype("int64")})
    for name in FEATURE_NAMES:
        column = parsed[name].loc[keep]
        categorical = isinstance(FEATURES[name], CategoricalFeature)
        valid[name] = column if categorical else column.astype("int64")
    valid.insert(0, LINE, lines.loc[keep])
    known = {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS}
    ignored = tuple(c for c in frame.columns if c not in known)
    return BatchCheck(
        valid.reset_index(drop=True), errors[list(ERROR_COLUMNS)], len(frame), ignored
    )


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
    return "; ".join(
        f"{f.feature}={f.value} ({f.contribution:+.2f})" for f in prediction.top_factors
    )


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
    frame["model_version"] = [p.model_version for p in predictions]
    return frame[list(SCORE_COLUMNS)]


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
