"""The audit trail of alias moves: written and read back per model; rollback targets from
it (promotions push, rollbacks pop)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from attrition.db.migrate import current_revision, upgrade
from attrition.registry import AliasMove, alias_history, champion_stack, record_move


def move(version: str, kind: str) -> AliasMove:
    return AliasMove("m", "champion", version, None, kind, "why", "tester")


def test_promotions_push_and_rollbacks_pop():
    moves = [move("1", "promote"), move("2", "promote"), move("3", "promote")]
    assert champion_stack(moves) == ["1", "2", "3"]
    assert champion_stack([*moves, move("2", "rollback")]) == ["1", "2"]
    assert champion_stack([*moves, move("2", "rollback"), move("1", "rollback")]) == ["1"]


def test_re_promoting_the_same_version_is_not_a_new_entry():
    assert champion_stack([move("1", "promote"), move("1", "promote")]) == ["1"]


def test_promotion_after_rollback_builds_on_the_restored_champion():
    moves = [
        move("1", "promote"),
        move("2", "promote"),
        move("1", "rollback"),
        move("4", "promote"),
    ]
    assert champion_stack(moves) == ["1", "4"]


def test_moves_are_read_back_per_model_oldest_first(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    record_move(move("1", "promote"), sqlite_url)
    record_move(AliasMove("other", "champion", "9", None, "promote", "why", "t"), sqlite_url)
    record_move(move("2", "promote"), sqlite_url)
    history = alias_history("champion", model_name="m", database_url=sqlite_url)
    assert [m.version for m in history] == ["1", "2"]
    assert alias_history("challenger", model_name="m", database_url=sqlite_url) == []


def test_recording_a_move_never_migrates_the_database(sqlite_url: str) -> None:
    """Migrations run at a command's start (or `attrition db upgrade`), not on a write."""
    with pytest.raises(OperationalError, match="audit_event"):
        record_move(move("1", "promote"), sqlite_url)
    assert current_revision(sqlite_url) is None
