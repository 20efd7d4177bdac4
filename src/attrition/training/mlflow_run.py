"""What a training run records in MLflow: tags, parameters, nested trial runs, metrics,
plots, reports, the reference sample, and the model registered with its version tags.

Called inside the parent run that ``train.train_model`` opens; artifact paths come from
``attrition.registry.artifacts`` so that monitoring and serving find them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import optuna

from attrition.errors import AttritionError
from attrition.registry.artifacts import (
    CURVES_ARTIFACT,
    FAIRNESS_ARTIFACT,
    IMPORTANCE_ARTIFACT,
    METRICS_ARTIFACT,
    MODEL_ARTIFACT,
)
from attrition.registry.reference import MARGINALS_ARTIFACT
from attrition.schema import SCHEMA_VERSION
from attrition.training import plots
from attrition.training.gate import GatePolicy, GateVerdict
from attrition.training.pipeline import Evaluation, PreparedData, TrainingOptions
from attrition.training.reference_sample import reference_marginals
from attrition.training.report import fairness_markdown, model_card
from attrition.training.tradeoff import log_tradeoff, tradeoff_markdown

if TYPE_CHECKING:
    from mlflow import MlflowClient

FAIRNESS_BASIS = (
    "out_of_sample: every labelled employee's out-of-sample decision (out-of-fold for the "
    "training split, the final model for the holdout), used for parity floors; holdout: the "
    "holdout only, compared with the champion's decisions on the same rows"
)
INPUT_EXAMPLE_ROWS, INPUT_EXAMPLE_SEED = 5, 20_130_313
MODEL_PACKAGES = ("mlflow", "scikit-learn", "lightgbm", "shap", "numpy", "pandas", "scipy")


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
        "capacity": options.capacity,
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
    mlflow.log_dict(evaluation.metrics, METRICS_ARTIFACT)
    mlflow.log_dict(evaluation.oof_metrics, "metrics/oof_metrics.json")
    mlflow.log_dict(evaluation.threshold.to_dict(), "metrics/threshold.json")
    mlflow.log_dict(fairness, FAIRNESS_ARTIFACT)
    mlflow.log_text(fairness_markdown(evaluation.fairness, policy), "fairness/fairness_report.md")
    mlflow.log_dict(verdict.to_dict(), "gate/gate_report.json")
    behaviour = {"checks": [b.to_dict() for b in evaluation.behaviour]}
    mlflow.log_dict(behaviour, "gate/behaviour_tests.json")
    mlflow.log_dict(evaluation.importance, IMPORTANCE_ARTIFACT)
    curve = log_tradeoff(evaluation, data)
    card = model_card(
        facts=facts,
        metrics=evaluation.metrics,
        oof_metrics=evaluation.oof_metrics,
        verdict=verdict,
        behaviour=evaluation.behaviour,
        importance=evaluation.importance,
    )
    mlflow.log_text(card + tradeoff_markdown(curve), "model_card.md")
    log_reference(data, evaluation)


def log_reference(data: PreparedData, evaluation: Evaluation) -> None:
    """The drift reference (marginals, sorted scores) and the holdout curves: no row that
    links a person's attributes (``registry/reference.py``)."""
    from attrition.serving.inference.model_extras import compute_curves

    mlflow.log_dict(reference_marginals(data, evaluation).to_dict(), MARGINALS_ARTIFACT)
    curves = compute_curves(data.y_holdout, evaluation.holdout_probabilities)
    mlflow.log_dict(curves, CURVES_ARTIFACT)


def log_metrics(evaluation: Evaluation, best_value: float) -> None:
    metrics = {f"holdout_{k}": v for k, v in evaluation.metrics.items()}
    metrics |= {f"oof_{k}": v for k, v in evaluation.oof_metrics.items()}
    metrics["best_cv_roc_auc"] = best_value
    metrics["threshold"] = evaluation.threshold.threshold
    mlflow.log_metrics(metrics)


def model_requirements() -> list[str]:
    """Pinned packages the logged model needs (declared, so MLflow need not infer them)."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in (*MODEL_PACKAGES, "cloudpickle")]


def synthetic_input_example(data: PreparedData, columns: list[str]) -> Any:
    """Rows for the logged model's input example and signature: drawn by the synthetic
    generator (never rows of the training data, which would leave people in every copy of
    the model), with the training frame's column types."""
    from attrition.data.synthetic import generate_workforce

    frame = generate_workforce(INPUT_EXAMPLE_ROWS, INPUT_EXAMPLE_SEED)[columns]
    return frame.astype(data.holdout[columns].dtypes.to_dict()).reset_index(drop=True)


def log_and_register(evaluation: Evaluation, data: PreparedData, model_name: str) -> str:
    """Log the model (signature, input example) and register it; returns the version."""
    from mlflow.models import infer_signature

    model = evaluation.model
    example = synthetic_input_example(data, list(model.feature_names))
    signature = infer_signature(example, model.predict_proba(example))
    info = mlflow.sklearn.log_model(
        sk_model=model,
        name=MODEL_ARTIFACT,
        signature=signature,
        input_example=example,
        registered_model_name=model_name,
        serialization_format="cloudpickle",
        pyfunc_predict_fn="predict_proba",
        pip_requirements=model_requirements(),
    )
    version = info.registered_model_version
    if version is None:
        raise AttritionError("MLflow did not register the model version")
    return str(version)


def version_tags(
    evaluation: Evaluation, data: PreparedData, options: TrainingOptions, verdict: GateVerdict
) -> dict[str, str]:
    """The tags a registered version carries (threshold, features, data hash, gate...)."""
    return {
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


def tag_version(client: MlflowClient, model_name: str, version: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, value)


def card_facts(
    model_name: str,
    data: PreparedData,
    options: TrainingOptions,
    evaluation: Evaluation,
    best_value: float,
    trials: int,
) -> dict[str, Any]:
    return {
        "model_name": model_name,
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
