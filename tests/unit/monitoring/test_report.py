"""The HTML report: self-contained, small, escaped, drifted features first, no personal data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import numpy as np
import pytest

from attrition.data.synthetic import generate_workforce
from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import DriftReport
from attrition.monitoring.config import MonitoringConfig
from attrition.monitoring.drift import DriftResult, compare
from attrition.monitoring.performance import HoldoutMetrics, evaluate_performance
from attrition.monitoring.profile import columns_from_frame, feature_specs
from attrition.monitoring.report import (
    distribution_svg,
    fmt,
    render_report,
    report_row_fields,
    verdict_fields,
)

CONFIG = MonitoringConfig()
SPECS = feature_specs()
SENTINEL_INCOME = 987_654
SENTINEL_ID = 7_777_777


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.rows: list[list[str]] = []
        self._cells: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self._cells = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._cells is not None:
            self.rows.append(self._cells)
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._cells is not None and data.strip():
            self._cells.append(data.strip())


def _everything_drifted() -> DriftResult:
    """All 30 features moved (the worst case for report size), plus scores."""
    reference = generate_workforce(3000, seed=1)
    current = generate_workforce(3000, seed=2, scenario="new_hiring_wave")
    current["EmployeeNumber"] = SENTINEL_ID
    current.loc[0, "MonthlyIncome"] = SENTINEL_INCOME
    ref, cur = columns_from_frame(reference, SPECS), columns_from_frame(current, SPECS)
    rng = np.random.default_rng(0)
    for spec in SPECS:
        values = cur[spec.name].copy()
        if spec.categorical:
            values[: len(values) // 2] = spec.categories[0]
        else:
            values = values * 1.3 + np.where(rng.random(values.size) < 0.5, 2.0, 0.0) + 1.0
            values[0] = SENTINEL_INCOME if spec.name == "MonthlyIncome" else values[0]
        cur[spec.name] = values
    cur["BusinessTravel"][:50] = "<script>alert(1)</script>"
    return compare(
        ref, cur, SPECS, CONFIG.drift, prediction=CONFIG.prediction,
        reference_scores=rng.beta(2, 8, 3000), current_scores=rng.beta(3, 6, 3000),
    )  # fmt: skip


@pytest.fixture(scope="module")
def drift() -> DriftResult:
    return _everything_drifted()


def _performance() -> object:
    rng = np.random.default_rng(1)
    scores = rng.beta(2, 8, 1500)
    outcomes = rng.random(1500) < scores * 2
    times = [
        datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=int(h))
        for h in rng.integers(0, 1400, 1500)
    ]
    return evaluate_performance(
        scores,
        outcomes,
        times,
        threshold=0.3,
        holdout=HoldoutMetrics(0.8, recall=0.6),
        config=CONFIG.performance,
    )


def test_report_for_30_drifted_features_is_small_and_self_contained(drift: DriftResult) -> None:
    assert len(drift.drifted_features) == 30
    page = render_report(
        drift, model_name="attrition-classifier", model_version="3", performance=_performance()
    )  # type: ignore[arg-type]
    assert len(page.encode()) <= 1_000_000
    parser = _Collector()
    parser.feed(page)
    assert parser.tags.count("svg") == 31  # every drifted feature plus the scores
    assert "script" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert not re.search(r"(src|href)=\"https?://", page)
    assert "Performance on realised outcomes" in page and "calibration" in page


def test_report_holds_no_personal_data_and_escapes_labels(drift: DriftResult) -> None:
    page = render_report(drift, model_name="m", model_version="1")
    assert str(SENTINEL_ID) not in page and "EmployeeNumber" not in page
    assert str(SENTINEL_INCOME) not in page and f"{SENTINEL_INCOME:.1f}" not in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_feature_table_lists_drifted_features_first() -> None:
    reference = columns_from_frame(generate_workforce(2000, seed=3), SPECS)
    current = columns_from_frame(generate_workforce(2000, seed=4, scenario="reorg"), SPECS)
    result = compare(reference, current, SPECS, CONFIG.drift)
    parser = _Collector()
    parser.feed(render_report(result, model_name="m", model_version="1"))
    table = [row[0] for row in parser.rows if row and row[0] in {s.name for s in SPECS}]
    assert len(table) == 30
    assert set(table[: len(result.drifted_features)]) == set(result.drifted_features)
    assert parser.tags.count("svg") == len(result.drifted_features)


def test_svg_and_number_formatting() -> None:
    result = compare(
        {"Age": np.arange(20.0, 60.0).repeat(3)}, {"Age": np.arange(30.0, 70.0).repeat(3)},
        feature_specs(["Age"]), CONFIG.drift,
    )  # fmt: skip
    feature = result.features[0]
    svg = str(distribution_svg(feature.reference, feature.current, "Age <b>"))
    assert svg.startswith("<svg") and "Age &lt;b&gt;" in svg
    assert svg.count("<rect") == 2 * len(feature.reference.proportions)
    assert (
        fmt(None) == "–"
        and fmt(True) == "yes"
        and fmt(0.00001) == "1.0e-05"
        and fmt(0.5) == "0.500"
    )


def test_results_fit_a_drift_report_row(drift: DriftResult, sqlite_url: str) -> None:
    upgrade(sqlite_url)
    performance = _performance()
    fields = report_row_fields(drift, performance)  # type: ignore[arg-type]
    html = render_report(drift, model_name="m", model_version="1")
    with session_scope(sqlite_url) as session:
        row = DriftReport(model_name="m", model_version="1", source="test", html=html, **fields)
        session.add(row)
        session.flush()
        report_id = row.id
    with session_scope(sqlite_url) as session:
        stored = session.get(DriftReport, report_id)
        assert stored is not None
        assert stored.drifted_features == list(drift.drifted_features)
        assert stored.performance_decay is True and stored.dataset_drift is True
        assert stored.summary["drift"]["n_features"] == 30
        assert stored.summary["performance"]["status"] == "decay"
    verdicts = verdict_fields(drift, None)
    assert verdicts["performance"] is None and verdicts["performance_decay"] is False
