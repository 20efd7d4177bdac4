"""`attrition data ingest`: exit codes, the --json line, the summary, user errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attrition.cli import app, main
from attrition.db.migrate import current_revision, upgrade
from attrition.settings import get_settings

runner = CliRunner()


@pytest.fixture
def migrated_db() -> str:
    url = get_settings().database_url  # the isolated SQLite file of this test
    upgrade(url)
    return url


@pytest.fixture
def small_file(dev_csv: Path, tmp_path: Path) -> Path:
    lines = dev_csv.read_text().splitlines()[:31]
    lines[4] = lines[4].replace("Research & Development", "Engineering", 1)
    lines[6] = lines[6].replace("Research & Development", "Engineering", 1)
    lines[9] = lines[9].replace(",Male,", ",M,", 1).replace(",Female,", ",F,", 1)
    path = tmp_path / "snapshot.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The console-script entry point, as a user runs it."""
    old = sys.argv
    sys.argv = ["attrition", *args]
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_json_is_the_last_line(migrated_db: str, small_file: Path) -> None:
    result = runner.invoke(
        app, ["data", "ingest", str(small_file), "--snapshot-date", "2024-05-31", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert (payload["rows_read"], payload["rows_loaded"], payload["rows_quarantined"]) == (
        30,
        27,
        3,
    )
    assert payload["snapshot_date"] == "2024-05-31"
    assert payload["top_reasons"][0]["field"] == "Department"
    assert payload["top_reasons"][0]["rows"] == 2
    assert isinstance(payload["batch_id"], int)


def test_summary_shows_counts_and_top_reasons(migrated_db: str, small_file: Path) -> None:
    result = runner.invoke(app, ["data", "ingest", str(small_file)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "30 rows read, 27 loaded, 3 quarantined" in result.stdout
    assert "Top quarantine reasons" in result.stdout
    assert "Department" in result.stdout and "Gender" in result.stdout


@pytest.mark.parametrize("value", ["31/05/2024", "2024-13-01", "yesterday", "20240531"])
def test_a_bad_date_is_a_usage_error_naming_the_format(small_file: Path, value: str) -> None:
    result = runner.invoke(app, ["data", "ingest", str(small_file), "--snapshot-date", value])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr


def test_a_bad_file_is_one_line_on_stderr_and_exit_1(
    migrated_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "semicolons.csv"
    path.write_text("Age;Attrition;BusinessTravel;DailyRate;Department;DistanceFromHome\n" * 3)
    code, out, err = run_main(["data", "ingest", str(path), "--json"], capsys)
    assert code == 1 and out == ""
    message = " ".join(err.split())  # rich may wrap a long message at the terminal width
    assert message.startswith("Error: ") and "delimiter is ';', expected ','" in message
    assert "Traceback" not in err


def test_an_unmigrated_database_is_migrated_first(
    small_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command that writes to the database migrates it when it starts (the CLI's rule)."""
    code, out, err = run_main(["data", "ingest", str(small_file), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["rows_loaded"] == 27
    assert current_revision(get_settings().database_url) is not None


def test_an_unreachable_database_is_exit_1(
    small_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATTRITION_DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:9/none")
    get_settings.cache_clear()
    code, _, err = run_main(["data", "ingest", str(small_file)], capsys)
    assert code == 1
    assert "cannot reach the database" in err and "Traceback" not in err
    assert "secret" not in err


def test_success_through_the_entry_point(
    migrated_db: str, small_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_main(["data", "ingest", str(small_file), "--json"], capsys)
    assert code == 0
    assert json.loads(out.strip().splitlines()[-1])["rows_loaded"] == 27
