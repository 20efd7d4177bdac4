"""`attrition keys`, `erase`: administration."""

from __future__ import annotations

import typer

from attrition.cli._common import JsonOption, console, emit, get_settings, migrated_database

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
    from attrition.serving.platform.api_keys import create_key as create

    settings = get_settings()
    key = create(
        name,
        role,
        database_url=migrated_database(settings),
        server_secret=settings.pseudonym_secret(),
    )
    result = {"key_id": key.key_id, "name": key.name, "role": key.role.name, "key": key.secret}

    def render() -> None:
        console.print(f"Created {key.role.name} key [bold]{key.key_id}[/] for {key.name!r}.")
        console.print("Store it now; it is not shown again:")
        console.print(key.secret, markup=False, highlight=False, soft_wrap=True)

    emit(result, as_json, render)


@keys_app.command("list")
def list_keys(
    include_revoked: bool = typer.Option(False, "--all", help="Include revoked keys."),
    as_json: bool = JsonOption,
) -> None:
    """List API keys: id, name, role, dates (never a secret)."""
    from rich.table import Table

    from attrition.serving.platform.api_keys import list_keys as listed

    keys = listed(_keys_table(get_settings().database_url), include_revoked=include_revoked)

    def render() -> None:
        table = Table("key id", "name", "role", "created", "revoked")
        for key in keys:
            revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
            table.add_row(key.key_id, key.name, key.role, f"{key.created_at:%Y-%m-%d %H:%M}",
                          revoked)  # fmt: skip
        console.print(table if keys else "No API keys yet: `attrition keys create`.")

    emit({"keys": [key.as_dict() for key in keys]}, as_json, render)


@keys_app.command("revoke")
def revoke_key(
    key_id: str = typer.Argument(..., help="The key id (or the whole key)."),
    as_json: bool = JsonOption,
) -> None:
    """Revoke an API key; every replica refuses it within seconds."""
    from attrition.serving.platform.api_keys import revoke_key as revoke

    key = revoke(key_id, database_url=_keys_table(get_settings().database_url))
    emit(
        key.as_dict(),
        as_json,
        lambda: console.print(
            f"Revoked {key.role} key [bold]{key.key_id}[/] ({key.name!r}) "
            f"as of {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC."
        ),
    )


def _keys_table(database_url: str) -> str:
    """The URL, once the database answers and holds the key table (else one clear error;
    migrating would load Alembic, which `keys list` does not need to start quickly)."""
    from attrition.data.tables import require_tables
    from attrition.db.engine import get_engine

    require_tables(get_engine(database_url), "api_key")
    return database_url


def erase(
    employee_number: int = typer.Argument(..., help="EmployeeNumber to erase."),
    as_json: bool = JsonOption,
) -> None:
    """Delete a person's rows and prediction logs, keeping a tombstone."""
    from attrition.privacy.erasure import erase_employee
    from attrition.serving.predlog.spool import spool_folder

    settings = get_settings()
    counts = erase_employee(
        employee_number,
        database_url=settings.database_url,
        secret=settings.pseudonym_secret(),
        actor="cli",
        spool=spool_folder(settings.var_dir),
    )
    total = sum(counts.values())
    emit(
        {"rows_deleted": counts, "total": total},
        as_json,
        lambda: console.print(
            f"Erased {total} rows ("
            + ", ".join(f"{table}: {n}" for table, n in counts.items())
            + "); a tombstone keeps only the pseudonym and these counts."
        ),
    )
