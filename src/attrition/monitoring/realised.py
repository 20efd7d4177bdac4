"""The people of a check whose outcome is known, read once for realised performance and
fairness in production: for the prediction log, the outcomes joined to the champion
version's predictions; for a file or a snapshot, its labelled rows with the check's scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from attrition.monitoring.reference import Champion
from attrition.monitoring.windows import (
    PREDICTION_LOG,
    BoolArray,
    CurrentWindow,
    FloatArray,
    outcome_pairs,
)


@dataclass(frozen=True, slots=True)
class Realised:
    """Rows, scores and outcomes; ``predicted_at`` only for logged predictions."""

    frame: pd.DataFrame
    probabilities: FloatArray
    left: BoolArray
    predicted_at: npt.NDArray[np.datetime64] | None
    basis: Literal["outcomes", "labels"]


def realised_outcomes(
    window: CurrentWindow, scores: FloatArray, database_url: str, champion: Champion
) -> Realised | None:
    """The check's realised outcomes, or None when it has none."""
    if window.provenance.source == PREDICTION_LOG:
        pairs = outcome_pairs(
            database_url, model_name=champion.name, model_version=champion.version
        )
        if pairs.count == 0:
            return None
        return Realised(
            pairs.features, pairs.probabilities, pairs.left, pairs.predicted_at, "outcomes"
        )
    if window.labelled is None or window.labels is None or not window.labelled.any():
        return None
    mask = window.labelled
    frame = window.frame.loc[mask].reset_index(drop=True)
    return Realised(frame, scores[mask], window.labels[mask], None, "labels")
