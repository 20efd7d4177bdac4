"""``train_model(frame, options)``: the library entry used by the CLI and by retraining.

No I/O besides MLflow (tracking, registry) and the audit trail of alias moves.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import mlflow
import optuna
import pandas as pd

from attrition import registry
from attrition.errors import AttritionError
from attrition.schema import FEATURE_NAMES, SCHEMA_VERSION, TARGET
from attrition.settings import get_settings
from attrition.training import plots
from attrition.training.gate import (
    ChampionComparison,
    GateCheck,
    GatePolicy,
    GateVerdict,
    load_gate_policy,
)
from attrition.training.pipeline import (
    Evaluation,
    PreparedData,
    TrainingOptions,
    best_trial,
    compare_champion,
    fit_and_evaluate,
    gate_verdict,
    new_study_name,
    open_study,
    prepare_data,
    run_search,
    validate_options,
    worker_id,
)
from attrition.training.report import fairness_markdown, model_card
from attrition.training.search import completed_trials

logger = logging.getLogger(__name__)
REFERENCE_MAX_ROWS = 5000
FAIRNESS_BASIS = (
    "out_of_sample: every labelled employee's out-of-sample decision (out-of-fold for the "
    "training split, the final model for the holdout), used for parity floors; holdout: the "
    "holdout only, compared with the champion's decisions on the same rows"
)
PROBABILITY_COLUMN = "attrition_probability"
SPLIT_COLUMN = "reference_split"


@dataclass(frozen=True, slots=True)
class TrainingResult:
    """What one training run produced and decided."""

    run_id: str
    model_version: str
    promoted: bool
    metrics: dict[str, float]
    oof_metrics: dict[str, float]
    threshold: float
    threshold_policy: str
    threshold_reason: str
    gate: GateVerdict
    best_params: dict[str, Any]
    best_cv_roc_auc: float
    study_name: str
    trials_completed: int
    trials_pruned: int
    stopped_by: str
    data_hash: str
    rows: int
    skipped_rows: int
    include_protected: bool
    duration_s: float

    def to_json(self) -> dict[str, Any]:
        """The CLI's ``--json`` object."""
        return {
            "run_id": self.run_id,
            "model_version": self.model_version,
            "promoted": self.promoted,
            "metrics": self.metrics,
            "oof_metrics": self.oof_metrics,
            "threshold": self.threshold,
            "threshold_policy": self.threshold_policy,
            "threshold_reason": self.threshold_reason,
            "gate": {"passed": self.gate.passed, "reasons": self.gate.reasons},
            "best_params": self.best_params,
            "best_cv_roc_auc": self.best_cv_roc_auc,
            "study_name": self.study_name,
            "trials_completed": self.trials_completed,
            "trials_pruned": self.trials_pruned,
            "stopped_by": self.stopped_by,
            "data_hash": self.data_hash,
            "rows": self.rows,
            "skipped_rows": self.skipped_rows,
            "include_protected": self.include_protected,
            "duration_s": round(self.duration_s, 1),
        }


@dataclass(frozen=True, slots=True)
class SearchSummary:
    """What a ``--join`` worker contributed to a shared study."""

    study_name: str
    trials_total: int
    trials_this_worker: int
    best_value: float | None
    best_params: dict[str, Any]
    stopped_by: str

    def to_json(self) -> dict[str, Any]:
        return {
            "study_name": self.study_name,
            "trials_total": self.trials_total,
            "trials_this_worker": self.trials_this_worker,
            "best_value": self.best_value,
            "best_params": self.best_params,
            "stopped_by": self.stopped_by,
        }


# --- tags, params, trial runs --------------------------------------------------------
def git_commit() -> str:
    """The source tree's commit, or "unknown" outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def run_tags(data: PreparedData, options: TrainingOptions, study_name: str) -> dict[str, str]:
    return {
        "git_commit": git_commit(),
        "data_hash": data.data_hash,
        "schema_version": SCHEMA_VERSION,
        "include_protected": str(options.include_protected).lower(),
        "data_source": options.data_source,
        "optuna_study": study_name,
        "actor": options.actor,
        **options.tags,
    }


def option_params(options: TrainingOptions, data: PreparedData) -> dict[str, Any]:
    return {
        "seed": options.seed,
        "n_trials": options.n_trials,
        "timeout_s": options.timeout_s,
        "cv_folds": options.cv_folds,
        "cv_repeats": options.cv_repeats,
        "holdout_fraction": options.holdout_fraction,
        "include_protected": options.include_protected,
        "threshold_policy": options.threshold_policy,
        "cost_missed_leaver": options.cost_missed_leaver,
        "cost_intervention": options.cost_intervention,
        "calibration": options.calibration,
        "rows": data.rows,
        "train_rows": len(data.train),
        "holdout_rows": len(data.holdout),
        "skipped_rows": options.skipped_rows,
    }


class TrialRunLogger:
    """Optuna callback: one nested MLflow run per finished trial, in the parent's experiment."""

    def __init__(self, experiment_id: str) -> None:
        self.experiment_id = experiment_id

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        with mlflow.start_run(
            experiment_id=self.experiment_id, run_name=f"trial-{trial.number}", nested=True
        ):
            mlflow.log_params({f"trial_{k}": v for k, v in trial.params.items()})
            mlflow.set_tags({"optuna_trial": str(trial.number), "state": trial.state.name})
            for step, value in sorted(trial.intermediate_values.items()):
                mlflow.log_metric("running_cv_roc_auc", value, step=step)
            if trial.value is not None:
                mlflow.log_metric("cv_roc_auc", trial.value)


# --- champion comparison -------------------------------------------------------------
def champion_comparison(data: PreparedData) -> tuple[ChampionComparison | None, GateCheck | None]:
    """The current champion on this holdout; a failed check if it exists but cannot score."""
    current = registry.version_by_alias(registry.CHAMPION)
    if current is None:
        return None, None
    version = str(current.version)
    try:
        champion = registry.load_model(version)
        return compare_champion(champion, version, data), None
    except (AttritionError, KeyError, ValueError, AttributeError) as error:
        message = f"champion v{version} could not be scored on this holdout ({error})"
        return None, GateCheck("champion:comparable", False, message)


def decide(evaluation: Evaluation, policy: GatePolicy, data: PreparedData) -> GateVerdict:
    champion, problem = champion_comparison(data)
    verdict = gate_verdict(evaluation, policy, champion)
    if problem is not None:
        verdict = replace(verdict, checks=(*verdict.checks, problem))
    return verdict


# --- artifacts -----------------------------------------------------------------------
def _reference_part(
    rows: pd.DataFrame, probabilities: Any, split: str, limit: int, seed: int
) -> pd.DataFrame:
    columns = [c for c in FEATURE_NAMES if c in rows.columns]
    frame = rows[columns].copy()
    frame[PROBABILITY_COLUMN] = probabilities
    frame[TARGET] = rows[TARGET].astype(str).to_numpy()
    frame[SPLIT_COLUMN] = split
    return frame.sample(limit, random_state=seed) if len(frame) > limit else frame


def reference_frame(data: PreparedData, evaluation: Evaluation, seed: int) -> pd.DataFrame:
    """Drift reference: raw schema columns, calibrated probability, label and split.

    ``reference_split`` "train": training rows with their calibrated out-of-fold
    probability; "holdout": holdout rows scored by the registered (served) model.
    """
    share = len(data.holdout) / max(data.rows, 1)
    holdout_limit = max(1, int(REFERENCE_MAX_ROWS * share))
    parts = [
        _reference_part(
            data.train,
            evaluation.oof_probabilities.mean(axis=0),
            "train",
            REFERENCE_MAX_ROWS - holdout_limit,
            seed,
        ),
        _reference_part(
            data.holdout, evaluation.holdout_probabilities, "holdout", holdout_limit, seed
        ),
    ]
    return pd.concat(parts, ignore_index=True)


def log_plots(
    evaluation: Evaluation, data: PreparedData, trials: list[optuna.trial.FrozenTrial]
) -> None:
    m, y, p = evaluation.metrics, data.y_holdout, evaluation.holdout_probabilities
    figures = {
        "plots/roc_curve.png": plots.roc_figure(y, p, m["roc_auc"]),
        "plots/pr_curve.png": plots.pr_figure(y, p, m["pr_auc"]),
        "plots/calibration_curve.png": plots.calibration_figure(y, p, m["ece"]),
        "plots/confusion_matrix.png": plots.confusion_figure(m, evaluation.threshold.threshold),
        "plots/shap_summary.png": plots.importance_figure(evaluation.importance),
        "plots/optuna_history.png": plots.optuna_history_figure(trials),
    }
    for path, figure in figures.items():
        mlflow.log_figure(figure, path)


def log_documents(
    evaluation: Evaluation,
    verdict: GateVerdict,
    policy: GatePolicy,
    facts: dict[str, Any],
    data: PreparedData,
    seed: int,
) -> None:
    fairness = {
        "basis": FAIRNESS_BASIS,
        "out_of_sample": {k: v.to_dict() for k, v in evaluation.fairness.items()},
        "holdout": {k: v.to_dict() for k, v in evaluation.holdout_fairness.items()},
    }
    mlflow.log_dict(evaluation.metrics, registry.METRICS_ARTIFACT)
    mlflow.log_dict(evaluation.oof_metrics, "metrics/oof_metrics.json")
    mlflow.log_dict(evaluation.threshold.to_dict(), "metrics/threshold.json")
    mlflow.log_dict(fairness, "fairness/fairness_report.json")
    mlflow.log_text(fairness_markdown(evaluation.fairness, policy), "fairness/fairness_report.md")
    mlflow.log_dict(verdict.to_dict(), "gate/gate_report.json")
    behaviour = {"checks": [b.to_dict() for b in evaluation.behaviour]}
    mlflow.log_dict(behaviour, "gate/behaviour_tests.json")
    mlflow.log_dict(evaluation.importance, "explain/shap_importance.json")
    card = model_card(
        facts=facts,
        metrics=evaluation.metrics,
        oof_metrics=evaluation.oof_metrics,
        verdict=verdict,
        behaviour=evaluation.behaviour,
        importance=evaluation.importance,
    )
    mlflow.log_text(card, "model_card.md")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reference.parquet"
        reference_frame(data, evaluation, seed).to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path="reference")


def log_metrics(evaluation: Evaluation, best_value: float) -> None:
    metrics = {f"holdout_{k}": v for k, v in evaluation.metrics.items()}
    metrics |= {f"oof_{k}": v for k, v in evaluation.oof_metrics.items()}
    metrics["best_cv_roc_auc"] = best_value
    metrics["threshold"] = evaluation.threshold.threshold
    mlflow.log_metrics(metrics)


MODEL_PACKAGES = ("mlflow", "scikit-learn", "lightgbm", "shap", "numpy", "pandas", "scipy")


def model_requirements() -> list[str]:
    """Pinned packages the logged model needs (declared, so MLflow need not infer them)."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in (*MODEL_PACKAGES, "cloudpickle")]


def log_and_register(evaluation: Evaluation, data: PreparedData) -> str:
    """Log the model (signature, input example) and register it; returns the version."""
    from mlflow.models import infer_signature

    model = evaluation.model
    example = data.holdout.loc[:4, list(model.feature_names)]
    signature = infer_signature(example, model.predict_proba(example))
    info = mlflow.sklearn.log_model(
        sk_model=model,
        name=registry.MODEL_ARTIFACT,
        signature=signature,
        input_example=example,
        registered_model_name=get_settings().model_name,
        serialization_format="cloudpickle",
        pyfunc_predict_fn="predict_proba",
        pip_requirements=model_requirements(),
    )
    version = info.registered_model_version
    if version is None:
        raise AttritionError("MLflow did not register the model version")
    return str(version)


def tag_version(
    version: str,
    evaluation: Evaluation,
    data: PreparedData,
    options: TrainingOptions,
    verdict: GateVerdict,
) -> None:
    client = registry.configure_tracking()
    name = get_settings().model_name
    tags = {
        "threshold": f"{evaluation.threshold.threshold:.6g}",
        "threshold_policy": evaluation.threshold.policy,
        "threshold_reason": evaluation.threshold.reason,
        "features": json.dumps(list(evaluation.model.feature_names)),
        "include_protected": str(options.include_protected).lower(),
        "schema_version": SCHEMA_VERSION,
        "data_hash": data.data_hash,
        "family": str(evaluation.params["family"]),
        "gate_passed": str(verdict.passed).lower(),
        "holdout_roc_auc": f"{evaluation.metrics['roc_auc']:.4f}",
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)


def card_facts(
    data: PreparedData,
    options: TrainingOptions,
    evaluation: Evaluation,
    best_value: float,
    trials: int,
) -> dict[str, Any]:
    return {
        "model_name": get_settings().model_name,
        "data_source": options.data_source,
        "rows": data.rows,
        "skipped_rows": options.skipped_rows,
        "data_hash": data.data_hash,
        "schema_version": SCHEMA_VERSION,
        "train_rows": len(data.train),
        "holdout_rows": len(data.holdout),
        "include_protected": options.include_protected,
        "family": evaluation.params["family"],
        "cv_roc_auc": best_value,
        "trials": trials,
        "seed": options.seed,
        "calibration": options.calibration,
        "threshold": evaluation.threshold.threshold,
        "threshold_reason": evaluation.threshold.reason,
    }


# --- entries -------------------------------------------------------------------------
def move_aliases(version: str, verdict: GateVerdict, options: TrainingOptions, run_id: str) -> bool:
    """``challenger`` always; ``champion`` when the gate passed and promotion is on."""
    registry.set_alias(
        registry.CHALLENGER,
        version,
        actor=options.actor,
        kind="register",
        reason=f"new version from run {run_id}",
    )
    if not (verdict.passed and options.promote):
        return False
    registry.set_alias(
        registry.CHAMPION,
        version,
        actor=options.actor,
        kind="promote",
        reason=f"quality gate passed ({len(verdict.checks)} checks) for run {run_id}",
    )
    return True


def train_model(frame: pd.DataFrame, options: TrainingOptions | None = None) -> TrainingResult:
    """Search, fit, evaluate, log, register and gate a model on a labelled frame."""
    started = time.monotonic()
    options = options or TrainingOptions.from_settings()
    validate_options(options)
    policy = load_gate_policy(options.gate_config)
    data = prepare_data(frame, options)
    client = registry.configure_tracking()
    experiment_id = registry.ensure_experiment(client)
    study_name = options.study_name or new_study_name()
    with mlflow.start_run(experiment_id=experiment_id, run_name=study_name) as run:
        mlflow.set_tags(run_tags(data, options, study_name))
        mlflow.log_params(option_params(options, data))
        study = open_study(
            data,
            options,
            name=study_name,
            load_if_exists=options.study_name is not None,
            sampler_seed=options.seed,
        )
        stopped_by = run_search(study, data, options, callbacks=[TrialRunLogger(experiment_id)])
        best = best_trial(study)
        mlflow.log_params({f"best_{k}": v for k, v in best.params.items()})
        evaluation = fit_and_evaluate(data, dict(best.params), options)
        verdict = decide(evaluation, policy, data)
        trials = study.get_trials(deepcopy=False)
        best_value = float(best.value or 0.0)
        log_metrics(evaluation, best_value)
        log_plots(evaluation, data, trials)
        facts = card_facts(data, options, evaluation, best_value, len(trials))
        log_documents(evaluation, verdict, policy, facts, data, options.seed)
        version = log_and_register(evaluation, data)
        tag_version(version, evaluation, data, options, verdict)
        promoted = move_aliases(version, verdict, options, run.info.run_id)
        mlflow.set_tags(
            {
                "model_version": version,
                "promoted": str(promoted).lower(),
                "gate_passed": str(verdict.passed).lower(),
            }
        )
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    return TrainingResult(
        run_id=run.info.run_id,
        model_version=version,
        promoted=promoted,
        metrics=evaluation.metrics,
        oof_metrics=evaluation.oof_metrics,
        threshold=evaluation.threshold.threshold,
        threshold_policy=evaluation.threshold.policy,
        threshold_reason=evaluation.threshold.reason,
        gate=verdict,
        best_params=dict(best.params),
        best_cv_roc_auc=best_value,
        study_name=study_name,
        trials_completed=len(completed_trials(study)),
        trials_pruned=len(pruned),
        stopped_by=stopped_by,
        data_hash=data.data_hash,
        rows=data.rows,
        skipped_rows=options.skipped_rows,
        include_protected=options.include_protected,
        duration_s=time.monotonic() - started,
    )


def join_search(frame: pd.DataFrame, options: TrainingOptions) -> SearchSummary:
    """Add this process's trials to the shared study ``options.study_name`` (a worker)."""
    if not options.study_name:
        raise AttritionError("join: a study name is required (--join STUDY)")
    validate_options(options)
    data = prepare_data(frame, options)
    study = open_study(
        data, options, name=options.study_name, load_if_exists=True, sampler_seed=None
    )
    stopped_by = run_search(study, data, options)
    finished = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
    mine = [t for t in finished if t.user_attrs.get("worker") == worker_id()]
    done = completed_trials(study)
    return SearchSummary(
        study_name=options.study_name,
        trials_total=len(finished),
        trials_this_worker=len(mine),
        best_value=float(study.best_value) if done else None,
        best_params=dict(study.best_params) if done else {},
        stopped_by=stopped_by,
    )
