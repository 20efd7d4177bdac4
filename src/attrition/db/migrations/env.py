"""Alembic environment: uses the connection handed over by ``attrition.db.migrate``."""

from alembic import context
from sqlalchemy import Connection

from attrition.db.models import Base
from attrition.settings import get_settings

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # plain `alembic upgrade` from the command line
        from attrition.db.engine import get_engine

        with get_engine(get_settings().database_url).begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
