"""``train_model(frame, options)``: the library entry used by the CLI and by retraining.

Search, fit, evaluate, gate; record the run in MLflow (``mlflow_run.py``), register the
version, give it ``challenger`` and move ``champion`` when the gate passes (alias moves are
audited). No I/O besides MLflow and the audit trail, in the registry of
``options.registry``; that database must be migrated already.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import mlflow
import optuna
import pandas as pd

from attrition import registry
from attrition.errors import AttritionError
from attrition.registry import RegistryConfig
from attrition.training.gate import (
    ChampionComparison,
    GateCheck,
    GatePolicy,
    GateVerdict,
    load_gate_policy,
)
from attrition.training.mlflow_run import (
    TrialRunLogger,
    card_facts,
    log_and_register,
    log_documents,
    log_metrics,
    log_plots,
    option_params,
    run_tags,
    tag_version,
    version_tags,
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
from attrition.training.progress import tell
from attrition.training.search import completed_trials


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


# --- champion comparison -------------------------------------------------------------
def champion_comparison(
    data: PreparedData, config: RegistryConfig
) -> tuple[ChampionComparison | None, GateCheck | None]:
    """The current champion on this holdout; a failed check if it exists but cannot score."""
    current = registry.version_by_alias(registry.CHAMPION, config)
    if current is None:
        return None, None
    version = str(current.version)
    try:
        champion = registry.load_model(version, config)
        return compare_champion(champion, version, data), None
    except (AttritionError, KeyError, ValueError, AttributeError) as error:
        message = f"champion v{version} could not be scored on this holdout ({error})"
        return None, GateCheck("champion:comparable", False, message)


def decide(
    evaluation: Evaluation, policy: GatePolicy, data: PreparedData, config: RegistryConfig
) -> GateVerdict:
    champion, problem = champion_comparison(data, config)
    verdict = gate_verdict(evaluation, policy, champion)
    if problem is not None:
        verdict = replace(verdict, checks=(*verdict.checks, problem))
    return verdict


# --- entries -------------------------------------------------------------------------
def move_aliases(
    version: str,
    verdict: GateVerdict,
    options: TrainingOptions,
    run_id: str,
    config: RegistryConfig,
) -> bool:
    """``challenger`` always; ``champion`` when the gate passed and promotion is on."""
    registry.set_alias(
        registry.CHALLENGER,
        version,
        actor=options.actor,
        kind="register",
        reason=f"new version from run {run_id}",
        config=config,
    )
    if not (verdict.passed and options.promote):
        return False
    registry.set_alias(
        registry.CHAMPION,
        version,
        actor=options.actor,
        kind="promote",
        reason=f"quality gate passed ({len(verdict.checks)} checks) for run {run_id}",
        config=config,
    )
    return True


@dataclass(frozen=True, slots=True)
class _Searched:
    """The search and the fit of its best trial, inside the parent run."""

    study: optuna.Study
    best: optuna.trial.FrozenTrial
    stopped_by: str
    evaluation: Evaluation
    verdict: GateVerdict

    @property
    def best_value(self) -> float:
        return float(self.best.value or 0.0)


def _registry_of(options: TrainingOptions) -> RegistryConfig:
    if options.registry is None:
        raise ValueError("TrainingOptions.registry is not set; use TrainingOptions.from_settings")
    return options.registry


def _search_and_fit(
    data: PreparedData,
    options: TrainingOptions,
    policy: GatePolicy,
    study_name: str,
    experiment_id: str,
) -> _Searched:
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
    tell(options.on_progress, "fit")
    evaluation = fit_and_evaluate(data, dict(best.params), options)
    verdict = decide(evaluation, policy, data, _registry_of(options))
    return _Searched(study, best, stopped_by, evaluation, verdict)


def _record_and_register(
    searched: _Searched, data: PreparedData, options: TrainingOptions, policy: GatePolicy
) -> tuple[str, bool]:
    """Log metrics, plots and documents, register and tag the version, move the aliases."""
    config = _registry_of(options)
    evaluation, verdict = searched.evaluation, searched.verdict
    trials = searched.study.get_trials(deepcopy=False)
    log_metrics(evaluation, searched.best_value)
    log_plots(evaluation, data, trials)
    best_value = searched.best_value
    facts = card_facts(config.model_name, data, options, evaluation, best_value, len(trials))
    log_documents(evaluation, verdict, policy, facts, data, options.seed)
    version = log_and_register(evaluation, data, config.model_name)
    tags = version_tags(evaluation, data, options, verdict)
    tag_version(registry.connect(config), config.model_name, version, tags)
    run_id = mlflow.active_run().info.run_id  # type: ignore[union-attr]
    promoted = move_aliases(version, verdict, options, run_id, config)
    mlflow.set_tags(
        {
            "model_version": version,
            "promoted": str(promoted).lower(),
            "gate_passed": str(verdict.passed).lower(),
        }
    )
    return version, promoted


def train_model(frame: pd.DataFrame, options: TrainingOptions) -> TrainingResult:
    """Search, fit, evaluate, log, register and gate a model on a labelled frame."""
    started = time.monotonic()
    config = _registry_of(options)
    validate_options(options)
    policy = load_gate_policy(options.gate_config)
    data = prepare_data(frame, options)
    experiment_id = registry.ensure_experiment(registry.connect(config), config)
    study_name = options.study_name or new_study_name()
    with mlflow.start_run(experiment_id=experiment_id, run_name=study_name) as run:
        mlflow.set_tags(run_tags(data, options, study_name))
        mlflow.log_params(option_params(options, data))
        searched = _search_and_fit(data, options, policy, study_name, experiment_id)
        tell(options.on_progress, "record")
        version, promoted = _record_and_register(searched, data, options, policy)
    return _result(searched, data, options, run.info.run_id, version, promoted, started)


def _result(
    searched: _Searched,
    data: PreparedData,
    options: TrainingOptions,
    run_id: str,
    version: str,
    promoted: bool,
    started: float,
) -> TrainingResult:
    evaluation, study = searched.evaluation, searched.study
    trials = study.get_trials(deepcopy=False)
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    return TrainingResult(
        run_id=run_id,
        model_version=version,
        promoted=promoted,
        metrics=evaluation.metrics,
        oof_metrics=evaluation.oof_metrics,
        threshold=evaluation.threshold.threshold,
        threshold_policy=evaluation.threshold.policy,
        threshold_reason=evaluation.threshold.reason,
        gate=searched.verdict,
        best_params=dict(searched.best.params),
        best_cv_roc_auc=searched.best_value,
        study_name=study.study_name,
        trials_completed=len(completed_trials(study)),
        trials_pruned=len(pruned),
        stopped_by=searched.stopped_by,
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
