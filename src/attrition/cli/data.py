"""`attrition data ...`: synthetic workforces and validated ingest."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from attrition.cli._common import JsonOption, console, emit, get_settings, migrated_database
from attrition.data.scenarios import SCENARIOS  # names only: no numpy, no pandas

if TYPE_CHECKING:
    from attrition.data.ingest import IngestResult

app = typer.Typer(help="Generate and ingest HR snapshots.", no_args_is_help=True)


@app.command()
def generate(
    rows: int | None = typer.Option(
        None, "--rows", min=1, help="Number of employees (default: the synthetic_rows setting)."
    ),
    seed: int | None = typer.Option(
        None, "--seed", min=0, help="Random seed; same seed, same file (default: the seed setting)."
    ),
    out: Path = typer.Option(..., "--out", help="CSV file to write."),
    scenario: str | None = typer.Option(
        None, "--scenario", help=f"Named drift scenario: {', '.join(SCENARIOS)}."
    ),
    attrition_rate: float | None = typer.Option(
        None,
        "--attrition-rate",
        min=0.01,
        max=0.99,
        help="Share of leavers before drift (default: the synthetic_attrition_rate setting).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Write a synthetic workforce of the IBM schema, optionally drifted."""
    from attrition.data.synthetic import generate_workforce, realised_attrition_rate, write_csv

    settings = get_settings()
    rows = settings.synthetic_rows if rows is None else rows
    seed = settings.seed if seed is None else seed
    rate = settings.synthetic_attrition_rate if attrition_rate is None else attrition_rate
    frame = generate_workforce(rows, seed, attrition_rate=rate, scenario=scenario)
    path = write_csv(frame, out)
    result = {
        "path": str(path),
        "rows": len(frame),
        "seed": seed,
        "scenario": scenario,
        "attrition_rate": realised_attrition_rate(frame),
    }
    message = (
        f"Wrote {len(frame):,} employees to {path} (seed {seed}, "
        f"scenario {scenario or 'none'}, attrition rate {result['attrition_rate']:.1%})."
    )
    emit(result, as_json, lambda: console.print(message, markup=False, highlight=False))


@app.command()
def ingest(
    file: Path = typer.Argument(..., help="CSV file of the IBM HR schema."),
    snapshot_date: str | None = typer.Option(
        None, "--snapshot-date", help="Snapshot date YYYY-MM-DD (default: today, UTC)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Validate a snapshot; load valid rows, quarantine invalid rows with reasons.

    Ingesting a file for a date that already holds a snapshot replaces that snapshot.
    """
    day = _parse_snapshot_date(snapshot_date)
    from attrition.data.ingest import ingest_file  # pandera is slow to import: only here

    settings = get_settings()
    database_url = migrated_database(settings)
    result = ingest_file(file, day, database_url, pseudonym_key=settings.pseudonym_secret())
    emit(result.as_dict(), as_json, lambda: _render_ingest(result))


def _parse_snapshot_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date in the format YYYY-MM-DD (e.g. 2024-06-30)",
            param_hint="--snapshot-date",
        ) from None


def _render_ingest(result: IngestResult) -> None:
    console.print(
        f"Snapshot [bold]{result.snapshot_date.isoformat()}[/] from {escape(result.source)}: "
        f"{result.rows_read:,} rows read, [green]{result.rows_loaded:,} loaded[/], "
        f"[yellow]{result.rows_quarantined:,} quarantined[/] (batch {result.batch_id})."
    )
    for warning in result.warnings:
        console.print(f"[yellow]Warning:[/] {escape(warning)}")
    if result.top_reasons:
        table = Table(title="Top quarantine reasons")
        table.add_column("field")
        table.add_column("reason")
        table.add_column("rows", justify="right")
        for item in result.top_reasons:
            table.add_row(escape(item["field"]), escape(item["reason"]), f"{item['rows']:,}")
        console.print(table)
