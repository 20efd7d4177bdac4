"""Alerts for confirmed drift or decay: structured log, Slack-compatible webhook, GitHub issue.

``build_alert`` turns a drift (and performance) result into an ``Alert`` with a fingerprint
of what is wrong: model name and version, the drifted features, prediction drift and the
performance decay reasons. ``dispatch_alert`` sends it at most once per ongoing drift: the
state lives in ``audit_event`` rows (``monitoring.alert`` / ``monitoring.alert_resolved``,
target = the model name). The same fingerprint is not sent again until a check comes back clean
(which records ``monitoring.alert_resolved``) or ``repeat_after_hours`` passes; a channel that
failed is retried on the next check without repeating the channels that succeeded.

Alerts carry feature names and aggregate statistics only. The webhook URL and the GitHub
token are secrets: they are never logged nor stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from attrition.audit import AuditAction, record_event
from attrition.db.engine import session_scope
from attrition.db.models import AuditEvent
from attrition.db.types import utcnow
from attrition.errors import AttritionError
from attrition.monitoring.config import AlertConfig
from attrition.monitoring.drift import DriftResult
from attrition.monitoring.findings import Finding
from attrition.monitoring.performance import PerformanceResult
from attrition.settings import Settings

if TYPE_CHECKING:  # httpx is imported when an alert is sent
    import httpx

logger = logging.getLogger(__name__)

ACTOR = "monitor"
ALERT_ACTION = AuditAction.MONITORING_ALERT
RESOLVED_ACTION = AuditAction.MONITORING_ALERT_RESOLVED
DELIVERED = "delivered"
MAX_LISTED = 10
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
Channel = Literal["webhook", "github"]


@dataclass(frozen=True, slots=True)
class Alert:
    """What is wrong with which model, ready to be sent."""

    model_name: str
    model_version: str
    fingerprint: str
    severity: Literal["warning", "critical"]
    title: str
    lines: tuple[str, ...]
    drifted_features: tuple[str, ...]
    dataset_drift: bool
    drift_share: float
    prediction_drift: bool
    performance_reasons: tuple[str, ...]
    report_id: int | None = None
    report_url: str | None = None
    findings: tuple[str, ...] = ()  # codes of fairness and data-quality findings

    @property
    def text(self) -> str:
        """Plain-text body."""
        return "\n".join((self.title, *self.lines))

    def log_fields(self) -> dict[str, Any]:
        """The structured log record (no secrets, no personal data)."""
        return {
            "event": "drift_alert",
            "fingerprint": self.fingerprint,
            "severity": self.severity,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "drifted_features": list(self.drifted_features),
            "dataset_drift": self.dataset_drift,
            "drift_share": self.drift_share,
            "prediction_drift": self.prediction_drift,
            "performance_reasons": list(self.performance_reasons),
            "findings": list(self.findings),
            "report_id": self.report_id,
        }


@dataclass(frozen=True, slots=True)
class ChannelResult:
    """How one channel went: ``delivered`` or a short reason (never a URL or token)."""

    channel: Channel
    delivered: bool
    detail: str


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """What ``dispatch_alert`` did."""

    status: Literal["sent", "retried", "suppressed", "resolved", "quiet", "disabled"]
    fingerprint: str | None = None
    channels: tuple[ChannelResult, ...] = field(default_factory=tuple)

    @property
    def sent(self) -> bool:
        """True when this call raised the alert or re-tried channels that had failed."""
        return self.status in ("sent", "retried")


# ---------------------------------------------------------------------- building


def alert_fingerprint(
    model_name: str,
    model_version: str,
    drifted_features: tuple[str, ...] | list[str],
    prediction_drift: bool,
    performance_reasons: tuple[str, ...] | list[str],
    findings: tuple[str, ...] | list[str] = (),
) -> str:
    """A stable id of one drift situation; feature order does not matter. Finding codes
    join the key only when there are some (fingerprints of drift alone stay as they were)."""
    key: dict[str, Any] = {
        "model": model_name,
        "version": model_version,
        "features": sorted(drifted_features),
        "prediction": prediction_drift,
        "performance": sorted(performance_reasons),
    }
    if findings:
        key["findings"] = sorted(findings)
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


def _feature_lines(drift: DriftResult) -> list[str]:
    drifted = [f for f in drift.features if f.drifted]
    lines = [
        f"- {f.name} ({f.kind}): {f.effect_name.replace('_', ' ')} "
        f"{'n/a' if f.effect is None else f'{f.effect:.3f}'}; {', '.join(f.reasons)}"
        for f in drifted[:MAX_LISTED]
    ]
    if len(drifted) > MAX_LISTED:
        lines.append(f"- and {len(drifted) - MAX_LISTED} more")
    return lines


def _summary_lines(
    drift: DriftResult, performance: PerformanceResult | None, report_url: str | None
) -> list[str]:
    count, total = len(drift.drifted_features), len(drift.features)
    verdict = "dataset drift" if drift.dataset_drift else "no dataset drift"
    lines = [f"Drifted features: {count} of {total} (share {drift.drift_share:.2f}, {verdict})"]
    lines += _feature_lines(drift)
    if drift.prediction is not None:
        lines.append(f"Prediction drift: {'yes' if drift.prediction_drift else 'no'}")
    if performance is not None:
        lines.append(f"Performance: {performance.status.replace('_', ' ')}")
        if performance.overall.reasons:
            lines.append(f"Decay in: {', '.join(performance.overall.reasons)}")
    if report_url:
        lines.append(f"Report: {report_url}")
    return lines


def finding_lines(findings: tuple[Finding, ...]) -> list[str]:
    """Fairness and data-quality findings, one line each (group and field names only)."""
    if not findings:
        return []
    shown = [f"- {finding.message}" for finding in findings[:MAX_LISTED]]
    more = [f"- and {len(findings) - MAX_LISTED} more"] if len(findings) > MAX_LISTED else []
    return ["Findings:", *shown, *more]


def _title(model_name: str, model_version: str, critical: bool, drift_or_decay: bool) -> str:
    what = "drift" if drift_or_decay else "fairness or data-quality finding"
    level = "Critical" if critical else "Warning"
    return f"[attrition] {level}: {what} on {model_name} v{model_version}"


def build_alert(
    drift: DriftResult,
    *,
    model_name: str,
    model_version: str,
    performance: PerformanceResult | None = None,
    report_id: int | None = None,
    report_url: str | None = None,
    findings: tuple[Finding, ...] = (),
) -> Alert | None:
    """An alert when any feature, the scores or the realised performance is confirmed bad,
    or a fairness or data-quality finding was raised."""
    decay = tuple(performance.overall.reasons) if performance and performance.decay else ()
    if not drift.any_drift and not decay and not findings:
        return None
    critical = drift.dataset_drift or bool(decay)
    codes = tuple(finding.code for finding in findings)
    return Alert(
        model_name=model_name,
        model_version=model_version,
        fingerprint=alert_fingerprint(
            model_name, model_version, drift.drifted_features, drift.prediction_drift, decay, codes
        ),
        severity="critical" if critical else "warning",
        title=_title(model_name, model_version, critical, drift.any_drift or bool(decay)),
        lines=tuple(_summary_lines(drift, performance, None) + finding_lines(findings))
        + ((f"Report: {report_url}",) if report_url else ()),
        drifted_features=drift.drifted_features,
        dataset_drift=drift.dataset_drift,
        drift_share=drift.drift_share,
        prediction_drift=drift.prediction_drift,
        performance_reasons=decay,
        report_id=report_id,
        report_url=report_url,
        findings=codes,
    )


def slack_payload(alert: Alert) -> dict[str, Any]:
    """Slack incoming-webhook JSON (``text`` fallback plus blocks); other tools read ``text``."""
    return {
        "text": alert.text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(alert.lines)[:3000]}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"fingerprint `{alert.fingerprint}`"}],
            },
        ],
    }


def github_issue_payload(alert: Alert, labels: tuple[str, ...]) -> dict[str, Any]:
    """Body of ``POST /repos/{owner}/{repo}/issues``."""
    body = "\n".join(
        [
            *alert.lines,
            "",
            f"Severity: {alert.severity}",
            f"Fingerprint: `{alert.fingerprint}` (one issue per ongoing drift)",
        ]
    )
    return {"title": alert.title, "body": body, "labels": list(labels)}


# ---------------------------------------------------------------------- sending


def _retryable(response: httpx.Response) -> bool:
    return response.status_code == 429 or response.status_code >= 500


def post_json(
    client: httpx.Client,
    url: str,
    payload: Mapping[str, Any],
    config: AlertConfig,
    headers: Mapping[str, str] | None = None,
) -> tuple[bool, str]:
    """POST with bounded retries on transport errors, 429 and 5xx; (delivered, detail)."""
    import httpx

    detail = "not attempted"
    for attempt in range(config.retries + 1):
        if attempt:
            time.sleep(config.backoff_seconds * 2 ** (attempt - 1))
        try:
            response = client.post(url, json=payload, headers=dict(headers or {}))
        except httpx.HTTPError as error:
            detail = f"transport error: {type(error).__name__}"
            continue
        if response.is_success:
            return True, DELIVERED
        detail = f"HTTP {response.status_code}"
        if not _retryable(response):
            break
    return False, detail


def send_webhook(
    alert: Alert, url: str, client: httpx.Client, config: AlertConfig
) -> ChannelResult:
    """Post the Slack-compatible payload to the webhook."""
    delivered, detail = post_json(client, url, slack_payload(alert), config)
    return ChannelResult("webhook", delivered, detail)


def open_github_issue(
    alert: Alert,
    *,
    api_url: str,
    repository: str,
    token: str,
    client: httpx.Client,
    config: AlertConfig,
) -> ChannelResult:
    """Open an issue in ``owner/name`` through the GitHub REST API."""
    if not REPOSITORY.match(repository):
        raise AttritionError(
            f"github_repository must look like owner/name, got {repository!r} "
            "(ATTRITION_GITHUB_REPOSITORY)"
        )
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "attrition-monitor",
    }
    url = f"{api_url.rstrip('/')}/repos/{repository}/issues"
    payload = github_issue_payload(alert, config.github_labels)
    delivered, detail = post_json(client, url, payload, config, headers)
    return ChannelResult("github", delivered, detail)


# ---------------------------------------------------------------------- dedupe state


@dataclass(frozen=True, slots=True)
class AlertState:
    """The newest alert event of a model: what was sent, when, and to which channels."""

    action: str
    fingerprint: str | None
    channels: dict[str, str]
    created_at: datetime


def last_alert_state(session: Session, model_name: str) -> AlertState | None:
    """The newest alert or alert-resolved audit event for the model, if any."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.action.in_((ALERT_ACTION, RESOLVED_ACTION)))
        .where(AuditEvent.target == model_name)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    event = session.scalars(query).first()
    if event is None:
        return None
    details = event.details or {}
    return AlertState(
        event.action,
        details.get("fingerprint"),
        dict(details.get("channels", {})),
        event.created_at,
    )


def _ongoing(alert: Alert, last: AlertState | None, config: AlertConfig, now: datetime) -> bool:
    """True when the newest alert state is this same drift and no repeat is due yet."""
    if last is None or last.action != ALERT_ACTION or last.fingerprint != alert.fingerprint:
        return False
    repeat = config.repeat_after_hours
    return repeat is None or now - last.created_at < timedelta(hours=repeat)


def _wanted_channels(config: AlertConfig, settings: Settings) -> list[Channel]:
    wanted: list[Channel] = []
    if config.webhook and settings.alert_webhook_url:
        wanted.append("webhook")
    if config.github_issue and settings.github_token and settings.github_repository:
        wanted.append("github")
    return wanted


def _send(
    channel: Channel, alert: Alert, settings: Settings, client: httpx.Client, config: AlertConfig
) -> ChannelResult:
    if channel == "webhook":
        assert settings.alert_webhook_url is not None
        return send_webhook(alert, settings.alert_webhook_url, client, config)
    assert settings.github_token is not None and settings.github_repository is not None
    return open_github_issue(
        alert,
        api_url=settings.github_api_url,
        repository=settings.github_repository,
        token=settings.github_token.get_secret_value(),
        client=client,
        config=config,
    )


def _record(database_url: str, target: str, alert: Alert, channels: dict[str, str]) -> None:
    details = {**alert.log_fields(), "channels": channels}
    with session_scope(database_url) as session:
        record_event(session, actor=ACTOR, action=ALERT_ACTION, target=target, details=details)


def _resolve(database_url: str, model_name: str, last: AlertState | None) -> AlertOutcome:
    if last is None or last.action != ALERT_ACTION:
        return AlertOutcome("quiet")
    details = {"fingerprint": last.fingerprint}
    with session_scope(database_url) as session:
        record_event(
            session, actor=ACTOR, action=RESOLVED_ACTION, target=model_name, details=details
        )
    logger.info("drift resolved for %s", model_name, extra={"event": "drift_resolved"})
    return AlertOutcome("resolved", last.fingerprint)


def dispatch_alert(
    alert: Alert | None,
    *,
    model_name: str,
    config: AlertConfig,
    settings: Settings,
    database_url: str,
    client: httpx.Client | None = None,
    now: datetime | None = None,
) -> AlertOutcome:
    """Send ``alert`` once per ongoing drift; ``None`` (a clean check) ends the episode.

    The dedupe state is kept per ``model_name`` (the registry name): a new version with
    the same drift is a new fingerprint, hence a new alert.
    """
    with session_scope(database_url) as session:
        last = last_alert_state(session, model_name)
    if alert is None:
        return _resolve(database_url, model_name, last)
    if not config.enabled:
        logger.warning("drift alert (alerts disabled): %s", alert.title, extra=alert.log_fields())
        return AlertOutcome("disabled", alert.fingerprint)
    ongoing = _ongoing(alert, last, config, now or utcnow())
    before = last.channels if ongoing and last is not None else {}
    pending = [c for c in _wanted_channels(config, settings) if before.get(c) != DELIVERED]
    if ongoing and not pending:
        return AlertOutcome("suppressed", alert.fingerprint)
    if not ongoing:
        logger.warning("drift alert: %s", alert.title, extra=alert.log_fields())
    results = _deliver(pending, alert, settings, config, client)
    _record(database_url, model_name, alert, {**before, **{r.channel: r.detail for r in results}})
    status: Literal["sent", "retried"] = "retried" if ongoing else "sent"
    return AlertOutcome(status, alert.fingerprint, tuple(results))


def _deliver(
    channels: list[Channel],
    alert: Alert,
    settings: Settings,
    config: AlertConfig,
    client: httpx.Client | None,
) -> list[ChannelResult]:
    if not channels:
        return []
    import httpx

    own = client is None
    http = client or httpx.Client(timeout=config.timeout_seconds)
    try:
        results = [_send(channel, alert, settings, http, config) for channel in channels]
    finally:
        if own:
            http.close()
    for result in results:
        if not result.delivered:
            logger.error("alert channel %s failed: %s", result.channel, result.detail)
    return results
