"""Helpers shared by the command modules: JSON output, user errors, migrating first."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from attrition.settings import Settings

console = Console()
err_console = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print one JSON object on the last line.")
VerboseOption = typer.Option(
    False,
    "--verbose",
    "-v",
    help="Also show library messages and per-trial lines (the log file under the data "
    "folder, logs/attrition.log, always has them).",
)


def emit(result: Mapping[str, Any], as_json: bool, render: Callable[[], None]) -> None:
    """Show a result: as a single JSON line, or with the command's own rendering."""
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
    else:
        render()


def get_settings() -> Settings:
    """The process settings; pydantic is imported when a command runs, not for ``--help``."""
    from attrition.settings import get_settings as process_settings

    return process_settings()


def cli_actor() -> str:
    """Who runs a command, as the audit trail records it."""
    return f"cli:{getpass.getuser()}"


def migrated_database(settings: Settings) -> str:
    """Migrate the configured database to the newest revision and return its URL.

    The one rule for commands that write to the database: they call this first (as
    ``attrition quickstart`` does), so no library function migrates as a side effect. The
    engine is opened here with the configured PostgreSQL pool size.
    """
    from sqlalchemy.exc import OperationalError

    from attrition.data.tables import unreachable
    from attrition.db.engine import get_engine
    from attrition.db.migrate import upgrade

    engine = get_engine(settings.database_url, settings.db_pool_size)
    try:
        upgrade(settings.database_url)
    except OperationalError as error:
        raise unreachable(engine, error) from None
    return settings.database_url
