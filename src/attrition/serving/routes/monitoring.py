"""``/v1/monitoring/run`` and ``/v1/monitoring/reports*``: run a drift and performance check
now, and read the stored reports."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from attrition.audit import AuditAction
from attrition.errors import AttritionError, ConflictError, NotFoundError, UnavailableError
from attrition.serving import payloads, queries
from attrition.serving.admin_events import record_admin_event
from attrition.serving.deps import Admin, DatabaseSession, State, Viewer
from attrition.serving.openapi import PROTECTED, error_responses
from attrition.serving.platform.api_keys import Principal
from attrition.serving.state import ServingState

if TYPE_CHECKING:  # the monitoring stack is imported only when a check runs
    from attrition.monitoring.service import RetrainJob, Spawn

logger = logging.getLogger(__name__)
router = APIRouter(tags=["monitoring"])


@router.post(
    "/v1/monitoring/run",
    response_model=payloads.MonitoringRunResult,
    responses=error_responses(*PROTECTED, 400, 409, 503),
)
def run_monitoring(
    who: Admin, state: State, session: DatabaseSession, body: payloads.MonitoringRunIn | None = None
) -> payloads.MonitoringRunResult:
    """Run a drift and performance check now (admin). With ``retrain`` and a confirmed
    problem, a retrain of this check starts in the background (one at a time per process;
    ``retrain: "started"``); its outcome is written to this report when it ends, and
    recorded as audit events."""
    retrain = body.retrain if body else False
    result = _check(state, retrain, partial(_spawn_retrain, state, who))
    report_id = int(result["report_id"])
    status = _retrain_status(result) if retrain else "not_requested"
    record_admin_event(state, who, AuditAction.MONITORING_RUN, str(report_id), {"retrain": status})
    report = queries.report_detail(session, report_id)
    if report is None:
        raise UnavailableError("monitoring ran but its report is not readable yet")
    return payloads.MonitoringRunResult.model_validate({**report.model_dump(), "retrain": status})


@router.get(
    "/v1/monitoring/reports",
    response_model=payloads.ReportPage,
    responses=error_responses(*PROTECTED, 503),
)
def reports(
    who: Viewer,
    session: DatabaseSession,
    limit: int = Query(20, ge=1, le=200),
    offset: int = Query(0, ge=0, le=10_000_000),
) -> payloads.ReportPage:
    """Drift reports, newest first."""
    return queries.report_page(session, limit=limit, offset=offset)


@router.get(
    "/v1/monitoring/reports/{report_id}",
    response_model=payloads.ReportDetail,
    responses=error_responses(*PROTECTED, 404, 503),
)
def report(
    who: Viewer, session: DatabaseSession, report_id: int = PathParam(ge=1, le=2**62)
) -> payloads.ReportDetail:
    """One drift report with its full summary."""
    found = queries.report_detail(session, report_id)
    if found is None:
        raise NotFoundError(f"no drift report with id {report_id}")
    return found


@router.get(
    "/v1/monitoring/reports/{report_id}/html",
    response_model=None,
    responses={
        200: {
            "content": {"text/html": {"schema": {"type": "string"}}},
            "description": "HTML report",
        },
        **error_responses(*PROTECTED, 404, 503),
    },
)
def report_html(
    who: Viewer, session: DatabaseSession, report_id: int = PathParam(ge=1, le=2**62)
) -> HTMLResponse:
    """The drift report as a standalone HTML page."""
    html = queries.report_html(session, report_id)
    if html is None:
        raise NotFoundError(f"no HTML for drift report {report_id}")
    return HTMLResponse(html)


def _check(state: ServingState, retrain: bool, spawn: Spawn) -> dict[str, Any]:
    """One monitoring check (``attrition.monitoring.service.run_monitoring``). A user error
    of the check (no champion, no reference sample, too few rows) conflicts with the
    current state; any other failure is logged here and answered without its details."""
    from attrition.monitoring import service

    try:
        return service.run_monitoring(retrain=retrain, spawn=spawn, settings=state.settings)
    except UnavailableError:
        raise
    except AttritionError as error:
        raise ConflictError(f"monitoring could not run: {error}") from None
    except Exception as error:
        logger.exception("monitoring run failed")
        raise UnavailableError(
            f"monitoring failed ({type(error).__name__}); details are in the server log"
        ) from None


def _retrain_status(result: dict[str, Any]) -> str:
    """started, already_running or not_needed: what the check did about retraining."""
    status = result.get("retrain", {}).get("status")
    return status if status in ("started", "already_running") else "not_needed"


def _spawn_retrain(state: ServingState, who: Principal, report_id: int, job: RetrainJob) -> bool:
    """Run ``job`` (the retrain of report ``report_id``'s check) on the background runner,
    one at a time per process; False when one is already running."""
    return state.retrains.start(partial(_retrain, state, who, report_id, job))


def _retrain(state: ServingState, who: Principal, report_id: int, job: RetrainJob) -> None:
    """The background retrain of a checked report, audited; reload if promoted."""
    target = str(report_id)
    record_admin_event(state, who, AuditAction.BACKGROUND_RETRAIN_STARTED, target, {})
    try:
        outcome = job()
    except Exception as error:
        logger.warning("background retrain failed: %s", type(error).__name__)
        failed = {"error": type(error).__name__}
        record_admin_event(state, who, AuditAction.BACKGROUND_RETRAIN_FAILED, target, failed)
        return
    details = {
        "report_id": report_id,
        "status": outcome.get("status"),
        "new_version": outcome.get("new_version"),
        "promoted": bool(outcome.get("promoted")),
    }
    record_admin_event(state, who, AuditAction.BACKGROUND_RETRAIN_FINISHED, target, details)
    if details["promoted"]:
        try:
            state.models.reload(broadcast=True)
        except Exception as error:
            logger.warning("reload after retrain failed: %s", type(error).__name__)
