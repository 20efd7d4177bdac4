"""Alias moves on a real local MLflow store: audited, with typed errors for the user."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from attrition.errors import AttritionError, ConflictError, NotFoundError
from attrition.registry import (
    CHALLENGER,
    CHAMPION,
    RegistryConfig,
    alias_history,
    champion_version,
    connect,
    list_versions,
    promote,
    read_aliases,
    rollback,
    set_alias,
    version_by_alias,
)

Register = Callable[..., list[str]]  # the `register` fixture


def history(config: RegistryConfig) -> list[tuple[str, str | None, str]]:
    moves = alias_history(CHAMPION, model_name=config.model_name, database_url=config.database_url)
    return [(m.version, m.previous, m.kind) for m in moves]


def test_typed_errors_stay_user_errors() -> None:
    assert issubclass(NotFoundError, AttritionError) and issubclass(ConflictError, AttritionError)


def test_promoting_an_unknown_version_is_not_found(
    config: RegistryConfig, register: Register
) -> None:
    register(2)
    with pytest.raises(NotFoundError, match="registered versions: 1, 2"):
        promote("7", actor="tester", config=config)
    assert history(config) == []


def test_promote_and_rollback_move_the_champion_and_are_audited(
    config: RegistryConfig, register: Register
) -> None:
    assert register(3) == ["1", "2", "3"] == list_versions(config)
    promote("1", actor="tester", config=config)
    moved = promote("3", actor="tester", reason="better", config=config)
    assert (moved.version, moved.previous, moved.reason) == ("3", "1", "better")
    back = rollback(actor="tester", config=config)
    assert (back.version, back.previous, back.kind) == ("1", "3", "rollback")
    assert champion_version(config) == "1"
    assert history(config) == [
        ("1", None, "promote"),
        ("3", "1", "promote"),
        ("1", "3", "rollback"),
    ]


def test_nothing_to_roll_back_to_is_a_conflict(config: RegistryConfig, register: Register) -> None:
    register(2)
    with pytest.raises(ConflictError, match="no champion"):
        rollback(actor="tester", config=config)
    promote("2", actor="tester", config=config)
    with pytest.raises(ConflictError, match="no previous champion"):
        rollback(actor="tester", config=config)


def test_rolling_back_to_a_deleted_version_is_a_conflict(
    config: RegistryConfig, register: Register
) -> None:
    register(2)
    promote("1", actor="tester", config=config)
    promote("2", actor="tester", config=config)
    connect(config).delete_model_version(config.model_name, "1")
    with pytest.raises(ConflictError, match="does not exist"):
        rollback(actor="tester", config=config)
    assert champion_version(config) == "2"


def test_champion_and_aliases_as_serving_reads_them(
    config: RegistryConfig, register: Register
) -> None:
    register(2)
    with pytest.raises(NotFoundError):
        champion_version(config)
    assert version_by_alias(CHAMPION, config) is None
    set_alias(CHALLENGER, "2", actor="t", kind="register", reason="new", config=config)
    promote("1", actor="t", config=config)
    assert read_aliases(config) == {CHALLENGER: "2", CHAMPION: "1"}
    holder = version_by_alias(CHALLENGER, config)
    assert holder is not None and str(holder.version) == "2"


def test_a_model_that_was_never_registered_has_no_versions(config: RegistryConfig) -> None:
    missing = dataclasses.replace(config, model_name="never-registered")
    assert list_versions(missing) == []
    assert version_by_alias(CHAMPION, missing) is None
    with pytest.raises(NotFoundError, match="registered versions: none"):
        promote("1", actor="tester", config=missing)
