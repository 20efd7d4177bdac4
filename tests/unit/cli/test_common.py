"""Helpers of the command modules: who acts, and migrating the database first."""

from __future__ import annotations

import getpass

import pytest

from attrition.cli._common import cli_actor, migrated_database
from attrition.db.engine import get_engine
from attrition.db.migrate import current_revision
from attrition.errors import AttritionError
from attrition.settings import Settings, get_settings


def test_the_actor_names_the_user() -> None:
    assert cli_actor() == f"cli:{getpass.getuser()}"


def test_the_database_is_migrated_before_a_command_writes() -> None:
    settings = get_settings()
    assert current_revision(settings.database_url) is None
    assert migrated_database(settings) == settings.database_url
    revision = current_revision(settings.database_url)
    assert revision is not None
    assert migrated_database(settings) == settings.database_url  # again: nothing to do
    assert current_revision(settings.database_url) == revision


def test_the_configured_pool_size_is_the_engines(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, db_pool_size=2)
    migrated_database(settings)
    assert get_engine(postgres_url).pool.size() == 2  # type: ignore[attr-defined]


def test_an_unreachable_database_is_one_clear_line() -> None:
    settings = Settings(database_url="postgresql://nobody:hunter2@127.0.0.1:9/none")
    with pytest.raises(AttritionError, match="cannot reach the database") as caught:
        migrated_database(settings)
    assert "hunter2" not in str(caught.value)
