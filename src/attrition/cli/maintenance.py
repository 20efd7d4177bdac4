"""`attrition maintenance ...`: retention, backup and restore."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from attrition.cli._common import JsonOption, console, emit, get_settings

app = typer.Typer(help="Retention, backup and restore.", no_args_is_help=True)


@app.command()
def prune(as_json: bool = JsonOption) -> None:
    """Delete prediction logs and MLflow runs past their retention (aliased versions stay)."""
    from attrition.operations import maintenance  # imports MLflow: only when used

    result = asdict(maintenance.prune(get_settings()))
    emit(result, as_json, lambda: console.print(result))


@app.command()
def backup(
    out: Path = typer.Option(..., "--out", help="New folder to write the backup into."),
    as_json: bool = JsonOption,
) -> None:
    """Back up the database (portable JSON lines) and the embedded MLflow store."""
    from attrition.operations import maintenance  # imports MLflow: only when used

    manifest = maintenance.backup(get_settings(), out)
    emit(manifest, as_json, lambda: console.print(f"Backup written to [bold]{out}[/]: {manifest}"))


@app.command()
def restore(
    source: Path = typer.Argument(..., help="Backup folder written by `maintenance backup`."),
    force: bool = typer.Option(False, "--force", help="Replace data already in the database."),
    as_json: bool = JsonOption,
) -> None:
    """Restore a backup into the configured, migrated database."""
    from attrition.operations import maintenance  # imports MLflow: only when used

    counts = maintenance.restore(get_settings(), source, force=force)
    emit({"restored": counts}, as_json, lambda: console.print(f"Restored rows: {counts}"))
