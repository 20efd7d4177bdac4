"""Rollback target from the audit trail: promotions push, rollbacks pop."""

from __future__ import annotations

from attrition.registry import AliasMove, champion_stack


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
