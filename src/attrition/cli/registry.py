"""`attrition promote`, `rollback`: move the champion alias by hand (audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from attrition.cli._common import (
    JsonOption,
    cli_actor,
    console,
    emit,
    get_settings,
    migrated_database,
)

if TYPE_CHECKING:  # the registry imports MLflow when a command runs, not for --help
    from attrition.registry import AliasMove, RegistryConfig


def register(app: typer.Typer) -> None:
    """Attach the registry commands to the root app."""
    app.command()(promote)
    app.command()(rollback)


def _registry() -> RegistryConfig:
    """The configured registry, its audit database migrated first."""
    from attrition.registry import RegistryConfig

    settings = get_settings()
    migrated_database(settings)
    return RegistryConfig.from_settings(settings)


def _render_move(move: AliasMove) -> None:
    before = f" (was v{move.previous})" if move.previous else ""
    console.print(f"{move.alias} of {move.model_name} is now v{move.version}{before}.")


def _move_json(move: AliasMove) -> dict[str, Any]:
    return move.to_dict()


def promote(
    version: str = typer.Argument(..., help="Registered model version."),
    as_json: bool = JsonOption,
) -> None:
    """Move the champion alias to VERSION (audited)."""
    from attrition.registry import promote as promote_version

    move = promote_version(version, actor=cli_actor(), config=_registry())
    emit(_move_json(move), as_json, lambda: _render_move(move))


def rollback(as_json: bool = JsonOption) -> None:
    """Move the champion alias back to the previous champion (audited)."""
    from attrition.registry import rollback as rollback_champion

    move = rollback_champion(actor=cli_actor(), config=_registry())
    emit(_move_json(move), as_json, lambda: _render_move(move))
