"""`attrition train`: search, fit, evaluate, register and gate a model (or join a search)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from attrition.cli._common import (
    JsonOption,
    VerboseOption,
    cli_actor,
    console,
    emit,
    get_settings,
    migrated_database,
)

if TYPE_CHECKING:  # the ML stack is imported when a command runs, not for --help
    from attrition.cli.progress import RunDisplay
    from attrition.settings import Settings
    from attrition.training.inputs import TrainingInput
    from attrition.training.train import SearchSummary, TrainingResult


def register(app: typer.Typer) -> None:
    """Attach the training command to the root app."""
    app.command()(train)


def _training_input(data: Path | None, settings: Settings) -> TrainingInput:
    from attrition.training.inputs import from_csv, from_database

    return from_csv(data) if data is not None else from_database(settings.database_url)


def train(
    data: Path | None = typer.Option(None, "--data", help="CSV file (default: the database)."),
    trials: int | None = typer.Option(None, "--trials", min=1, help="Optuna trials."),
    timeout: float | None = typer.Option(None, "--timeout", min=1, help="Search time limit (s)."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed."),
    join: str | None = typer.Option(
        None, "--join", help="Add trials to the shared study STUDY as a search worker, then exit."
    ),
    study: str | None = typer.Option(
        None, "--study", help="Use (or create) the named study, including trials of workers."
    ),
    no_promote: bool = typer.Option(False, "--no-promote", help="Register, never promote."),
    threshold_policy: str | None = typer.Option(
        None, "--threshold-policy", help="How the threshold is chosen: f2, cost or capacity."
    ),
    capacity: str | None = typer.Option(
        None,
        "--capacity",
        help="The capacity policy's limit: a share (0.2), a percentage (20%) or a number "
        "of people (40, of the training data's headcount).",
    ),
    verbose: bool = VerboseOption,
    as_json: bool = JsonOption,
) -> None:
    """Search, fit, evaluate, log to MLflow, register, and gate a new model."""
    from rich.console import Console

    from attrition.cli.progress import RunDisplay
    from attrition.cli.runlog import quiet_run

    settings = get_settings()
    overrides = {
        "n_trials": trials,
        "timeout_s": timeout,
        "seed": seed,
        "study_name": join or study,
        "threshold_policy": threshold_policy,
        "capacity": capacity,
    }
    with quiet_run(settings.var_dir, verbose=verbose) as streams:
        out = Console(file=streams.stderr if as_json else streams.stdout)  # stdout: the JSON
        with RunDisplay(out, live=not verbose) as display:
            done = _run_training(settings, data, overrides, join, not no_promote, display)
    payload = {**done.to_json(), "log_file": str(streams.log_path)}
    emit(payload, as_json, lambda: _render(done, streams.log_path))


def _run_training(
    settings: Settings,
    data: Path | None,
    overrides: dict[str, Any],
    join: str | None,
    promote: bool,
    display: RunDisplay,
) -> TrainingResult | SearchSummary:
    """Load the data, then train (or, with ``join``, add trials to a shared study)."""
    from attrition.training.pipeline import TrainingOptions
    from attrition.training.train import join_search, train_model

    display.step("Loading the data")
    if join is None:  # a search worker writes only to the study's storage
        migrated_database(settings)
    source = _training_input(data, settings)
    options = TrainingOptions.from_settings(
        settings,
        **overrides,
        promote=promote,
        on_progress=display.training,
        skipped_rows=source.skipped_rows,
        data_source=source.source,
        actor=cli_actor(),
    )
    display.step("Adding trials to the shared study" if join else "Training")
    return join_search(source.frame, options) if join else train_model(source.frame, options)


def _render(done: TrainingResult | SearchSummary, log_file: Path) -> None:
    from attrition.training.train import TrainingResult

    if isinstance(done, TrainingResult):
        _render_training(done)
    else:
        _render_worker(done)
    console.print(f"[dim]Log: {escape(str(log_file))}[/]")


def _render_worker(summary: SearchSummary) -> None:
    best = "none yet" if summary.best_value is None else f"{summary.best_value:.4f}"
    console.print(
        f"Worker added [bold]{summary.trials_this_worker}[/] trials to study "
        f"[bold]{summary.study_name}[/] ({summary.trials_total} finished in total; "
        f"best CV ROC-AUC {best}; stopped by {summary.stopped_by})."
    )


def _metrics_table(result: TrainingResult) -> Table:
    table = Table(title="Holdout metrics (out-of-fold in brackets)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in ("roc_auc", "pr_auc", "f1", "f2", "precision", "recall", "brier", "ece"):
        oof = result.oof_metrics.get(name)
        extra = f" ({oof:.3f})" if oof is not None else ""
        table.add_row(name, f"{result.metrics[name]:.3f}{extra}")
    low, high = result.metrics["roc_auc_ci_low"], result.metrics["roc_auc_ci_high"]
    table.add_row("roc_auc 95% CI", f"[{low:.3f}, {high:.3f}]")
    noise = result.metrics.get("ece_if_calibrated")
    if noise is not None:
        table.add_row("ece of a perfectly calibrated model (noise)", f"{noise:.3f}")
    return table


def _render_training(result: TrainingResult) -> None:
    console.print(
        f"Study [bold]{result.study_name}[/]: {result.trials_completed} trials completed, "
        f"{result.trials_pruned} pruned (stopped by {result.stopped_by}); best "
        f"{result.best_params.get('family')} with CV ROC-AUC {result.best_cv_roc_auc:.4f}."
    )
    console.print(_metrics_table(result))
    console.print(f"Threshold [bold]{result.threshold:.3f}[/]: {result.threshold_reason}.")
    verdict = "[green]passed[/]" if result.gate.passed else "[red]failed[/]"
    console.print(f"Quality gate {verdict}:")
    for reason in result.gate.reasons:
        console.print(f"  - {reason}")
    where = "champion" if result.promoted else "challenger"
    console.print(
        f"Registered version [bold]{result.model_version}[/] as {where} "
        f"(run {result.run_id}, {result.rows} rows, {result.skipped_rows} skipped, "
        f"{result.duration_s:.0f}s)."
    )
