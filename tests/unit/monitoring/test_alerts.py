"""Alerts: payloads, a real loopback HTTP receiver for the webhook and a fake GitHub API,
and dedupe state in audit_event on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from attrition.db.engine import session_scope
from attrition.db.migrate import upgrade
from attrition.db.models import AuditEvent
from attrition.db.types import utcnow
from attrition.errors import AttritionError
from attrition.monitoring.alerts import (
    Alert,
    AlertOutcome,
    alert_fingerprint,
    build_alert,
    dispatch_alert,
    github_issue_payload,
    open_github_issue,
    slack_payload,
)
from attrition.monitoring.config import AlertConfig, DriftConfig, PerformanceConfig
from attrition.monitoring.drift import DriftResult, compare
from attrition.monitoring.performance import HoldoutMetrics, evaluate_performance
from attrition.monitoring.profile import FeatureSpec
from attrition.settings import Settings
from attrition_testkit import Receiver, receiving

TOKEN = "ghp_test-token-never-logged"
FAST = AlertConfig(retries=2, backoff_seconds=0.01, timeout_seconds=5)
SPECS = [FeatureSpec("x", categorical=False), FeatureSpec("y", categorical=False)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The webhook and a fake GitHub API (which answers 201 Created for new issues)."""
    with receiving(lambda path: 201 if "/issues" in path else 200) as running:
        yield running


def _settings(receiver: Receiver, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "alert_webhook_url": f"{receiver.url}/hook",
        "github_token": TOKEN,
        "github_repository": "acme/hr-models",
        "github_api_url": f"{receiver.url}/api",
    }
    values.update(overrides)
    return Settings(**values)


def _drift(shift_x: float = 0.0, shift_y: float = 0.0, seed: int = 0) -> DriftResult:
    rng = np.random.default_rng(seed)
    reference = {"x": rng.normal(0, 1, 800), "y": rng.normal(0, 1, 800)}
    current = {"x": rng.normal(shift_x, 1, 800), "y": rng.normal(shift_y, 1, 800)}
    return compare(reference, current, SPECS, DriftConfig())


def _alert(version: str = "3", **shifts: float) -> Alert:
    alert = build_alert(_drift(**shifts), model_name="attrition-classifier", model_version=version)
    assert alert is not None
    return alert


@pytest.fixture
def migrated(sqlite_url: str) -> str:
    upgrade(sqlite_url)
    return sqlite_url


def dispatch(alert: Alert | None, *, settings: Settings, **options: Any) -> AlertOutcome:
    """``dispatch_alert`` into the database of ``settings``."""
    return dispatch_alert(alert, settings=settings, database_url=settings.database_url, **options)


@pytest.fixture
def migrated_any(database_url: str) -> str:
    """The configured database, once SQLite and once PostgreSQL."""
    upgrade(database_url)
    return database_url


# ------------------------------------------------------------------ building


def test_no_alert_without_confirmed_drift_or_decay() -> None:
    assert build_alert(_drift(), model_name="m", model_version="1") is None


def test_alert_content_and_fingerprint() -> None:
    alert = _alert(shift_x=1.0)
    assert alert.drifted_features == ("x",) and alert.severity == "critical"  # 1 of 2 >= 0.3 share
    assert "x (numeric)" in alert.text and "wasserstein norm" in alert.text
    same = alert_fingerprint("attrition-classifier", "3", ["x"], False, [])
    assert alert.fingerprint == same
    assert alert_fingerprint("m", "1", ["a", "b"], False, []) == alert_fingerprint(
        "m", "1", ["b", "a"], False, []
    )
    assert alert_fingerprint("m", "1", ["a"], False, []) != alert_fingerprint(
        "m", "2", ["a"], False, []
    )
    assert alert_fingerprint("m", "1", ["a"], False, []) != alert_fingerprint(
        "m", "1", ["a"], True, []
    )


def test_performance_decay_alone_raises_an_alert() -> None:
    rng = np.random.default_rng(5)
    scores = rng.beta(2, 8, 2000)
    outcomes = rng.random(2000) < np.minimum(scores * 2.2, 1)  # far more leavers than predicted
    performance = evaluate_performance(
        scores, outcomes, threshold=0.3, holdout=HoldoutMetrics(0.7), config=PerformanceConfig()
    )
    assert performance.decay is True
    alert = build_alert(_drift(), model_name="m", model_version="1", performance=performance)
    assert alert is not None and alert.performance_reasons == ("calibration",)
    assert alert.drifted_features == () and "Decay in: calibration" in alert.text


def test_payload_shapes() -> None:
    alert = _alert(shift_x=1.0)
    slack = slack_payload(alert)
    assert slack["text"].startswith("[attrition]") and slack["blocks"][0]["type"] == "header"
    issue = github_issue_payload(alert, ("drift",))
    assert issue["title"] == alert.title and alert.fingerprint in issue["body"]
    assert issue["labels"] == ["drift"]


# ------------------------------------------------------------------ delivery + dedupe


def test_alert_reaches_webhook_and_github_once_per_ongoing_drift(
    receiver: Receiver, migrated_any: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(receiver)
    caplog.set_level(logging.INFO, logger="attrition.monitoring.alerts")
    first = dispatch(
        _alert(shift_x=1.0), model_name="attrition-classifier", config=FAST, settings=settings
    )
    assert first.status == "sent" and all(c.delivered for c in first.channels)
    hook, issues = receiver.posts("/hook"), receiver.posts("/api/repos/acme/hr-models/issues")
    assert len(hook) == 1 and len(issues) == 1
    assert hook[0]["json"]["text"].startswith("[attrition]")
    assert issues[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert issues[0]["headers"]["X-GitHub-Api-Version"] == "2022-11-28"
    assert issues[0]["json"]["labels"] == ["drift", "monitoring"]

    again = dispatch(
        _alert(shift_x=1.0, seed=1),
        model_name="attrition-classifier",
        config=FAST,
        settings=settings,
    )
    assert again.status == "suppressed" and len(receiver.requests) == 2

    worse = dispatch(
        _alert(shift_x=1.0, shift_y=1.0),
        model_name="attrition-classifier",
        config=FAST,
        settings=settings,
    )
    assert worse.status == "sent" and len(receiver.requests) == 4  # a different drift is news

    record = next(r for r in caplog.records if r.getMessage().startswith("drift alert"))
    assert (
        record.__dict__["drifted_features"] == ["x"] and record.__dict__["event"] == "drift_alert"
    )
    logged = caplog.text + json.dumps([r.__dict__ for r in caplog.records], default=str)
    assert TOKEN not in logged and receiver.url not in logged
    with session_scope(migrated_any) as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "monitoring.alert")
        ).all()
        assert len(events) == 2 and TOKEN not in json.dumps([e.details for e in events])


def test_clean_check_ends_the_episode_so_the_same_drift_alerts_again(
    receiver: Receiver, migrated: str
) -> None:
    settings = _settings(receiver, github_token=None)
    alert = _alert(shift_x=1.0)
    assert dispatch(alert, model_name="attrition-classifier", config=FAST, settings=settings).sent
    resolved = dispatch(None, model_name="attrition-classifier", config=FAST, settings=settings)
    assert resolved.status == "resolved" and resolved.fingerprint == alert.fingerprint
    quiet = dispatch(None, model_name="attrition-classifier", config=FAST, settings=settings)
    assert quiet.status == "quiet"
    assert dispatch(alert, model_name="attrition-classifier", config=FAST, settings=settings).sent
    assert (
        len(receiver.posts("/hook")) == 2
        and receiver.posts("/api/repos/acme/hr-models/issues") == []
    )


def test_failed_channel_is_retried_later_without_repeating_the_others(
    receiver: Receiver, migrated: str
) -> None:
    settings = _settings(receiver)
    receiver.statuses["/hook"] = [500, 502, 503]  # three attempts, all fail
    alert = _alert(shift_x=1.0)
    first = dispatch(alert, model_name="attrition-classifier", config=FAST, settings=settings)
    results = {c.channel: c for c in first.channels}
    assert not results["webhook"].delivered and results["webhook"].detail == "HTTP 503"
    assert results["github"].delivered
    assert len(receiver.posts("/hook")) == 3
    second = dispatch(alert, model_name="attrition-classifier", config=FAST, settings=settings)
    assert second.status == "retried" and [c.channel for c in second.channels] == ["webhook"]
    assert (
        len(receiver.posts("/hook")) == 4
        and len(receiver.posts("/api/repos/acme/hr-models/issues")) == 1
    )
    third = dispatch(alert, model_name="attrition-classifier", config=FAST, settings=settings)
    assert third.status == "suppressed"


def test_client_errors_are_not_retried_and_repeat_after_hours(
    receiver: Receiver, migrated: str
) -> None:
    settings = _settings(receiver, github_token=None)
    receiver.statuses["/hook"] = [404]
    config = AlertConfig(retries=3, backoff_seconds=0.01, repeat_after_hours=6)
    alert = _alert(shift_x=1.0)
    first = dispatch(alert, model_name="attrition-classifier", config=config, settings=settings)
    assert first.channels[0].detail == "HTTP 404" and len(receiver.posts("/hook")) == 1
    assert dispatch(alert, model_name="attrition-classifier", config=config, settings=settings).sent
    assert (
        dispatch(alert, model_name="attrition-classifier", config=config, settings=settings).status
        == "suppressed"
    )
    later = utcnow() + timedelta(hours=7)
    repeat = dispatch(
        alert, model_name="attrition-classifier", config=config, settings=settings, now=later
    )
    assert repeat.status == "sent" and len(receiver.posts("/hook")) == 3


def test_log_only_and_disabled_modes(migrated: str, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings()
    caplog.set_level(logging.WARNING, logger="attrition.monitoring.alerts")
    alert = _alert(shift_x=1.0)
    assert dispatch(alert, model_name="m", config=FAST, settings=settings).status == "sent"
    assert dispatch(alert, model_name="m", config=FAST, settings=settings).status == "suppressed"
    assert sum(r.getMessage().startswith("drift alert:") for r in caplog.records) == 1
    off = dispatch(alert, model_name="other", config=AlertConfig(enabled=False), settings=settings)
    assert off.status == "disabled"


def test_unreachable_endpoint_and_bad_repository(migrated: str) -> None:
    settings = Settings(alert_webhook_url="http://127.0.0.1:9/hook")  # discard port: refused
    outcome = dispatch(_alert(shift_x=1.0), model_name="m", config=FAST, settings=settings)
    assert not outcome.channels[0].delivered and "transport error" in outcome.channels[0].detail
    with httpx.Client() as client, pytest.raises(AttritionError, match="owner/name"):
        open_github_issue(
            _alert(shift_x=1.0),
            api_url="http://127.0.0.1:9",
            repository="no-slash",
            token="t",
            client=client,
            config=FAST,
        )
