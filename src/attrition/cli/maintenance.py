"""`attrition maintenance ...`: retention, backup and restore."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from attrition.cli._common import JsonOption, console, emit, get_settings

app = typer.Typer(help="Retention, backup and restore.", no_args_is_help=True)


@app.command()
def prune(
    backups: Path | None = typer.Option(
        None, "--backups", help="Also delete backups in this folder past their retention."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Delete prediction logs, MLflow runs (aliased versions stay) and, with --backups,
    backups past their retention."""
    from attrition.operations import maintenance  # imports MLflow: only when used

    settings = get_settings()
    result = asdict(maintenance.prune(settings))
    if backups is not None:
        days = settings.backup_retention_days
        result["backups_deleted"] = maintenance.prune_backups(backups, days)
    emit(result, as_json, lambda: console.print(result))


@app.command("backup-key")
def backup_key(
    out: Path = typer.Option(..., "--out", help="New file to write the key into (0600)."),
) -> None:
    """Create a backup encryption key; point ATTRITION_BACKUP_KEY_FILE at it."""
    from attrition.operations.backup_files import write_key

    write_key(out)
    console.print(
        f"Backup key written to [bold]{out}[/]. Keep a copy away from the backups: without it "
        "they cannot be restored."
    )


@app.command()
def backup(
    out: Path = typer.Option(..., "--out", help="New folder to write the backup into."),
    as_json: bool = JsonOption,
) -> None:
    """Back up the database (portable JSON lines) and the embedded MLflow store; encrypted
    when ATTRITION_BACKUP_KEY or ATTRITION_BACKUP_KEY_FILE is set."""
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
