"""Small, fast training options for integration tests (the real defaults run in e2e), and
the test's database migrated first, as the commands that train do."""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
import pytest

from attrition.db.migrate import upgrade
from attrition.registry import RegistryConfig
from attrition.settings import get_settings
from attrition.training.pipeline import TrainingOptions

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="session")
def dev_frame(dev_csv: Path) -> pd.DataFrame:
    return pd.read_csv(dev_csv)


@pytest.fixture(autouse=True)
def migrated(isolated_settings: Path) -> str:
    """Training audits its alias moves: the database is migrated before it runs."""
    url = get_settings().database_url
    upgrade(url)
    return url


def registry_config() -> RegistryConfig:
    """The registry of this test's settings."""
    return RegistryConfig.from_settings(get_settings())


def quick_options(**overrides: object) -> TrainingOptions:
    """Few trials and folds: seconds, not minutes."""
    base = {
        "n_trials": 5,
        "timeout_s": None,
        "cv_folds": 3,
        "cv_repeats": 1,
        "bootstrap_resamples": 200,
    }
    return TrainingOptions.from_settings(get_settings(), **(base | overrides))
