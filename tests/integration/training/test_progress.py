"""A training run tells its listener every finished trial, then each later stage; the
listener is what the command line's progress display follows."""

from __future__ import annotations

import pandas as pd
import pytest

from attrition.training.progress import TrainingProgress
from attrition.training.train import join_search, train_model

from .conftest import quick_options

pytestmark = pytest.mark.integration


def test_training_reports_each_trial_and_then_its_stages(dev_frame: pd.DataFrame) -> None:
    events: list[TrainingProgress] = []
    result = train_model(dev_frame, quick_options(n_trials=4, on_progress=events.append))
    search = [event for event in events if event.stage == "search"]
    assert [(e.trials_done, e.trials_total) for e in search] == [(n, 4) for n in range(5)]
    assert search[0].best_cv_roc_auc is None  # nothing finished yet
    best = [e.best_cv_roc_auc for e in search[1:] if e.best_cv_roc_auc is not None]
    assert best == sorted(best) and best[-1] == pytest.approx(result.best_cv_roc_auc)
    assert [event.stage for event in events[len(search) :]] == ["fit", "record"]


def test_a_search_worker_reports_its_trials(dev_frame: pd.DataFrame) -> None:
    events: list[TrainingProgress] = []
    options = quick_options(n_trials=2, study_name="progress", on_progress=events.append)
    join_search(dev_frame, options)
    assert [(e.stage, e.trials_done) for e in events] == [("search", n) for n in range(3)]
