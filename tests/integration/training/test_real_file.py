"""Model quality on real rows (``ATTRITION_REAL_DATA``; skipped without it).

The synthetic workforce proves the pipeline; only the real file says whether the model
finds real leavers. A short search (the e2e run uses the full default budget) must still
rank them well on rows it never saw, and be calibrated out of fold.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from attrition.training.train import train_model

from .conftest import quick_options

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_short_search_on_the_real_file_ranks_unseen_leavers_well(real_csv: Path) -> None:
    frame = pd.read_csv(real_csv)
    result = train_model(frame, quick_options(seed=42))
    assert result.rows == len(frame)
    assert result.metrics["roc_auc"] >= 0.80
    assert result.oof_metrics["roc_auc"] >= 0.80
    assert result.oof_metrics["ece"] <= 0.06
    assert result.promoted and result.gate.passed
