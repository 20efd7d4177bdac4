"""`attrition keys`, `erase`: administration."""

from __future__ import annotations

import typer

from attrition.cli._common import JsonOption, not_available

keys_app = typer.Typer(help="API keys.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach the top-level admin commands to the root app."""
    app.command()(erase)


@keys_app.command("create")
def create_key(
    name: str = typer.Option(..., "--name", help="Who or what uses the key."),
    role: str = typer.Option(..., "--role", help="viewer, predictor or admin."),
    as_json: bool = JsonOption,
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    not_available("keys create", "serving issue")


def erase(
    employee_number: int = typer.Argument(..., help="EmployeeNumber to erase."),
    as_json: bool = JsonOption,
) -> None:
    """Delete a person's rows and prediction logs, keeping a tombstone."""
    not_available("erase", "serving issue")
