"""`attrition train` before any search: it migrates first, and bad input is exit 1."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from attrition.cli import app
from attrition.db.migrate import current_revision
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


def test_a_bad_threshold_policy_or_capacity_is_refused_before_any_search(dev_csv: Path) -> None:
    base = ["train", "--data", str(dev_csv), "--trials", "1"]
    policy = runner.invoke(app, [*base, "--threshold-policy", "top"])
    assert policy.exit_code == 1
    assert "use one of f2, cost, capacity" in str(policy.exception)
    capacity = runner.invoke(app, [*base, "--threshold-policy", "capacity", "--capacity", "lots"])
    assert capacity.exit_code == 1
    assert "capacity 'lots' is not allowed" in str(capacity.exception)
    assert "a whole number of people" in str(capacity.exception)
