"""`attrition data generate`: options, JSON result, files, user errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from attrition.cli import app, main
from attrition.data.synthetic import SCENARIOS
from attrition.schema import POSITIVE_LABEL, RAW_COLUMNS, TARGET
from attrition.settings import get_settings

runner = CliRunner()


def generate(*arguments: str) -> dict[str, object]:
    result = runner.invoke(app, ["data", "generate", *arguments, "--json"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def test_json_result_describes_the_written_file(tmp_path: Path) -> None:
    out = tmp_path / "workforce.csv"
    result = generate("--rows", "250", "--seed", "9", "--out", str(out))
    frame = pd.read_csv(out)
    assert list(frame.columns) == list(RAW_COLUMNS)
    assert len(frame) == 250
    assert result == {
        "path": str(out),
        "rows": 250,
        "seed": 9,
        "scenario": None,
        "attrition_rate": float((frame[TARGET] == POSITIVE_LABEL).mean()),
    }


def test_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    generate("--rows", "300", "--seed", "4", "--out", str(first), "--scenario", "reorg")
    generate("--rows", "300", "--seed", "4", "--out", str(second), "--scenario", "reorg")
    assert first.read_bytes() == second.read_bytes()


def test_label_shift_reports_the_doubled_rate(tmp_path: Path) -> None:
    out = tmp_path / "shifted.csv"
    arguments = ("--rows", "1000", "--out", str(out), "--attrition-rate", "0.1")
    result = generate(*arguments, "--scenario", "label_shift")
    assert result["scenario"] == "label_shift"
    assert result["attrition_rate"] == 0.2


def test_defaults_come_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTRITION_SYNTHETIC_ROWS", "120")
    monkeypatch.setenv("ATTRITION_SEED", "5")
    monkeypatch.setenv("ATTRITION_SYNTHETIC_ATTRITION_RATE", "0.25")
    get_settings.cache_clear()
    result = generate("--out", str(tmp_path / "defaults.csv"))
    assert (result["rows"], result["seed"], result["attrition_rate"]) == (120, 5, 0.25)


def test_without_json_it_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "plain.csv"
    result = runner.invoke(app, ["data", "generate", "--rows", "50", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 50 employees" in result.stdout
    assert out.exists()


def test_help_lists_the_scenarios() -> None:
    result = runner.invoke(app, ["data", "generate", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for name in SCENARIOS:
        assert name in result.stdout


@pytest.mark.parametrize(
    "arguments",
    [["--rows", "0"], ["--seed", "-3"], ["--attrition-rate", "1.5"], []],
    ids=["rows", "seed", "rate", "no-out"],
)
def test_bad_options_are_usage_errors(arguments: list[str], tmp_path: Path) -> None:
    out = [] if not arguments else ["--out", str(tmp_path / "x.csv")]
    result = runner.invoke(app, ["data", "generate", *arguments, *out])
    assert result.exit_code == 2


def test_unknown_scenario_is_a_clear_error_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the console-script entry point: no traceback, the allowed names on stderr."""
    out = tmp_path / "x.csv"
    arguments = ["--rows", "5", "--out", str(out), "--scenario", "layoffs"]
    monkeypatch.setattr(sys, "argv", ["attrition", "data", "generate", *arguments])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    stderr = " ".join(capsys.readouterr().err.split())
    assert "Traceback" not in stderr
    assert "unknown scenario 'layoffs'" in stderr
    assert all(name in stderr for name in SCENARIOS)
    assert not out.exists()
