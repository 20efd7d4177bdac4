"""`attrition data ...`: synthetic workforces and validated ingest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from attrition.cli._common import JsonOption, not_available

app = typer.Typer(help="Generate and ingest HR snapshots.", no_args_is_help=True)


@app.command()
def generate(
    rows: int = typer.Option(1470, "--rows", min=1, help="Number of employees."),
    seed: int = typer.Option(42, "--seed", help="Random seed; same seed, same file."),
    out: Path = typer.Option(..., "--out", help="CSV file to write."),
    scenario: str | None = typer.Option(None, "--scenario", help="Named drift scenario."),
    attrition_rate: float | None = typer.Option(None, "--attrition-rate", min=0.01, max=0.99),
    as_json: bool = JsonOption,
) -> None:
    """Write a synthetic workforce of the IBM schema, optionally drifted."""
    not_available("data generate", "foundation issue, in progress")


@app.command()
def ingest(
    file: Path = typer.Argument(..., help="CSV file of the IBM HR schema."),
    snapshot_date: str | None = typer.Option(
        None, "--snapshot-date", help="Snapshot date YYYY-MM-DD (default: today, UTC)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Validate a snapshot; load valid rows, quarantine invalid rows with reasons."""
    _ = date
    not_available("data ingest", "foundation issue, in progress")
