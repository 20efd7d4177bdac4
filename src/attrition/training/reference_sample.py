"""The drift reference saved with every version (pure; logged by ``mlflow_run.py``).

No linkable personal row leaves training: each schema feature of the training data (train
and holdout rows) is summarised on its own as a marginal, and the scores are kept as two
sorted lists without labels: "holdout" (the registered, served model's probabilities on the
holdout) and "out_of_fold" (calibrated out-of-fold probabilities of the train rows). See
``registry/reference.py`` for the format; monitoring compares current data with it
(``monitoring/reference.py``).
"""

from __future__ import annotations

import pandas as pd

from attrition.registry.reference import (
    HOLDOUT,
    OUT_OF_FOLD,
    ReferenceMarginals,
    marginals_from_frame,
)
from attrition.schema import FEATURE_NAMES
from attrition.training.pipeline import Evaluation, PreparedData


def reference_marginals(data: PreparedData, evaluation: Evaluation) -> ReferenceMarginals:
    """Per-feature marginals of every training row, and the sorted score lists."""
    rows = pd.concat([data.train, data.holdout], ignore_index=True)
    scores = {
        HOLDOUT: evaluation.holdout_probabilities,
        OUT_OF_FOLD: evaluation.oof_probabilities.mean(axis=0),
    }
    return marginals_from_frame(rows, FEATURE_NAMES, scores)
