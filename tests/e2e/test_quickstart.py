"""`attrition quickstart` on a fresh directory: migrate, data (synthetic or yours), ingest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from attrition.cli import app
from attrition.data.loading import load_training_frame
from attrition.quickstart import Step, quickstart_steps, run_quickstart

pytestmark = pytest.mark.e2e

ROWS = 300


@pytest.fixture(autouse=True)
def small_synthetic(monkeypatch: pytest.MonkeyPatch) -> None:
    from attrition.settings import get_settings

    monkeypatch.setenv("ATTRITION_SYNTHETIC_ROWS", str(ROWS))
    get_settings.cache_clear()


def test_synthetic_quickstart_runs_its_steps_in_order(isolated_settings: Path) -> None:
    events: list[tuple[str, bool]] = []

    def listen(step: Step, outcome: dict[str, Any] | None) -> None:
        events.append((step.name, outcome is not None))

    result = run_quickstart(None, on_step=listen)
    names = [step.name for step in quickstart_steps()]
    assert names[:3] == ["migrate", "data", "ingest"]
    assert events == [(name, done) for name in names for done in (False, True)]
    steps = {step["step"]: step for step in result["steps"]}
    assert steps["data"]["source"] == "synthetic" and steps["data"]["rows"] == ROWS
    assert Path(steps["data"]["path"]).is_file()
    assert Path(steps["data"]["path"]).resolve().is_relative_to(isolated_settings.resolve())
    assert steps["ingest"]["rows_loaded"] + steps["ingest"]["rows_quarantined"] == ROWS
    assert steps["ingest"]["rows_loaded"] == ROWS  # the generator writes valid rows
    assert len(load_training_frame()) == ROWS
    assert result["api"]["command"] == "attrition serve"
    assert result["dashboard"]["command"] == "attrition ui"


def test_quickstart_with_your_file_is_repeatable(dev_csv: Path) -> None:
    first = run_quickstart(dev_csv)
    second = run_quickstart(dev_csv)
    for result in (first, second):
        ingest = result["steps"][2]
        assert (ingest["rows_loaded"], ingest["rows_quarantined"]) == (1176, 0)
    assert len(load_training_frame()) == 1176


def test_cli_prints_progress_and_how_to_open_the_api_and_dashboard() -> None:
    result = CliRunner().invoke(app, ["quickstart"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    for text in ("migrate", "data", "ingest", "attrition serve", "attrition ui", "/docs"):
        assert text in result.stdout


def test_cli_missing_data_file_is_exit_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["quickstart", "--data", str(tmp_path / "none.csv")])
    assert result.exit_code == 1
    assert "file not found" in str(result.exception)


def test_console_script_json_on_a_fresh_directory(tmp_path: Path) -> None:
    """The installed `attrition` command, as `make demo` runs it, in an empty folder."""
    workdir = tmp_path / "fresh"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")}
    env |= {"ATTRITION_SYNTHETIC_ROWS": str(ROWS), "ATTRITION_PSEUDONYM_KEY": "e2e"}
    script = Path(sys.executable).with_name("attrition")
    done = subprocess.run(
        [str(script), "quickstart", "--json"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout.strip().splitlines()[-1])
    assert [s["step"] for s in payload["steps"]][:3] == ["migrate", "data", "ingest"]
    assert payload["steps"][2]["rows_loaded"] == ROWS
    assert (workdir / "var" / "attrition.db").is_file()
    assert "ingest" in done.stderr  # progress goes to stderr in --json mode
    assert "Traceback" not in done.stderr
