"""Every command of docs/reference.md is registered, documented, and fails usage errors (exit 2)."""

import pytest
from typer.testing import CliRunner

from attrition.cli import app

COMMANDS = [
    ["quickstart"],
    ["up"],
    ["cluster"],
    ["db", "upgrade"],
    ["data", "generate"],
    ["data", "ingest"],
    ["train"],
    ["predict"],
    ["promote"],
    ["rollback"],
    ["monitor"],
    ["serve"],
    ["ui"],
    ["keys", "create"],
    ["keys", "list"],
    ["keys", "revoke"],
    ["erase"],
    ["maintenance", "prune"],
    ["maintenance", "backup"],
    ["maintenance", "restore"],
]
runner = CliRunner()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code == 2


def test_db_upgrade_json_reports_revision() -> None:
    result = runner.invoke(app, ["db", "upgrade", "--json"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith('{"revision": "0')


def test_cli_startup_does_not_import_heavy_libraries() -> None:
    """`attrition --help` must stay quick: ML and validation stacks load inside commands."""
    import subprocess
    import sys

    code = (
        "import sys, attrition.cli; "
        "print(sorted(m for m in ('mlflow', 'sklearn', 'pandera', 'optuna', 'shap', 'lightgbm') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
