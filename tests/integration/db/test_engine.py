"""Engines and sessions: one engine per URL, the pool size its first caller gave."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from attrition.db.engine import DEFAULT_POOL_SIZE, get_engine, session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import AuditEvent

pytestmark = pytest.mark.integration


def test_one_engine_per_url_with_the_first_callers_pool_size(postgres_url: str) -> None:
    engine = get_engine(postgres_url, 3)
    assert get_engine(postgres_url) is engine  # sessions opened later share its pool
    assert engine.pool.size() == 3  # type: ignore[attr-defined]
    assert engine.dialect.driver == "psycopg"
    get_engine.cache_clear()
    fresh = get_engine(postgres_url)
    assert fresh is not engine and fresh.pool.size() == DEFAULT_POOL_SIZE  # type: ignore[attr-defined]
    fresh.dispose()
    engine.dispose()


def test_a_session_commits_on_success_and_rolls_back_on_error(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    with session_scope(sqlite_url) as session:
        session.add(AuditEvent(actor="t", action="kept", details={}))
    with pytest.raises(RuntimeError), session_scope(sqlite_url) as session:
        session.add(AuditEvent(actor="t", action="dropped", details={}))
        raise RuntimeError("fails before the commit")
    with session_scope(sqlite_url) as session:
        assert session.scalars(select(AuditEvent.action)).all() == ["kept"]
