"""Small, fast training options for integration tests (the real defaults run in e2e)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
import pytest

from attrition.training.pipeline import TrainingOptions

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="session")
def dev_frame(dev_csv: Path) -> pd.DataFrame:
    return pd.read_csv(dev_csv)


def quick_options(**overrides: object) -> TrainingOptions:
    """Few trials and folds: seconds, not minutes."""
    base = {
        "n_trials": 5,
        "timeout_s": None,
        "cv_folds": 3,
        "cv_repeats": 1,
        "bootstrap_resamples": 200,
    }
    return TrainingOptions.from_settings(**(base | overrides))
