"""load_training_frame: the newest (or given) labelled snapshot, typed like read_dataset."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from attrition.data.ingest import ingest_file
from attrition.data.loading import load_training_frame
from attrition.data.validation import read_dataset
from attrition.errors import AttritionError
from attrition.privacy import pseudonymise
from attrition.schema import FEATURE_NAMES, IDENTIFIER, TARGET

pytestmark = pytest.mark.integration

KEY = b"test-pseudonym-key"


def test_training_frame_matches_the_ingested_file(migrated: str, dev_csv: Path) -> None:
    ingest_file(dev_csv, date(2024, 6, 30), migrated, pseudonym_key=KEY)
    frame = load_training_frame(migrated)
    expected = read_dataset(dev_csv).valid
    assert list(frame.columns) == ["employee_key", *FEATURE_NAMES, TARGET]
    assert frame.attrs["snapshot_date"] == "2024-06-30"
    keys = [pseudonymise(int(n), KEY) for n in expected[IDENTIFIER]]
    assert frame["employee_key"].tolist() == keys  # file order
    pd.testing.assert_frame_equal(
        frame.drop(columns=["employee_key"]),
        expected.drop(columns=[IDENTIFIER]),
        check_dtype=True,
    )


def unlabelled(dev_csv: Path, tmp_path: Path, rows: int) -> Path:
    lines = dev_csv.read_text().splitlines()[: rows + 1]
    cut = [",".join(v for i, v in enumerate(line.split(",")) if i != 1) for line in lines]
    path = tmp_path / "unlabelled.csv"
    path.write_text("\n".join(cut))
    return path


def test_newest_labelled_snapshot_is_the_default(
    migrated: str, dev_csv: Path, tmp_path: Path
) -> None:
    small = tmp_path / "small.csv"
    small.write_text("\n".join(dev_csv.read_text().splitlines()[:21]))
    ingest_file(dev_csv, date(2024, 1, 31), migrated, pseudonym_key=KEY)
    ingest_file(small, date(2024, 2, 29), migrated, pseudonym_key=KEY)
    ingest_file(
        unlabelled(dev_csv, tmp_path, 30), date(2024, 3, 31), migrated, pseudonym_key=KEY
    )  # newest, no labels
    newest = load_training_frame(migrated)
    assert (len(newest), newest.attrs["snapshot_date"]) == (20, "2024-02-29")
    january = load_training_frame(migrated, snapshot_date=date(2024, 1, 31))
    assert len(january) == 1176 and set(january[TARGET]) == {"Yes", "No"}
    with pytest.raises(AttritionError, match="snapshots with labels: 2024-02-29, 2024-01-31"):
        load_training_frame(migrated, snapshot_date=date(2024, 3, 31))


def test_an_empty_database_says_what_to_ingest(migrated_sqlite: str) -> None:
    with pytest.raises(AttritionError, match=r"no labelled employee rows.*attrition data ingest"):
        load_training_frame(migrated_sqlite)


def test_an_unmigrated_database_says_to_run_db_upgrade(sqlite_url: str) -> None:
    with pytest.raises(AttritionError, match="run `attrition db upgrade` first"):
        load_training_frame(sqlite_url)
