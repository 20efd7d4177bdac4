"""`attrition monitor`: drift and performance checks, alerts, retraining."""

from __future__ import annotations

from pathlib import Path

import typer

from attrition.cli._common import JsonOption, not_available


def register(app: typer.Typer) -> None:
    """Attach the monitoring command to the root app."""
    app.command()(monitor)


def monitor(
    current: Path | None = typer.Option(None, "--current", help="CSV of current data."),
    retrain: bool = typer.Option(False, "--retrain", help="Retrain when drift is confirmed."),
    fail_on_drift: bool = typer.Option(False, "--fail-on-drift", help="Exit 3 on drift."),
    as_json: bool = JsonOption,
) -> None:
    """Check drift and performance against the champion's reference data."""
    not_available("monitor", "monitoring issue")
