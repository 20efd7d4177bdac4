"""`attrition promote` and `rollback` on a local store: JSON, audit, typed errors as exit 1."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from attrition.cli import app
from attrition.db.migrate import current_revision
from attrition.registry import CHAMPION, RegistryConfig, alias_history, connect
from attrition.settings import get_settings

runner = CliRunner()


@pytest.fixture
def two_versions() -> RegistryConfig:
    """Two registered versions (no runs behind them) in this test's store."""
    config = RegistryConfig.from_settings(get_settings())
    client = connect(config)
    client.create_registered_model(config.model_name)
    for _ in range(2):
        client.create_model_version(config.model_name, "file:///nowhere")
    return config


def test_promote_and_rollback_print_the_move_and_audit_it(two_versions: RegistryConfig) -> None:
    assert current_revision(two_versions.database_url) is None
    first = runner.invoke(app, ["promote", "1", "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout.strip().splitlines()[-1])["version"] == "1"
    runner.invoke(app, ["promote", "2"])
    back = runner.invoke(app, ["rollback"])
    assert back.exit_code == 0, back.output
    assert "champion of attrition-classifier is now v1 (was v2)" in back.stdout
    moves = alias_history(
        CHAMPION, model_name=two_versions.model_name, database_url=two_versions.database_url
    )
    assert [(m.version, m.kind, m.actor.startswith("cli:")) for m in moves] == [
        ("1", "promote", True),
        ("2", "promote", True),
        ("1", "rollback", True),
    ]


def test_an_unknown_version_and_nothing_to_roll_back_are_exit_1(
    two_versions: RegistryConfig,
) -> None:
    missing = runner.invoke(app, ["promote", "7"])
    assert missing.exit_code == 1 and "registered versions: 1, 2" in str(missing.exception)
    nothing = runner.invoke(app, ["rollback"])
    assert nothing.exit_code == 1 and "no champion to roll back from" in str(nothing.exception)
