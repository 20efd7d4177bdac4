"""Checks that the database the data pipeline writes to is reachable and migrated."""

from __future__ import annotations

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from attrition.errors import AttritionError


def safe_url(engine: Engine) -> str:
    """The engine's URL with any password hidden, for messages."""
    return make_url(str(engine.url)).render_as_string(hide_password=True)


def unreachable(engine: Engine, error: OperationalError) -> AttritionError:
    """The user error for a database that does not answer: its URL and the first line of why."""
    reason = str(error.orig).strip().splitlines()[0] if error.orig else "unreachable"
    return AttritionError(f"cannot reach the database {safe_url(engine)}: {reason}")


def require_tables(engine: Engine, *tables: str) -> None:
    """Fail with one clear message when the database is unreachable or not migrated."""
    try:
        present = set(inspect(engine).get_table_names())
    except OperationalError as error:
        raise unreachable(engine, error) from None
    missing = [name for name in tables if name not in present]
    if missing:
        raise AttritionError(
            f"the database {safe_url(engine)} has no table(s) {', '.join(missing)}; "
            "run `attrition db upgrade` first"
        )
