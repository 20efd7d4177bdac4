"""`attrition quickstart`: migrate, data (synthetic or yours), ingest, train, champion, key."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from attrition.cli import app
from attrition.data.loading import load_training_frame
from attrition.operations.quickstart import Step, quickstart_steps, run_quickstart
from attrition.settings import get_settings

pytestmark = pytest.mark.e2e

ROWS = 300
DATA_STEPS = 3  # migrate, data, ingest: the tests of the data half stop there


@pytest.fixture(autouse=True)
def small_synthetic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTRITION_SYNTHETIC_ROWS", str(ROWS))
    get_settings.cache_clear()


def test_synthetic_quickstart_runs_its_steps_in_order(isolated_settings: Path) -> None:
    events: list[tuple[str, bool]] = []

    def listen(step: Step, outcome: dict[str, Any] | None) -> None:
        events.append((step.name, outcome is not None))

    steps_run = quickstart_steps()[:DATA_STEPS]
    result = run_quickstart(get_settings(), None, steps=steps_run, on_step=listen)
    names = [step.name for step in steps_run]
    assert [step.name for step in quickstart_steps()] == [
        "migrate",
        "data",
        "ingest",
        "train",
        "champion",
        "key",
    ]
    assert events == [(name, done) for name in names for done in (False, True)]
    steps = {step["step"]: step for step in result["steps"]}
    assert steps["data"]["source"] == "synthetic" and steps["data"]["rows"] == ROWS
    assert Path(steps["data"]["path"]).is_file()
    assert Path(steps["data"]["path"]).resolve().is_relative_to(isolated_settings.resolve())
    assert steps["ingest"]["rows_loaded"] + steps["ingest"]["rows_quarantined"] == ROWS
    assert steps["ingest"]["rows_loaded"] == ROWS  # the generator writes valid rows
    assert len(load_training_frame(get_settings().database_url)) == ROWS
    assert result["api"]["command"] == "attrition serve"
    assert result["dashboard"]["command"] == "attrition ui"


def test_quickstart_with_your_file_is_repeatable(dev_csv: Path) -> None:
    first = run_quickstart(get_settings(), dev_csv, steps=quickstart_steps()[:DATA_STEPS])
    second = run_quickstart(get_settings(), dev_csv, steps=quickstart_steps()[:DATA_STEPS])
    for result in (first, second):
        ingest = result["steps"][2]
        assert (ingest["rows_loaded"], ingest["rows_quarantined"]) == (1176, 0)
    assert len(load_training_frame(get_settings().database_url)) == 1176


def test_cli_missing_data_file_is_exit_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["quickstart", "--data", str(tmp_path / "none.csv")])
    assert result.exit_code == 1
    assert "file not found" in str(result.exception)


def _run_console_script(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTRITION_")}
    # The default 1,470 synthetic rows, a short search: the gate must still pass on its merits.
    env |= {"ATTRITION_PSEUDONYM_KEY": "e2e", "ATTRITION_CV_FOLDS": "3", "COLUMNS": "160"}
    script = Path(sys.executable).with_name("attrition")
    return subprocess.run(
        [str(script), "quickstart", "--trials", "3", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_console_script_runs_the_whole_main_job_on_a_fresh_directory(tmp_path: Path) -> None:
    """The installed `attrition` command, as `make demo` runs it, in an empty folder."""
    workdir = tmp_path / "fresh"
    workdir.mkdir()
    done = _run_console_script(workdir, "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout.strip().splitlines()[-1])
    steps = {step["step"]: step for step in payload["steps"]}
    assert list(steps) == ["migrate", "data", "ingest", "train", "champion", "key"]
    assert steps["ingest"]["rows_loaded"] == 1470
    assert steps["train"]["promoted"] is True, steps["train"]["gate"]
    assert steps["train"]["metrics"]["roc_auc"] >= 0.75
    assert steps["champion"]["version"] == steps["train"]["model_version"]
    assert steps["key"]["api_key"].count("_") >= 2
    assert (workdir / "var" / "attrition.db").is_file()
    assert (workdir / "var" / "mlflow.db").is_file()
    assert "ingest" in done.stderr  # progress goes to stderr in --json mode
    assert "Traceback" not in done.stderr
    _assert_nothing_to_ignore(done.stderr)
    assert payload["log_file"] == "var/logs/attrition.log"
    # The key is shown once to the user and never stored or logged in clear.
    database = (workdir / "var" / "attrition.db").read_bytes()
    assert steps["key"]["api_key"].encode() not in database


# What a user must not have to read past: library warnings, MLflow and Optuna lines.
NOISE = re.compile(
    r"warning|Trial \d+|\[I 20|mlflow|optuna|Successfully registered|Created version",
    re.IGNORECASE,
)


def _assert_nothing_to_ignore(output: str) -> None:
    noise = [line for line in output.splitlines() if NOISE.search(line)]
    assert not noise, noise


def test_make_demo_prints_no_warning_no_trial_line_and_ends_with_the_key_box(
    tmp_path: Path,
) -> None:
    """`make demo`'s main job, as a user sees it: a line per step, then the key box; what
    the libraries said is in the run log."""
    workdir = tmp_path / "fresh"
    workdir.mkdir()
    done = _run_console_script(workdir)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    _assert_nothing_to_ignore(done.stdout)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    steps = ["migrate", "data", "ingest", "train", "champion", "key"]
    assert [line.split()[1] for line in lines if line.startswith("✓")] == steps
    top = max(i for i, line in enumerate(lines) if line.startswith("╭"))
    box = lines[top:]  # the last screen ends with the box, nothing after it
    assert "Quickstart done" in box[0] and box[-1].startswith("╰")
    assert all(line.startswith("│") for line in box[1:-1])
    assert lines[top - 1].startswith("✓ key")
    key = re.search(r"atk_\w+_[\w-]+", "\n".join(box))
    assert key is not None and "Admin API key (shown once" in "\n".join(box)
    log = (workdir / "var" / "logs" / "attrition.log").read_text()
    assert re.search(r"Trial 0 finished", log)  # per-trial lines: in the log only
    assert "Successfully registered model" in log
    assert key.group(0) not in log  # the key is shown once, never logged
