"""The API's request and response models (pydantic); the employee model is generated from
the feature schema (``attrition.schema``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from attrition.data.validation import date_problem
from attrition.schema import (
    EARLIEST_DATE,
    FEATURES,
    IDENTIFIER,
    IDENTIFIER_RANGE,
    CategoricalFeature,
)

_STRICT = ConfigDict(extra="forbid", strict=True)


def _whole_number(value: Any) -> Any:
    """JSON Schema's integer: 57 and 57.0 are the same number; "57", true and 57.5 are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Strict int (no strings, no booleans) that also takes a float with no fractional part.
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]

# Constraints as annotated-types markers: inside a reusable alias they become proper
# ``minimum``/``maximum`` in the JSON schema (a nested ``Field`` would not).
EmployeeNumber = Annotated[
    int,
    annotated_types.Ge(IDENTIFIER_RANGE[0]),
    annotated_types.Le(IDENTIFIER_RANGE[1]),
    BeforeValidator(_whole_number),
]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    """Accept a ``YYYY-MM-DD`` string (bodies are parsed as Python objects, then validated)."""
    if isinstance(value, str):
        if not _ISO_DATE.match(value):
            raise ValueError("must be a date written YYYY-MM-DD")
        return date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _sane_date(value: date) -> date:
    """A date a client may record (``data.validation.date_problem``: not before the earliest
    date, not far in the future)."""
    problem = date_problem(value, datetime.now(UTC).date())
    if problem is not None:
        raise ValueError(problem)
    return value


# A date a client records (an outcome's): ISO, and within sane bounds.
ClientDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_sane_date)]

_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?$"
)


_LATEST_INSTANT = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def _iso_datetime(value: Any) -> Any:
    """Accept an ISO 8601 date-time string only (not a number of seconds), as an aware UTC
    date-time (no offset: UTC) from ``EARLIEST_DATE`` to a day before the end of year 9999:
    an offset that would carry it outside is refused here, not by the database."""
    parsed = value if isinstance(value, datetime) else None
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z")
    try:
        utc = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or utc.date() < EARLIEST_DATE or utc > _LATEST_INSTANT:
        raise ValueError(f"must be from {EARLIEST_DATE.isoformat()} to 9999-12-30 in UTC")
    return utc


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


def _feature_field(name: str) -> tuple[Any, Any]:
    feature = FEATURES[name]
    if isinstance(feature, CategoricalFeature):
        return Literal[feature.categories], Field(description=feature.description)  # type: ignore[valid-type]
    return WholeNumber, Field(ge=feature.low, le=feature.high, description=feature.description)


@lru_cache(maxsize=1)
def employee_model() -> type[BaseModel]:
    """One employee: every feature of the schema (ranges and categories enforced), strict."""
    fields: dict[str, Any] = {
        IDENTIFIER: (
            EmployeeNumber | None,
            Field(default=None, description="Employee id (pseudonymised before storage)"),
        )
    }
    fields.update({name: _feature_field(name) for name in FEATURES})
    return create_model("Employee", __config__=_STRICT, **fields)


@lru_cache(maxsize=8)
def batch_model(max_rows: int) -> type[BaseModel]:
    """A batch of 1..max_rows employees."""
    item: Any = employee_model()
    employees: Any = list[item]  # type: ignore[valid-type]
    field = Field(min_length=1, max_length=max_rows, description=f"1 to {max_rows} employees")
    return create_model("PredictionBatch", __config__=_STRICT, employees=(employees, field))


@dataclass(frozen=True, slots=True)
class PredictionBodies:
    """The bodies the fast prediction routes validate by themselves, built once per app
    (the batch limit is a setting); the OpenAPI document declares them from here too."""

    employee: type[BaseModel]
    batch: type[BaseModel]

    @classmethod
    def for_limit(cls, max_batch_rows: int) -> PredictionBodies:
        return cls(employee_model(), batch_model(max_batch_rows))


class ErrorResponse(BaseModel):
    detail: str


class Factor(BaseModel):
    feature: str
    value: str | int | None
    contribution: float = Field(description="Signed effect on the risk score (log-odds scale)")


class LeverChange(BaseModel):
    feature: str = Field(description="A feature the schema marks as a retention lever")
    value: str | int = Field(description="The employee's value now")
    new_value: str | int = Field(description="The value after the lever's move")
    action: str = Field(description="What the employer would do, in words")


class Lever(BaseModel):
    """One single or paired change and the risk the model predicts after it."""

    changes: list[LeverChange]
    attrition_probability: float = Field(ge=0, le=1, description="Predicted risk after")
    risk_reduction: float = Field(description="Risk now minus risk after (positive)")


class Prediction(BaseModel):
    prediction_id: str
    employee_number: int | None
    attrition_probability: float = Field(ge=0, le=1)
    at_risk: bool
    threshold: float
    model_name: str
    model_version: str
    top_factors: list[Factor]
    levers: list[Lever] | None = Field(
        None,
        description="With ?levers=true: up to 3 single changes that lower the risk (lowest "
        "risk first), then the best pair if it beats each of its parts",
    )
    levers_note: str | None = Field(None, description="With ?levers=true (single route)")


class BatchPrediction(BaseModel):
    model_name: str
    model_version: str
    predictions: list[Prediction]
    levers_note: str | None = Field(
        None, description="With ?levers=true: levers are associations, not causal promises"
    )


class Curves(BaseModel):
    """Evaluation curves of the served version (holdout)."""

    roc: dict[str, list[float]] = Field(description="fpr and tpr")
    pr: dict[str, list[float]] = Field(description="recall and precision")
    calibration: dict[str, list[float]] = Field(description="predicted and observed, by bin")


class CapacityPoint(BaseModel):
    """What flagging at one threshold does, per person of the curve's population."""

    policy: str = Field(description="The threshold policy that chose this point")
    threshold: float
    share_flagged: float = Field(description="Share of the people flagged at risk")
    flagged: float = Field(description="People flagged (mean over CV repeats)")
    recall: float = Field(description="Share of the leavers among the flagged")
    precision: float = Field(description="Share of the flagged who left")
    leavers_caught: float
    expected_leavers_caught: float = Field(
        description="Sum of the calibrated risk of the people flagged"
    )


class CapacityTradeoff(BaseModel):
    """The capacity trade-off of the served version: flagging at most 1%..100% of the people
    (highest risk first), on the calibrated out-of-fold predictions its threshold was chosen
    on; parallel lists, one entry per capacity, and the version's own threshold."""

    basis: str = Field(description="Which predictions: out-of-fold")
    population: int = Field(description="People the curve is computed on")
    leavers: int
    repeats: int = Field(description="Cross-validation repeats averaged")
    capacity: list[float] = Field(description="The capacity of each point (0.01 ... 1.0)")
    share_flagged: list[float]
    flagged: list[float]
    recall: list[float] = Field(description="Share of the leavers caught")
    precision: list[float]
    leavers_caught: list[float]
    expected_leavers_caught: list[float]
    threshold: list[float]
    chosen: CapacityPoint = Field(description="The served threshold's point")


class ModelInfo(BaseModel):
    name: str
    version: str
    run_id: str | None
    trained_at: str | None
    source: Literal["registry", "cache"]
    loaded_at: datetime
    metrics: dict[str, float]
    threshold: float
    features: list[str]
    threshold_reason: str | None = Field(None, description="How the threshold was chosen")
    aliases: dict[str, str] = Field(default_factory=dict, description="alias -> version")
    max_batch_rows: int = Field(description="Most employees one batch request may hold")
    fairness: dict[str, Any] | None = Field(None, description="The run's fairness report")
    importance: dict[str, float] | None = Field(
        None, description="Global importance: mean absolute SHAP contribution per feature"
    )
    curves: Curves | None = None
    capacity: CapacityTradeoff | None = Field(
        None, description="Share flagged -> leavers caught, precision, expected leavers caught"
    )


class OutcomeIn(BaseModel):
    model_config = _STRICT
    employee_number: EmployeeNumber = Field(description="Employee id (pseudonymised when stored)")
    left: bool = Field(description="True if the employee left, False if they stayed")
    outcome_date: ClientDate = Field(
        description="YYYY-MM-DD, from 1900-01-01 to a year after today (UTC)"
    )


class OutcomeBatch(BaseModel):
    model_config = _STRICT
    outcomes: list[OutcomeIn] = Field(min_length=1, max_length=10_000)


class OutcomeResult(BaseModel):
    recorded: int
    updated: int


class LoggedPrediction(BaseModel):
    prediction_id: str
    request_id: str
    employee_key: str | None
    model_name: str
    model_version: str
    probability: float
    at_risk: bool
    threshold: float
    client: str | None
    source: str
    created_at: datetime
    features: dict[str, Any] | None = None


class PredictionPage(BaseModel):
    items: list[LoggedPrediction]
    total: int
    limit: int
    offset: int


class RiskGroup(BaseModel):
    group: str
    employees: int
    at_risk: int
    at_risk_share: float
    mean_probability: float


class RiskPeriod(BaseModel):
    period: date
    predictions: int
    at_risk_share: float
    mean_probability: float


class CapacityPlan(BaseModel):
    """What HR catches by talking to the highest-risk people its capacity allows."""

    capacity: str = Field(description="The capacity: a share (20%) or a number of people")
    people: int = Field(description="Highest-risk employees that capacity covers")
    share: float = Field(description="people / employees")
    expected_leavers_caught: float = Field(
        description="Sum of the calibrated risk of those people (latest prediction each)"
    )
    share_of_expected_leavers: float = Field(
        description="expected_leavers_caught / expected_leavers"
    )


class WorkforceSummary(BaseModel):
    since: datetime
    employees: int = Field(description="Employees with a prediction in the window")
    at_risk: int
    expected_leavers: float = Field(
        description="Sum of the probabilities over the latest prediction per employee"
    )
    by_department: list[RiskGroup]
    by_job_role: list[RiskGroup]
    by_job_level: list[RiskGroup]
    by_tenure_band: list[RiskGroup] = Field(
        description="Years at the company: <2, 2-5, 5-10, 10+ years"
    )
    by_overtime: list[RiskGroup]
    by_band: list[RiskGroup]
    over_time: list[RiskPeriod]
    capacity: CapacityPlan | None = Field(
        None, description="Expected leavers caught at the current capacity"
    )


class MonitoringRunIn(BaseModel):
    model_config = _STRICT
    retrain: bool = False


class ReportSummary(BaseModel):
    id: int
    model_name: str
    model_version: str
    source: str
    reference_rows: int
    current_rows: int
    dataset_drift: bool
    drift_share: float
    prediction_drift: bool
    performance_decay: bool
    drifted_features: list[str]
    alert_sent: bool
    retrained: bool
    new_version: str | None
    created_at: datetime


class MonitoringRunResult(ReportSummary):
    """The check's report, and what happened about retraining."""

    retrain: Literal["not_requested", "not_needed", "started", "already_running"] = Field(
        description="started: a retrain of this check runs in the background; its outcome is "
        "written to this report (retrained, new_version, summary.retrain) when it ends, and "
        "recorded as audit events"
    )


class ReportDetail(ReportSummary):
    summary: dict[str, Any]
    window_start: datetime | None
    window_end: datetime | None


class ReportPage(BaseModel):
    items: list[ReportSummary]
    total: int
    limit: int
    offset: int


class ReloadResult(BaseModel):
    reloaded: bool
    previous_version: str | None
    version: str
    source: Literal["registry", "cache"]


class Live(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    ready: bool
    model_version: str | None
    model_source: Literal["registry", "cache"] | None
    database: bool
    spool_rows: int


class Me(BaseModel):
    """The calling key: its public id, name and role."""

    key_id: str
    name: str
    role: str


class ModelVersionInfo(BaseModel):
    version: str
    aliases: list[str]
    created_at: datetime
    run_id: str | None
    metrics: dict[str, float] = Field(description="Holdout metrics (roc_auc, pr_auc, ece, ...)")
    gate_passed: bool | None = Field(description="The promotion gate's verdict, if recorded")


class ModelVersions(BaseModel):
    versions: list[ModelVersionInfo]


class PromoteIn(BaseModel):
    model_config = _STRICT
    version: str = Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")


class AliasMoveResult(BaseModel):
    """An alias move and what the API serves afterwards."""

    alias: str
    version: str
    previous: str | None
    kind: str
    actor: str
    serving_version: str | None = Field(description="The version this API serves after reload")
