"""The drift reference sample saved with every version (pure; logged by ``mlflow_run.py``).

Raw schema columns, the calibrated probability, the label and the split: "train" rows carry
their calibrated out-of-fold probability, "holdout" rows the registered (served) model's.
Monitoring compares current data with it (``monitoring/reference.py``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from attrition.registry.artifacts import REFERENCE_SCORE_COLUMN, REFERENCE_SPLIT_COLUMN
from attrition.schema import FEATURE_NAMES, TARGET
from attrition.training.pipeline import Evaluation, PreparedData

REFERENCE_MAX_ROWS = 5000


def _reference_part(
    rows: pd.DataFrame, probabilities: Any, split: str, limit: int, seed: int
) -> pd.DataFrame:
    columns = [c for c in FEATURE_NAMES if c in rows.columns]
    frame = rows[columns].copy()
    frame[REFERENCE_SCORE_COLUMN] = probabilities
    frame[TARGET] = rows[TARGET].astype(str).to_numpy()
    frame[REFERENCE_SPLIT_COLUMN] = split
    return frame.sample(limit, random_state=seed) if len(frame) > limit else frame


def reference_frame(data: PreparedData, evaluation: Evaluation, seed: int) -> pd.DataFrame:
    """At most ``REFERENCE_MAX_ROWS`` rows, train and holdout in their shares of the data."""
    share = len(data.holdout) / max(data.rows, 1)
    holdout_limit = max(1, int(REFERENCE_MAX_ROWS * share))
    parts = [
        _reference_part(
            data.train,
            evaluation.oof_probabilities.mean(axis=0),
            "train",
            REFERENCE_MAX_ROWS - holdout_limit,
            seed,
        ),
        _reference_part(
            data.holdout, evaluation.holdout_probabilities, "holdout", holdout_limit, seed
        ),
    ]
    return pd.concat(parts, ignore_index=True)
