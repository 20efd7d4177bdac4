from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select

from attrition.db.engine import get_engine, session_scope
from attrition.db.migrate import current_revision, upgrade
from attrition.db.models import AuditEvent, Base

pytestmark = pytest.mark.integration


def test_upgrade_creates_every_table_and_is_repeatable(database_url: str) -> None:
    assert current_revision(database_url) is None
    upgrade(database_url)
    upgrade(database_url)  # a second run is a no-op
    tables = set(inspect(get_engine(database_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_timestamps_come_back_timezone_aware_utc(database_url: str) -> None:
    upgrade(database_url)
    with session_scope(database_url) as session:
        session.add(AuditEvent(actor="test", action="check", details={"a": 1}))
    with session_scope(database_url) as session:
        event = session.scalars(select(AuditEvent)).one()
    assert event.created_at.tzinfo is not None
    assert event.created_at.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - event.created_at).total_seconds()) < 60
    assert event.details == {"a": 1}


def test_naive_timestamps_are_refused(database_url: str) -> None:
    upgrade(database_url)
    with pytest.raises(Exception, match="naive datetime"), session_scope(database_url) as s:
        s.add(AuditEvent(actor="t", action="x", details={}, created_at=datetime(2026, 1, 1)))


def test_the_alembic_config_carries_the_url_for_the_environment(sqlite_url: str) -> None:
    """``migrations/env.py`` reads the URL from the config; ``%`` survives ini escaping."""
    from attrition.db.migrate import alembic_config

    url = "postgresql://user:p%40ss@db/attrition"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url
    assert alembic_config(sqlite_url).get_main_option("sqlalchemy.url") == sqlite_url


def test_a_bare_alembic_run_migrates_the_url_of_its_config(sqlite_url: str) -> None:
    """As `alembic upgrade head` does: no connection handed over, only the URL."""
    from alembic import command
    from alembic.config import Config

    from attrition.db.migrate import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sqlite_url)
    command.upgrade(config, "head")
    assert current_revision(sqlite_url) is not None
