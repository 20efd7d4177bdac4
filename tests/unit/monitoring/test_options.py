"""MonitorOptions: the keyword options of a check, validated (strings from the CLI or API)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from attrition.errors import AttritionError
from attrition.monitoring.options import MonitorOptions


def test_options_parse_strings_and_refuse_bad_combinations() -> None:
    chosen = MonitorOptions.from_mapping(
        {"since": "2026-02-01T09:30:00", "days": "7", "snapshot_date": None}
    )
    assert chosen.since == datetime(2026, 2, 1, 9, 30, tzinfo=UTC) and chosen.days == 7.0
    assert chosen.source == "prediction_log"
    snapshot = MonitorOptions.from_mapping({"snapshot_date": "2026-02-01"})
    assert snapshot.snapshot_date == date(2026, 2, 1) and snapshot.source == "snapshot"
    problems = [
        ({"since": "yesterday"}, "--since: 'yesterday' is not an ISO date"),
        ({"snapshot_date": "01/02/2026"}, "--snapshot-date"),
        ({"days": 0}, "--days must be greater than 0"),
        ({"days": "a week"}, "--days must be a number"),
        ({"current": Path("x.csv"), "since": "2026-02-01"}, "prediction-log rows"),
        ({"lookback": 3}, "allowed: current, snapshot_date, since, days, config, now"),
    ]
    for options, message in problems:
        with pytest.raises(AttritionError, match=message):
            MonitorOptions.from_mapping(options)
