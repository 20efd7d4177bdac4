"""Where training data comes from: a validated CSV or the newest database snapshot."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from attrition.schema import NEGATIVE_LABEL, POSITIVE_LABEL, TARGET

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainingInput:
    """Labelled rows to train on, how many were skipped, and where they came from."""

    frame: pd.DataFrame
    skipped_rows: int
    source: str


def labelled(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rows whose target is "Yes" or "No", and how many others were dropped (pure)."""
    if TARGET not in frame.columns:
        return frame, 0
    keep = frame[TARGET].isin([POSITIVE_LABEL, NEGATIVE_LABEL])
    return frame.loc[keep].reset_index(drop=True), int((~keep).sum())


def from_csv(path: Path) -> TrainingInput:
    """Validate a CSV; invalid and unlabelled rows are skipped and counted."""
    from attrition.data.validation import read_dataset

    result = read_dataset(path)
    frame, unlabelled = labelled(result.valid)
    skipped = len(result.rejected) + unlabelled
    if skipped:
        logger.info("skipped %d invalid or unlabelled rows of %s", skipped, path.name)
    return TrainingInput(frame, skipped, f"file:{path.name}")


def from_database(database_url: str) -> TrainingInput:
    """The newest labelled snapshot in the database."""
    from attrition.data.loading import load_training_frame

    frame = load_training_frame(database_url)
    snapshot = frame.attrs.get("snapshot_date", "newest")
    return TrainingInput(frame, 0, f"database:snapshot {snapshot}")
