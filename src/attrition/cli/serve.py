"""`attrition serve`, `predict`, `ui`, `up`: the API, batch scoring and the dashboard."""

from __future__ import annotations

from pathlib import Path

import typer

from attrition.cli._common import JsonOption, not_available


def register(app: typer.Typer) -> None:
    """Attach the serving commands to the root app."""
    app.command()(serve)
    app.command()(predict)
    app.command()(ui)
    app.command()(up)


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(1, "--workers", min=1),
) -> None:
    """Run the prediction API."""
    not_available("serve", "serving issue")


def predict(
    file: Path = typer.Argument(..., help="CSV of employees to score."),
    out: Path = typer.Option(..., "--out", help="CSV to write the scores to."),
    as_json: bool = JsonOption,
) -> None:
    """Score a CSV offline with the champion."""
    not_available("predict", "serving issue")


def ui(port: int = typer.Option(8501, "--port", min=1, max=65535)) -> None:
    """Run the Streamlit dashboard."""
    not_available("ui", "dashboard issue")


def up(
    replicas: int = typer.Option(1, "--replicas", min=1, help="API processes."),
) -> None:
    """Run the API and the dashboard together in the foreground (Ctrl-C stops both)."""
    not_available("up", "serving and dashboard issues")
