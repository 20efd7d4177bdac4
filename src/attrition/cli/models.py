"""`attrition train`, `promote`, `rollback`: model building and the registry."""

from __future__ import annotations

from pathlib import Path

import typer

from attrition.cli._common import JsonOption, not_available


def register(app: typer.Typer) -> None:
    """Attach the model commands to the root app."""
    app.command()(train)
    app.command()(promote)
    app.command()(rollback)


def train(
    data: Path | None = typer.Option(None, "--data", help="CSV file (default: the database)."),
    trials: int | None = typer.Option(None, "--trials", min=1, help="Optuna trials."),
    timeout: float | None = typer.Option(None, "--timeout", min=1, help="Search time limit (s)."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed."),
    join: str | None = typer.Option(None, "--join", help="Join an existing study as a worker."),
    no_promote: bool = typer.Option(False, "--no-promote", help="Register, never promote."),
    as_json: bool = JsonOption,
) -> None:
    """Search, fit, evaluate, log to MLflow, register, and gate a new model."""
    not_available("train", "training issue")


def promote(
    version: str = typer.Argument(..., help="Registered model version."),
    as_json: bool = JsonOption,
) -> None:
    """Move the champion alias to VERSION (audited)."""
    not_available("promote", "training issue")


def rollback(as_json: bool = JsonOption) -> None:
    """Move the champion alias back to the previous champion (audited)."""
    not_available("rollback", "training issue")
