"""Hyperparameter search: three model families with preprocessing choices, Optuna TPE.

Each trial is scored by the mean ROC-AUC over stratified repeated k-fold CV on the training
split; the running mean is reported after every fold so the median pruner can stop a
weak trial early. With one worker and a fixed seed the sampler, the folds and every
estimator are deterministic, so the same seed gives the same trials and best trial.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import optuna
import pandas as pd
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import Pipeline
from sqlalchemy.exc import SQLAlchemyError

from attrition.training.features import (
    COLUMN_SETS,
    FeatureEngineer,
    build_preprocessor,
    select_columns,
)

logger = logging.getLogger(__name__)

FAMILIES: Final = ("logistic_regression", "forest", "lightgbm")
Split = tuple[NDArray[np.int64], NDArray[np.int64]]
FoldCallback = Callable[[int, float], None]


@dataclass(frozen=True, slots=True)
class CVResult:
    """Per-fold ROC-AUC and out-of-fold scores (one row per repeat)."""

    fold_aucs: tuple[float, ...]
    oof_scores: NDArray[np.float64]

    @property
    def mean_auc(self) -> float:
        return float(np.mean(self.fold_aucs))


def suggest_params(trial: optuna.Trial) -> dict[str, Any]:
    """Sample one configuration: family, preprocessing choices, family hyperparameters."""
    params: dict[str, Any] = {
        "family": trial.suggest_categorical("family", FAMILIES),
        "columns": trial.suggest_categorical("columns", COLUMN_SETS),
        "ratios": trial.suggest_categorical("ratios", (True, False)),
        "logs": trial.suggest_categorical("logs", (True, False)),
        "satisfaction": trial.suggest_categorical("satisfaction", (True, False)),
        "ordinal_encoding": trial.suggest_categorical("ordinal_encoding", ("onehot", "numeric")),
    }
    family_params = {
        "logistic_regression": _suggest_logistic,
        "forest": _suggest_forest,
        "lightgbm": _suggest_lightgbm,
    }[params["family"]](trial)
    return params | family_params


def _suggest_logistic(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "lr_C": trial.suggest_float("lr_C", 1e-2, 10.0, log=True),
        "lr_penalty": trial.suggest_categorical("lr_penalty", ("l2", "l1")),
        "lr_balanced": trial.suggest_categorical("lr_balanced", (False, True)),
    }


def _suggest_forest(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "forest_kind": trial.suggest_categorical("forest_kind", ("random_forest", "extra_trees")),
        "forest_n_estimators": trial.suggest_int("forest_n_estimators", 50, 250, step=50),
        "forest_max_depth": trial.suggest_int("forest_max_depth", 3, 10),
        "forest_min_samples_leaf": trial.suggest_int("forest_min_samples_leaf", 1, 20),
        "forest_max_features": trial.suggest_float("forest_max_features", 0.1, 0.7),
        "forest_balanced": trial.suggest_categorical("forest_balanced", (False, True)),
    }


def _suggest_lightgbm(trial: optuna.Trial) -> dict[str, Any]:
    return {
        "lgb_n_estimators": trial.suggest_int("lgb_n_estimators", 50, 400, step=25),
        "lgb_learning_rate": trial.suggest_float("lgb_learning_rate", 0.01, 0.2, log=True),
        "lgb_num_leaves": trial.suggest_int("lgb_num_leaves", 3, 31),
        "lgb_min_child_samples": trial.suggest_int("lgb_min_child_samples", 5, 80),
        "lgb_subsample": trial.suggest_float("lgb_subsample", 0.5, 1.0),
        "lgb_colsample_bytree": trial.suggest_float("lgb_colsample_bytree", 0.2, 1.0),
        "lgb_reg_lambda": trial.suggest_float("lgb_reg_lambda", 1e-3, 30.0, log=True),
    }


def build_estimator(params: dict[str, Any], seed: int) -> Any:
    """The estimator of a configuration (single-threaded, seeded, deterministic)."""
    family = params["family"]
    if family == "logistic_regression":
        return LogisticRegression(
            C=params["lr_C"],
            l1_ratio=1.0 if params["lr_penalty"] == "l1" else 0.0,
            solver="liblinear",
            class_weight="balanced" if params["lr_balanced"] else None,
            max_iter=5000,
            random_state=seed,
        )
    if family == "forest":
        forest = (
            RandomForestClassifier
            if params["forest_kind"] == "random_forest"
            else ExtraTreesClassifier
        )
        return forest(
            n_estimators=params["forest_n_estimators"],
            max_depth=params["forest_max_depth"],
            min_samples_leaf=params["forest_min_samples_leaf"],
            max_features=params["forest_max_features"],
            class_weight="balanced_subsample" if params["forest_balanced"] else None,
            n_jobs=1,
            random_state=seed,
        )
    if family == "lightgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=params["lgb_n_estimators"],
            learning_rate=params["lgb_learning_rate"],
            num_leaves=params["lgb_num_leaves"],
            min_child_samples=params["lgb_min_child_samples"],
            subsample=params["lgb_subsample"],
            subsample_freq=1,
            colsample_bytree=params["lgb_colsample_bytree"],
            reg_lambda=params["lgb_reg_lambda"],
            n_jobs=1,
            deterministic=True,
            force_row_wise=True,
            random_state=seed,
            verbose=-1,
        )
    raise ValueError(f"unknown model family {family!r}; expected one of {', '.join(FAMILIES)}")


def model_features(params: dict[str, Any], features: tuple[str, ...]) -> tuple[str, ...]:
    """The raw input columns a configuration uses, out of the allowed ``features``."""
    return select_columns(features, str(params.get("columns", "all")))


def build_pipeline(params: dict[str, Any], features: tuple[str, ...], seed: int) -> Pipeline:
    """The unfitted pipeline (engineer -> preprocess -> estimator) of a configuration.

    ``features`` are the allowed raw columns; the configuration's column set picks from them.
    """
    engineer = FeatureEngineer(
        model_features(params, features),
        ratios=bool(params["ratios"]),
        logs=bool(params["logs"]),
        satisfaction=bool(params["satisfaction"]),
    )
    scale = params["family"] == "logistic_regression"
    preprocess = build_preprocessor(
        engineer, ordinal_encoding=params["ordinal_encoding"], scale=scale
    )
    return Pipeline(
        [
            ("engineer", engineer),
            ("preprocess", preprocess),
            ("estimator", build_estimator(params, seed)),
        ]
    )


def cv_splits(y: NDArray[Any], folds: int, repeats: int, seed: int) -> list[Split]:
    """Stratified repeated k-fold splits, fixed by ``seed``."""
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    placeholder = np.zeros((len(y), 1))
    return [(tr, te) for tr, te in splitter.split(placeholder, np.asarray(y))]


def cross_validate(
    pipeline: Pipeline,
    frame: pd.DataFrame,
    y: NDArray[np.int64],
    splits: Sequence[Split],
    folds: int,
    on_fold: FoldCallback | None = None,
) -> CVResult:
    """Fit a clone per split; collect fold AUCs and out-of-fold positive-class scores."""
    repeats = len(splits) // folds
    oof = np.full((repeats, len(y)), np.nan)
    aucs: list[float] = []
    for step, (train_idx, test_idx) in enumerate(splits):
        model = clone(pipeline).fit(frame.iloc[train_idx], y[train_idx])
        scores = model.predict_proba(frame.iloc[test_idx])[:, 1]
        oof[step // folds, test_idx] = scores
        aucs.append(float(roc_auc_score(y[test_idx], scores)))
        if on_fold is not None:
            on_fold(step, float(np.mean(aucs)))
    return CVResult(tuple(aucs), oof)


def make_objective(
    frame: pd.DataFrame,
    y: NDArray[np.int64],
    feature_names: tuple[str, ...],
    splits: Sequence[Split],
    folds: int,
    seed: int,
    trial_attrs: dict[str, Any] | None = None,
) -> Callable[[optuna.Trial], float]:
    """The Optuna objective: mean CV ROC-AUC, reported per fold for pruning."""

    def objective(trial: optuna.Trial) -> float:
        for key, value in (trial_attrs or {}).items():
            trial.set_user_attr(key, value)
        params = suggest_params(trial)
        pipeline = build_pipeline(params, feature_names, seed)

        def report(step: int, running_mean: float) -> None:
            trial.report(running_mean, step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at fold {step + 1}: mean AUC {running_mean:.4f}")

        result = cross_validate(pipeline, frame, y, splits, folds, on_fold=report)
        trial.set_user_attr("fold_aucs", list(result.fold_aucs))
        return result.mean_auc

    return objective


def open_storage(url: str | None, attempts: int = 5) -> optuna.storages.BaseStorage | None:
    """Optuna's database storage (None: in memory).

    Workers that start together on a fresh database race to create Optuna's schema (on
    PostgreSQL the loser fails on its enum types); it retries once the winner's tables exist.
    """
    if url is None:
        return None
    for attempt in range(1, attempts + 1):
        try:
            return optuna.storages.RDBStorage(url)
        except SQLAlchemyError:
            if attempt == attempts:
                raise
            time.sleep(0.5 * attempt)
    return None  # not reached: the last attempt returns or raises


def create_study(
    name: str, storage_url: str | None, *, seed: int | None, load_if_exists: bool
) -> optuna.Study:
    """A maximising study with seeded TPE and a median pruner in ``storage_url``.

    ``storage_url`` None keeps the study in memory (one process only).
    """
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=8)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    return optuna.create_study(
        study_name=name,
        storage=open_storage(storage_url),
        sampler=sampler,
        pruner=pruner,
        direction="maximize",
        load_if_exists=load_if_exists,
    )


def completed_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Trials of the study that finished with a value."""
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
