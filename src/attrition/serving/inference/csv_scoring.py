"""Offline scoring of a CSV with the champion, on the same compiled path as the API."""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from attrition import actions
from attrition.capacity import Capacity
from attrition.data.validation import read_dataset
from attrition.db.engine import get_engine
from attrition.db.types import utcnow
from attrition.errors import AttritionError
from attrition.privacy import pseudonymise
from attrition.risk import risk_band
from attrition.schema import FEATURE_NAMES, IDENTIFIER
from attrition.serving.inference.levers import suggest
from attrition.serving.inference.model_service import ModelService, ServedModel
from attrition.serving.predlog.writer import PredictionLogWriter, insert_ignoring_duplicates
from attrition.serving.state import model_stores, serving_paths
from attrition.settings import Settings

OUTPUT_COLUMNS = (IDENTIFIER, "attrition_probability", "at_risk", "model_version")


@dataclass(frozen=True, slots=True)
class BatchResult:
    rows_read: int
    rows_scored: int
    rows_rejected: int
    rows_at_risk: int
    model_version: str
    model_source: str
    out: Path
    rows_listed: int | None = None  # the action list's length, when one was asked for

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "rows_scored": self.rows_scored,
            "rows_rejected": self.rows_rejected,
            "rows_at_risk": self.rows_at_risk,
            "model_version": self.model_version,
            "model_source": self.model_source,
            "out": str(self.out),
            "rows_listed": self.rows_listed,
        }


def load_champion(settings: Settings) -> ServedModel:
    """The champion from the registry, else the verified local cache."""
    stores = model_stores(settings, settings.pseudonym_secret())
    return ModelService(stores, poll_seconds=0).load_initial()


def score_frame(served: ServedModel, frame: pd.DataFrame) -> pd.DataFrame:
    """The output table for validated rows (pure)."""
    probabilities = served.scorer.probabilities_frame(frame)
    return pd.DataFrame(
        {
            IDENTIFIER: frame[IDENTIFIER].to_numpy(),
            "attrition_probability": probabilities,
            "at_risk": probabilities >= served.threshold,
            "model_version": served.version,
        }
    )


def action_list(served: ServedModel, frame: pd.DataFrame, count: int) -> pd.DataFrame:
    """The ranked action list (``attrition.actions``) of validated rows: the ``count``
    highest risks with their top factors and best lever (levers only for those rows)."""
    scores = served.scorer.score_frame(frame, actions.TOP_FACTORS)
    table = pd.DataFrame(
        {
            IDENTIFIER: frame[IDENTIFIER].to_numpy(),
            actions.SCORE: scores.probabilities,
            "_row": np.arange(len(frame)),
        }
    )
    top = actions.ranked(table, count)
    picked: list[dict[str, Any]] = frame.iloc[top["_row"].to_numpy()].to_dict("records")  # type: ignore[assignment]
    found = suggest(served.scorer, served.feature_names, picked, top[actions.SCORE].to_numpy())
    best = [s[0].as_dict() if s else None for s in found]
    top["risk_band"] = [risk_band(p, served.threshold) for p in top[actions.SCORE]]
    top["top_factors"] = [
        actions.factors_text([(name, row[name], c) for name, c in scores.factors[i]])
        for i, row in zip(top["_row"].tolist(), picked, strict=True)
    ]
    top["best_lever"] = [actions.lever_text(lever) for lever in best]
    top["risk_after_lever"] = pd.Series([actions.risk_after(b) for b in best], dtype="float64")
    return top[list(actions.ACTION_COLUMNS)]


def log_rows(
    served: ServedModel, frame: pd.DataFrame, scored: pd.DataFrame, key: bytes
) -> list[dict[str, Any]]:
    """Prediction-log rows (source ``batch``) for scored rows."""
    now = utcnow()
    request_id = f"batch-{uuid.uuid4().hex[:12]}"
    features = frame[list(FEATURE_NAMES)].to_dict("records")
    return [
        {
            "prediction_id": str(uuid.uuid4()),
            "request_id": request_id,
            "employee_key": pseudonymise(int(number), key),
            "model_name": served.name,
            "model_version": served.version,
            "probability": float(p),
            "at_risk": bool(r),
            "threshold": served.threshold,
            "features": _plain(f),
            "client": "cli",
            "source": "batch",
            "created_at": now,
        }
        for number, p, r, f in zip(
            scored[IDENTIFIER],
            scored["attrition_probability"],
            scored["at_risk"],
            features,
            strict=True,
        )
    ]


def _plain(values: dict[Any, Any]) -> dict[str, Any]:
    return {str(k): v.item() if isinstance(v, np.generic) else v for k, v in values.items()}


def score_csv(
    path: Path,
    out: Path,
    settings: Settings,
    *,
    log: bool = True,
    capacity: Capacity | None = None,
) -> BatchResult:
    """Validate ``path``, score its valid rows, write ``out``; rejected rows are counted.
    With HR's ``capacity``, ``out`` gets the ranked action list of that many employees
    instead of every score; every scored row is logged either way."""
    if not path.is_file():
        raise AttritionError(f"FILE: {path} does not exist")
    result = read_dataset(path)
    count = None if capacity is None else capacity.people(len(result.valid))
    served = load_champion(settings)
    scored = score_frame(served, result.valid)
    written = scored if count is None else action_list(served, result.valid, count)
    out.parent.mkdir(parents=True, exist_ok=True)
    written.to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
    if log and len(scored):
        writer = PredictionLogWriter(
            insert_ignoring_duplicates(get_engine(settings.database_url, settings.db_pool_size)),
            serving_paths(settings)["spool"],
        )
        writer.submit(log_rows(served, result.valid, scored, settings.pseudonym_secret()))
        writer.close()
    return BatchResult(
        rows_read=result.rows_read,
        rows_scored=len(scored),
        rows_rejected=len(result.rejected),
        rows_at_risk=int(scored["at_risk"].sum()),
        model_version=served.version,
        model_source=served.source,
        out=out,
        rows_listed=None if count is None else len(written),
    )
