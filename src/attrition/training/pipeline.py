"""Training: search, refit, calibrate, threshold, evaluate, audit, explain, gate.

``fit_and_evaluate`` is pure computation (no I/O). ``train_model`` wraps it in an MLflow
parent run (nested trial runs, params, metrics, tags, plots, reports, the model logged
with signature and input example), registers the version, gives it the ``challenger``
alias and moves ``champion`` only when the gate passes (alias moves are audited).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import uuid
import warnings
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from attrition.capacity import DEFAULT_CAPACITY, Capacity
from attrition.errors import AttritionError
from attrition.registry.config import RegistryConfig
from attrition.schema import (
    FEATURE_NAMES,
    NEGATIVE_LABEL,
    POSITIVE_LABEL,
    TARGET,
    model_feature_names,
)
from attrition.settings import Settings
from attrition.training.behaviour import BehaviourCheck, run_behaviour_checks
from attrition.training.evaluation import (
    THRESHOLD_POLICIES,
    ThresholdChoice,
    bootstrap_auc_ci,
    calibrated_ece_baseline,
    choose_threshold,
    classification_metrics,
    expected_calibration_error,
)
from attrition.training.fairness import AttributeFairness, fairness_report
from attrition.training.gate import (
    ChampionComparison,
    GatePolicy,
    GateVerdict,
    evaluate_gate,
)
from attrition.training.model import AttritionModel, CalibrationMethod, ScoreCalibrator
from attrition.training.progress import ProgressListener, SearchProgress
from attrition.training.search import (
    CVResult,
    build_pipeline,
    completed_trials,
    create_study,
    cross_validate,
    cv_splits,
    make_objective,
    model_features,
)

logger = logging.getLogger(__name__)
MIN_ROWS_PER_CLASS = 20
STUDY_ATTRS = ("data_hash", "seed", "cv_folds", "cv_repeats", "holdout_fraction", "features")


@dataclass(frozen=True, slots=True)
class TrainingOptions:
    """Everything a training run depends on; ``from_settings`` fills in the defaults."""

    seed: int = 42
    n_trials: int = 40
    timeout_s: float | None = 180.0
    cv_folds: int = 5
    cv_repeats: int = 2
    holdout_fraction: float = 0.2
    include_protected: bool = False
    threshold_policy: str = "f2"
    cost_missed_leaver: float = 5.0
    cost_intervention: float = 1.0
    capacity: str = DEFAULT_CAPACITY  # the capacity policy's share or number of people
    calibration: CalibrationMethod = "sigmoid"
    gate_config: Path = Path("configs/gate.yaml")
    promote: bool = True
    study_name: str | None = None
    storage_url: str = "sqlite:///var/optuna.db"
    on_progress: ProgressListener | None = None  # told each finished trial and each stage
    skipped_rows: int = 0
    data_source: str = "dataframe"
    actor: str = "training"
    bootstrap_resamples: int = 1000
    tags: dict[str, str] = field(default_factory=dict)
    registry: RegistryConfig | None = None  # where the run is logged and the model registered

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TrainingOptions:
        """Options from the settings, with explicit overrides (None means: keep)."""
        base = cls(
            seed=settings.seed,
            n_trials=settings.n_trials,
            timeout_s=settings.trial_timeout_s,
            cv_folds=settings.cv_folds,
            cv_repeats=settings.cv_repeats,
            holdout_fraction=settings.holdout_fraction,
            include_protected=settings.include_protected,
            threshold_policy=settings.threshold_policy,
            cost_missed_leaver=settings.cost_missed_leaver,
            cost_intervention=settings.cost_intervention,
            capacity=settings.capacity,
            gate_config=settings.gate_config,
            storage_url=settings.optuna_storage_url,
            registry=RegistryConfig.from_settings(settings),
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


# --- data ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PreparedData:
    """Train and holdout rows (all schema columns) with 0/1 labels."""

    train: pd.DataFrame
    y_train: NDArray[np.int64]
    holdout: pd.DataFrame
    y_holdout: NDArray[np.int64]
    data_hash: str

    @property
    def rows(self) -> int:
        return len(self.train) + len(self.holdout)


def labels_of(frame: pd.DataFrame) -> NDArray[np.int64]:
    """0/1 labels from the target column, or a clear error naming bad values."""
    if TARGET not in frame.columns:
        raise AttritionError(
            f"training data needs the column {TARGET} ({POSITIVE_LABEL!r}/{NEGATIVE_LABEL!r})"
        )
    values = frame[TARGET].astype(str)
    bad = sorted(set(values) - {POSITIVE_LABEL, NEGATIVE_LABEL})
    if bad:
        raise AttritionError(
            f"{TARGET} must be {POSITIVE_LABEL!r} or {NEGATIVE_LABEL!r}; found {bad[:5]}"
        )
    return np.asarray((values == POSITIVE_LABEL).to_numpy(), dtype=np.int64)


def data_hash(frame: pd.DataFrame) -> str:
    """sha256 over the feature and target values (row order matters, ids do not)."""
    columns = [c for c in (*FEATURE_NAMES, TARGET) if c in frame.columns]
    hashed = pd.util.hash_pandas_object(frame[columns].astype(str), index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()


def prepare_data(frame: pd.DataFrame, options: TrainingOptions) -> PreparedData:
    """Check the frame, hash it and split a stratified holdout (seeded)."""
    y = labels_of(frame)
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    need = max(MIN_ROWS_PER_CLASS, 2 * options.cv_folds)
    if min(positives, negatives) < need:
        raise AttritionError(
            f"training data needs at least {need} rows of each {TARGET} class; "
            f"found {positives} {POSITIVE_LABEL!r} and {negatives} {NEGATIVE_LABEL!r}"
        )
    rows = frame.reset_index(drop=True)
    train_idx, holdout_idx = train_test_split(
        np.arange(len(rows)),
        test_size=options.holdout_fraction,
        stratify=y,
        random_state=options.seed,
    )
    return PreparedData(
        train=rows.iloc[train_idx].reset_index(drop=True),
        y_train=y[train_idx],
        holdout=rows.iloc[holdout_idx].reset_index(drop=True),
        y_holdout=y[holdout_idx],
        data_hash=data_hash(frame),
    )


# --- search --------------------------------------------------------------------------
def new_study_name() -> str:
    """A unique study name: UTC timestamp plus a random suffix."""
    return f"attrition-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def study_attrs(data: PreparedData, options: TrainingOptions) -> dict[str, Any]:
    """What must agree for trials of one study to be comparable."""
    return {
        "data_hash": data.data_hash,
        "seed": options.seed,
        "cv_folds": options.cv_folds,
        "cv_repeats": options.cv_repeats,
        "holdout_fraction": options.holdout_fraction,
        "features": list(model_feature_names(include_protected=options.include_protected)),
    }


def check_study_compatible(study: optuna.Study, attrs: dict[str, Any]) -> None:
    """Record the study's setup, or refuse to add trials computed on a different setup."""
    existing = study.user_attrs
    if not existing:
        for key, value in attrs.items():
            study.set_user_attr(key, value)
        return
    differing = [k for k in STUDY_ATTRS if k in existing and existing[k] != attrs[k]]
    if differing:
        raise AttritionError(
            f"study {study.study_name!r} was set up differently ({', '.join(differing)}); "
            "join it with the same data, --seed and CV settings"
        )


def open_study(
    data: PreparedData,
    options: TrainingOptions,
    *,
    name: str,
    load_if_exists: bool,
    sampler_seed: int | None,
) -> optuna.Study:
    """Create or load the study and check it matches this run's setup."""
    try:
        study = create_study(
            name, options.storage_url, seed=sampler_seed, load_if_exists=load_if_exists
        )
    except optuna.exceptions.DuplicatedStudyError as error:
        raise AttritionError(f"study {name!r} already exists; use --join to add trials") from error
    check_study_compatible(study, study_attrs(data, options))
    return study


def worker_id() -> str:
    """This search worker: host and process id (recorded on each of its trials)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_search(
    study: optuna.Study,
    data: PreparedData,
    options: TrainingOptions,
    callbacks: list[Any] | None = None,
) -> str:
    """Run this process's trials; returns what stopped it ("n_trials" or "timeout")."""
    features = model_feature_names(include_protected=options.include_protected)
    splits = cv_splits(data.y_train, options.cv_folds, options.cv_repeats, options.seed)
    worker = {"worker": worker_id()}
    objective = make_objective(
        data.train, data.y_train, features, splits, options.cv_folds, options.seed, worker
    )
    progress = _search_progress(options)
    started = time.monotonic()
    before = len(study.get_trials(deepcopy=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(
            objective,
            n_trials=options.n_trials,
            timeout=options.timeout_s,
            callbacks=[*(callbacks or []), *progress],
        )
    ran = len(study.get_trials(deepcopy=False)) - before
    timed_out = options.timeout_s is not None and time.monotonic() - started >= options.timeout_s
    return "timeout" if timed_out and ran < options.n_trials else "n_trials"


def _search_progress(options: TrainingOptions) -> list[SearchProgress]:
    """The progress callback of the search (none when nobody listens), already started."""
    if options.on_progress is None:
        return []
    progress = SearchProgress(options.on_progress, options.n_trials, options.timeout_s)
    progress.start()
    return [progress]


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    """The best completed trial, or a clear error when none completed."""
    if not completed_trials(study):
        raise AttritionError(
            f"study {study.study_name!r} has no completed trial; raise --trials or --timeout"
        )
    return study.best_trial


# --- fit and evaluate (pure) ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Evaluation:
    """The fitted model and everything measured about it."""

    model: AttritionModel
    params: dict[str, Any]
    cv: CVResult
    oof_probabilities: NDArray[np.float64]
    oof_metrics: dict[str, float]
    threshold: ThresholdChoice
    metrics: dict[str, float]
    holdout_probabilities: NDArray[np.float64]
    fairness: dict[str, AttributeFairness]
    holdout_fairness: dict[str, AttributeFairness]
    behaviour: list[BehaviourCheck]
    importance: dict[str, float]


CALIBRATION_CROSS_FIT_FOLDS = 5


def cross_fitted_probabilities(
    scores: NDArray[np.float64], y: NDArray[np.int64], method: CalibrationMethod, seed: int
) -> NDArray[np.float64]:
    """OOF scores (repeats x n) calibrated by calibrators that never saw the row's label."""
    folds = StratifiedKFold(CALIBRATION_CROSS_FIT_FOLDS, shuffle=True, random_state=seed)
    probabilities = np.empty_like(scores)
    for fit_rows, held_rows in folds.split(np.zeros((len(y), 1)), y):
        labels = np.tile(y[fit_rows], scores.shape[0])
        calibrator = ScoreCalibrator(method).fit(scores[:, fit_rows].ravel(), labels)
        for r in range(scores.shape[0]):
            probabilities[r, held_rows] = calibrator.predict(scores[r, held_rows])
    return probabilities


def oof_evaluation(
    cv: CVResult, y: NDArray[np.int64], method: CalibrationMethod, seed: int
) -> tuple[NDArray[np.float64], dict[str, float]]:
    """Cross-fitted calibrated OOF probabilities (repeats x n) and their metrics."""
    probabilities = cross_fitted_probabilities(cv.oof_scores, y, method, seed)
    aucs = [float(roc_auc_score(y, row)) for row in cv.oof_scores]
    stacked_y = np.tile(y, len(probabilities))
    metrics = {
        "roc_auc": float(np.mean(aucs)),
        "ece": expected_calibration_error(stacked_y, probabilities.ravel()),
        "cv_fold_roc_auc_mean": cv.mean_auc,
        "cv_fold_roc_auc_std": float(np.std(cv.fold_aucs)),
    }
    return probabilities, metrics


def holdout_metrics(
    y: NDArray[np.int64], p: NDArray[np.float64], threshold: float, options: TrainingOptions
) -> dict[str, float]:
    """Holdout metrics plus the bootstrap interval of ROC-AUC."""
    metrics = classification_metrics(y, p, threshold)
    metrics["ece_if_calibrated"] = calibrated_ece_baseline(p, seed=options.seed)
    low, high = bootstrap_auc_ci(y, p, n_resamples=options.bootstrap_resamples, seed=options.seed)
    return metrics | {"roc_auc_ci_low": low, "roc_auc_ci_high": high}


def global_importance(model: AttritionModel, frame: pd.DataFrame) -> dict[str, float]:
    """Mean |SHAP contribution| per raw input column on ``frame``."""
    contributions = model.contributions(frame)
    values = np.abs(contributions).mean(axis=0)
    return {name: float(v) for name, v in zip(model.feature_names, values, strict=True)}


def fit_and_evaluate(
    data: PreparedData, params: dict[str, Any], options: TrainingOptions
) -> Evaluation:
    """Refit the configuration, calibrate on OOF scores, pick the threshold, evaluate."""
    allowed = model_feature_names(include_protected=options.include_protected)
    features = model_features(params, allowed)
    pipeline = build_pipeline(params, allowed, options.seed)
    splits = cv_splits(data.y_train, options.cv_folds, options.cv_repeats, options.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = cross_validate(pipeline, data.train, data.y_train, splits, options.cv_folds)
        stacked_y = np.tile(data.y_train, options.cv_repeats)
        calibrator = ScoreCalibrator(options.calibration).fit(cv.oof_scores.ravel(), stacked_y)
        oof_p, oof_metrics = oof_evaluation(cv, data.y_train, options.calibration, options.seed)
        threshold = choose_threshold(
            stacked_y,
            oof_p.ravel(),
            policy=options.threshold_policy,
            cost_missed_leaver=options.cost_missed_leaver,
            cost_intervention=options.cost_intervention,
            capacity=Capacity.parse(options.capacity),
            repeats=options.cv_repeats,
            headcount=data.rows,
        )
        fitted = pipeline.fit(data.train, data.y_train)
        model = AttritionModel(
            fitted,
            calibrator,
            threshold.threshold,
            features,
            calibration_method=options.calibration,
            random_state=options.seed,
        ).finalise(data.train)
        p = model.predict_proba(data.holdout)[:, 1]
    oof_metrics |= {
        f"{k}": v
        for k, v in classification_metrics(stacked_y, oof_p.ravel(), threshold.threshold).items()
        if k not in ("roc_auc", "ece")
    }
    decisions = (p >= threshold.threshold).astype(np.int64)
    oof_decisions = (oof_p.mean(axis=0) >= threshold.threshold).astype(np.int64)
    return Evaluation(
        model=model,
        params=params,
        cv=cv,
        oof_probabilities=oof_p,
        oof_metrics=oof_metrics,
        threshold=threshold,
        metrics=holdout_metrics(data.y_holdout, p, threshold.threshold, options),
        holdout_probabilities=p,
        fairness=fairness_report(
            pd.concat([data.train, data.holdout], ignore_index=True),
            np.concatenate([data.y_train, data.y_holdout]),
            np.concatenate([oof_decisions, decisions]),
        ),
        holdout_fairness=fairness_report(data.holdout, data.y_holdout, decisions),
        behaviour=run_behaviour_checks(model, data.holdout),
        importance=global_importance(model, data.holdout),
    )


def compare_champion(champion: Any, version: str, data: PreparedData) -> ChampionComparison:
    """Score the current champion on this run's holdout (its own threshold)."""
    p = np.asarray(champion.predict_proba(data.holdout)[:, 1], dtype=np.float64)
    threshold = float(champion.threshold)
    decisions = (p >= threshold).astype(np.int64)
    return ChampionComparison(
        version=version,
        metrics=classification_metrics(data.y_holdout, p, threshold),
        fairness=fairness_report(data.holdout, data.y_holdout, decisions),
    )


def gate_verdict(
    evaluation: Evaluation, policy: GatePolicy, champion: ChampionComparison | None
) -> GateVerdict:
    """The gate on this evaluation (and the champion on the same holdout, if any)."""
    return evaluate_gate(
        evaluation.metrics,
        evaluation.fairness,
        evaluation.behaviour,
        policy,
        champion,
        evaluation.holdout_fairness,
    )


def validate_options(options: TrainingOptions) -> None:
    """Fail early, naming the field and the allowed values."""
    if options.threshold_policy not in THRESHOLD_POLICIES:
        raise AttritionError(
            f"threshold_policy {options.threshold_policy!r} is not allowed; "
            f"use one of {', '.join(THRESHOLD_POLICIES)}"
        )
    Capacity.parse(options.capacity)  # names the allowed forms when it is not one
    if options.calibration not in ("sigmoid", "isotonic"):
        raise AttritionError(
            f"calibration {options.calibration!r} is not allowed; use sigmoid or isotonic"
        )
    if not 0 < options.holdout_fraction < 0.5:
        raise AttritionError("holdout_fraction must be between 0 and 0.5 (exclusive)")
