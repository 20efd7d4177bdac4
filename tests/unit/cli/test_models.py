"""`attrition train`, `promote`, `rollback`: migrating first, JSON, audit, exit 1 on user
errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attrition.cli import app
from attrition.db.migrate import current_revision
from attrition.registry import CHAMPION, RegistryConfig, alias_history, connect
from attrition.settings import get_settings

runner = CliRunner()


def test_training_migrates_the_database_first_then_refuses_unlabelled_rows(
    tmp_path: Path, dev_csv: Path
) -> None:
    unlabelled = tmp_path / "unlabelled.csv"
    lines = dev_csv.read_text().splitlines()[:40]
    unlabelled.write_text("\n".join(lines).replace(",Yes,", ",No,") + "\n")
    result = runner.invoke(app, ["train", "--data", str(unlabelled), "--trials", "1"])
    assert result.exit_code == 1
    assert "at least" in str(result.exception)
    assert current_revision(get_settings().database_url) is not None


def test_a_search_worker_does_not_touch_the_database(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "--join", "s", "--data", str(tmp_path / "none.csv")])
    assert result.exit_code == 1
    assert current_revision(get_settings().database_url) is None


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
