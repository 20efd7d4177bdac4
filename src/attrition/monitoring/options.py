"""What a monitoring check looks at: :class:`MonitorOptions`, validated from the keyword
options of ``run_monitoring`` (strings accepted where the CLI or the API passes them).

``current`` (path), ``snapshot_date`` (date or ISO string), ``since`` (datetime or ISO
string; prediction log only), ``days`` (prediction-log look-back when there is no usable
last report; default ``performance.window_days``), ``config`` (monitoring config path) and
``now`` (the check's time, aware UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from attrition.errors import AttritionError
from attrition.monitoring.windows import PREDICTION_LOG, as_utc


@dataclass(frozen=True, slots=True)
class MonitorOptions:
    """What to check; see the module docstring."""

    current: Path | None = None
    snapshot_date: date | None = None
    since: datetime | None = None
    days: float | None = None
    config: Path | None = None
    now: datetime | None = None

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> MonitorOptions:
        """Validate keyword options (strings accepted where the CLI or an API passes them)."""
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise AttritionError(
                f"unknown monitoring option(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
            )
        chosen = cls(
            current=_path(options.get("current")),
            snapshot_date=_date(options.get("snapshot_date")),
            since=_datetime("since", options.get("since")),
            days=_days(options.get("days")),
            config=_path(options.get("config")),
            now=_datetime("now", options.get("now")),
        )
        chosen.check()
        return chosen

    def check(self) -> None:
        """Refuse combinations that name two sources or a window without the log."""
        if self.current is not None and self.snapshot_date is not None:
            raise AttritionError("give either --current FILE or --snapshot-date, not both")
        if self.source != PREDICTION_LOG and (self.since is not None or self.days is not None):
            raise AttritionError(
                "--since and --days select prediction-log rows; drop them "
                "with --current or --snapshot-date"
            )

    @property
    def source(self) -> str:
        if self.current is not None:
            return "file"
        if self.snapshot_date is not None:
            return "snapshot"
        return PREDICTION_LOG


def _path(value: Any) -> Path | None:
    return None if value is None else Path(value)


def _date(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise AttritionError(f"--snapshot-date: {value!r} is not a date (YYYY-MM-DD)") from None


def _datetime(name: str, value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return None if value is None else as_utc(value)
    try:
        return as_utc(datetime.fromisoformat(str(value)))
    except ValueError:
        raise AttritionError(
            f"--{name}: {value!r} is not an ISO date or time (e.g. 2025-06-01 or "
            "2025-06-01T09:30:00+00:00)"
        ) from None


def _days(value: Any) -> float | None:
    if value is None:
        return None
    try:
        days = float(value)
    except (TypeError, ValueError):
        raise AttritionError(f"--days must be a number of days, got {value!r}") from None
    if not days > 0:
        raise AttritionError(f"--days must be greater than 0, got {value}")
    return days
