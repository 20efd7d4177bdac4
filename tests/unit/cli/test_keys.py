"""`attrition keys` on a fresh data folder: creating a key migrates first; listing and
revoking say what to run instead of a traceback."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from attrition.cli import app

runner = CliRunner()


def test_listing_keys_of_an_unmigrated_database_names_the_command_to_run() -> None:
    for command in (["keys", "list"], ["keys", "revoke", "0123456789abcdef"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1
        assert "run `attrition db upgrade` first" in str(result.exception)


def test_creating_a_key_migrates_a_fresh_database_first() -> None:
    created = runner.invoke(app, ["keys", "create", "--name", "ops", "--role", "viewer", "--json"])
    assert created.exit_code == 0, created.output
    key_id = json.loads(created.output.splitlines()[-1])["key_id"]
    listed = runner.invoke(app, ["keys", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [key["key_id"] for key in json.loads(listed.output)["keys"]] == [key_id]
