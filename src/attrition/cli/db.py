"""`attrition db ...`: schema migrations."""

from __future__ import annotations

import typer

from attrition.cli._common import JsonOption, console, emit, get_settings

app = typer.Typer(help="Database schema management.", no_args_is_help=True)


@app.command()
def upgrade(
    revision: str = typer.Argument("head", help="Target Alembic revision."),
    as_json: bool = JsonOption,
) -> None:
    """Apply Alembic migrations to ATTRITION_DATABASE_URL."""
    from attrition.db.migrate import upgrade as upgrade_database

    reached = upgrade_database(get_settings().database_url, revision)
    emit(
        {"revision": reached},
        as_json,
        lambda: console.print(f"Database at revision [bold]{reached}[/]."),
    )
