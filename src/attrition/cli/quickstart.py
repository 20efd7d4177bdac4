"""`attrition quickstart`: everything on embedded defaults."""

from __future__ import annotations

from pathlib import Path

import typer

from attrition.cli._common import JsonOption, not_available


def register(app: typer.Typer) -> None:
    """Attach quickstart to the root app."""
    app.command()(quickstart)


def quickstart(
    data: Path | None = typer.Option(None, "--data", help="Your CSV (default: synthetic)."),
    as_json: bool = JsonOption,
) -> None:
    """Migrate, load data, train, promote, and say how to open the API and dashboard."""
    not_available("quickstart", "foundation issue, in progress")
