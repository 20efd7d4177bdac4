"""The `attrition` command line. Each module parses options and calls library functions."""

from __future__ import annotations

import sys

import typer

from attrition.cli import (
    admin,
    data,
    db,
    maintenance,
    monitor,
    quickstart,
    registry,
    serve,
    training,
)
from attrition.cli._common import err_console
from attrition.errors import AttritionError
from attrition.privacy.files import restrict_new_files

app = typer.Typer(
    name="attrition",
    help="Employee attrition risk: data, training, registry, serving, monitoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(data.app, name="data")
app.add_typer(admin.keys_app, name="keys")
app.add_typer(maintenance.app, name="maintenance")
for module in (quickstart, training, registry, serve, monitor, admin):
    module.register(app)


def main() -> None:
    """Console-script entry: a user error becomes one message on stderr and exit 1.

    Usage errors (exit 2) and `typer.Exit` codes are handled by click itself. Files the
    command (or any child it starts) creates are private to the user (0600, folders 0700).
    """
    restrict_new_files()
    try:
        app()
    except AttritionError as error:
        err_console.print(f"[bold red]Error:[/] {error}", soft_wrap=True)
        sys.exit(1)
