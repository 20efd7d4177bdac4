"""Alembic environment: uses the connection handed over by ``attrition.db.migrate``.

``attrition.db.migrate`` builds the Alembic config with the database URL and an open
connection. A bare ``alembic upgrade`` from the command line has neither: it takes the URL
from ``sqlalchemy.url`` in its own config, else from the environment's settings.
"""

from alembic import context
from sqlalchemy import Connection

from attrition.db.models import Base

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # plain `alembic upgrade` from the command line
        from attrition.db.engine import get_engine

        with get_engine(_database_url()).begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from attrition.settings import Settings

    return Settings().database_url


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
