"""Two `attrition train --join` workers share one Optuna study on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from attrition.training.train import train_model

from .conftest import quick_options

pytestmark = pytest.mark.integration
STUDY = "shared-search"


def worker(storage: str, dev_csv: Path) -> subprocess.Popen[str]:
    env = os.environ | {
        "ATTRITION_OPTUNA_STORAGE": storage,
        "ATTRITION_CV_FOLDS": "3",
        "ATTRITION_CV_REPEATS": "1",
    }
    command = [str(Path(sys.executable).parent / "attrition"), "train", "--data", str(dev_csv)]
    command += ["--join", STUDY, "--trials", "3", "--seed", "42", "--json"]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_workers_complete_one_search_and_the_leader_uses_all_trials(
    postgres_url, dev_csv, dev_frame
):
    workers = [worker(postgres_url, dev_csv) for _ in range(2)]
    outputs = [w.communicate(timeout=600) for w in workers]
    for w, (_, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err[-2000:]
    summaries = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert all(s["study_name"] == STUDY and s["trials_this_worker"] == 3 for s in summaries)

    study = optuna.load_study(study_name=STUDY, storage=postgres_url)
    trials = study.get_trials(deepcopy=False)
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(6))  # shared, unique, no gaps
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    assert all(t.state.is_finished() for t in trials)

    # the leader adds its own trial and fits the best configuration of the whole study
    result = train_model(
        dev_frame,
        quick_options(study_name=STUDY, storage_url=postgres_url, n_trials=1, seed=42),
    )
    study = optuna.load_study(study_name=STUDY, storage=postgres_url)
    assert len(study.trials) == 7
    assert result.best_params == study.best_params
    assert result.best_cv_roc_auc == pytest.approx(study.best_value)


def test_joining_with_different_settings_is_refused(postgres_url, dev_frame):
    from attrition.errors import AttritionError
    from attrition.training.train import join_search

    join_search(dev_frame, quick_options(study_name="s", storage_url=postgres_url, n_trials=1))
    different = quick_options(study_name="s", storage_url=postgres_url, n_trials=1, seed=1)
    with pytest.raises(AttritionError, match="set up differently \\(seed\\)"):
        join_search(dev_frame, different)
