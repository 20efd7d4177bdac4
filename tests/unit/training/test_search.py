"""Search space, pipelines per family, CV splits and seeded studies."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from attrition.schema import model_feature_names
from attrition.training.pipeline import labels_of
from attrition.training.search import (
    FAMILIES,
    build_pipeline,
    create_study,
    cross_validate,
    cv_splits,
    make_objective,
    suggest_params,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def sampled_configs(seed: int, n: int) -> list[dict[str, object]]:
    study = create_study("s", None, seed=seed, load_if_exists=False)
    configs = []
    for _ in range(n):
        trial = study.ask()
        configs.append(suggest_params(trial))
        study.tell(trial, float(len(configs)))
    return configs


def test_seeded_sampler_repeats_itself_and_covers_every_family():
    first = sampled_configs(11, 20)
    assert first == sampled_configs(11, 20)
    assert first != sampled_configs(12, 20)
    assert {c["family"] for c in first} == set(FAMILIES)


@pytest.mark.parametrize("seed", [0])
def test_every_family_builds_a_fittable_pipeline(seed, dev_frame):
    rows = dev_frame.iloc[:300]
    y = labels_of(rows)
    study = create_study("f", None, seed=seed, load_if_exists=False)
    seen = set()
    while seen != set(FAMILIES):
        trial = study.ask()
        params = suggest_params(trial)
        study.tell(trial, 0.5)
        if params["family"] in seen:
            continue
        seen.add(params["family"])
        pipeline = build_pipeline(params, model_feature_names(), seed)
        assert [name for name, _ in pipeline.steps] == ["engineer", "preprocess", "estimator"]
        scores = pipeline.fit(rows, y).predict_proba(rows)[:, 1]
        assert scores.shape == (300,) and np.isfinite(scores).all()


def test_cv_splits_are_stratified_repeated_and_seeded():
    y = np.array([1] * 30 + [0] * 120)
    splits = cv_splits(y, 5, 2, seed=3)
    assert len(splits) == 10
    for _, test in splits:
        assert y[test].sum() == 6
    for repeat in (splits[:5], splits[5:]):
        covered = np.sort(np.concatenate([test for _, test in repeat]))
        np.testing.assert_array_equal(covered, np.arange(150))
    assert all(
        np.array_equal(a[1], b[1]) for a, b in zip(splits, cv_splits(y, 5, 2, 3), strict=True)
    )


def test_cross_validate_fills_every_out_of_fold_score(dev_frame):
    rows = dev_frame.iloc[:200]
    y = labels_of(rows)
    params = {
        "family": "logistic_regression",
        "columns": "core",
        "ratios": True,
        "logs": True,
        "satisfaction": True,
        "ordinal_encoding": "onehot",
        "lr_C": 0.3,
        "lr_penalty": "l2",
        "lr_balanced": False,
    }
    reported = []
    result = cross_validate(
        build_pipeline(params, model_feature_names(), 0),
        rows,
        y,
        cv_splits(y, 3, 2, 0),
        3,
        on_fold=lambda step, mean: reported.append((step, mean)),
    )
    assert result.oof_scores.shape == (2, 200) and np.isfinite(result.oof_scores).all()
    assert [step for step, _ in reported] == list(range(6))
    assert reported[-1][1] == pytest.approx(result.mean_auc)


def test_pruner_stops_weak_trials(dev_frame):
    rows = dev_frame.iloc[:250]
    y = labels_of(rows)
    study = create_study("p", None, seed=5, load_if_exists=False)
    objective = make_objective(rows, y, model_feature_names(), cv_splits(y, 3, 1, 0), 3, 0)
    study.optimize(objective, n_trials=10)
    states = {t.state for t in study.trials}
    assert optuna.trial.TrialState.PRUNED in states
    assert optuna.trial.TrialState.COMPLETE in states
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert all(len(t.user_attrs["fold_aucs"]) == 3 for t in complete)
