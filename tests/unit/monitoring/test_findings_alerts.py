"""Fairness and data-quality findings in alerts and in the HTML report."""

from __future__ import annotations

import numpy as np

from attrition.monitoring.alerts import alert_fingerprint, build_alert
from attrition.monitoring.config import DriftConfig
from attrition.monitoring.drift import DriftResult, compare
from attrition.monitoring.findings import Finding
from attrition.monitoring.profile import FeatureSpec
from attrition.monitoring.report import render_report
from attrition.monitoring.report_sections import sections

SPECS = [FeatureSpec("x", categorical=False)]
FAIRNESS = Finding("fairness", "fairness:Gender=Female:recall", "fairness: recall of ...")


def calm() -> DriftResult:
    rng = np.random.default_rng(0)
    return compare({"x": rng.normal(0, 1, 500)}, {"x": rng.normal(0, 1, 500)}, SPECS, DriftConfig())


def test_a_finding_alone_raises_a_warning_that_lists_it() -> None:
    alert = build_alert(calm(), model_name="m", model_version="2", findings=(FAIRNESS,))
    assert alert is not None and alert.severity == "warning"
    assert "fairness or data-quality finding" in alert.title
    assert "Findings:" in alert.text and FAIRNESS.message in alert.text
    assert alert.log_fields()["findings"] == [FAIRNESS.code]
    assert alert.fingerprint == alert_fingerprint("m", "2", [], False, [], [FAIRNESS.code])
    assert alert.fingerprint != alert_fingerprint("m", "2", [], False, [])
    assert build_alert(calm(), model_name="m", model_version="2") is None


def test_drift_fingerprints_without_findings_are_unchanged() -> None:
    assert alert_fingerprint("m", "1", ["a"], False, []) == alert_fingerprint(
        "m", "1", ["a"], False, [], []
    )


def test_report_sections_without_outcomes_or_quality_data() -> None:
    html = render_report(calm(), model_name="m", model_version="1", sections=sections(None, None))
    assert "Fairness in production" in html and "No realised outcomes yet" in html
    assert "Data quality" in html
