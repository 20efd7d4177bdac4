"""Typed views of the API's responses, as the dashboard reads them.

They mirror the API's documented shapes but ignore unknown fields, so a newer API version
(with more fields or more groupings) keeps working with this dashboard.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", protected_namespaces=())


class Ready(_ApiModel):
    ready: bool
    model_version: str | None = None
    model_source: str | None = None
    database: bool = False
    spool_rows: int = 0


class Factor(_ApiModel):
    feature: str
    value: str | int | float | None = None
    contribution: float


class LeverChange(_ApiModel):
    feature: str
    value: str | int | float | None = None
    new_value: str | int | float | None = None
    action: str = ""


class Lever(_ApiModel):
    changes: list[LeverChange]
    attrition_probability: float
    risk_reduction: float = 0.0


class Prediction(_ApiModel):
    prediction_id: str
    employee_number: int | None = None
    attrition_probability: float
    at_risk: bool
    threshold: float
    model_name: str
    model_version: str
    top_factors: list[Factor] = Field(default_factory=list)
    levers: list[Lever] | None = None  # with ?levers=true only


class BatchPrediction(_ApiModel):
    model_name: str
    model_version: str
    predictions: list[Prediction]


class ModelInfo(_ApiModel):
    name: str
    version: str
    run_id: str | None = None
    trained_at: str | None = None
    source: str | None = None
    loaded_at: datetime | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    threshold: float
    features: list[str] = Field(default_factory=list)
    # Sent by newer API versions only; the Model page says so when they are missing.
    threshold_reason: str | None = None
    aliases: dict[str, str] | None = None  # alias -> version
    max_batch_rows: int | None = None
    fairness: dict[str, Any] | None = None
    importance: dict[str, float] | None = None
    curves: dict[str, dict[str, list[float]]] | None = None
    capacity: dict[str, Any] | None = None  # the capacity trade-off


class Me(_ApiModel):
    """The signed-in key: id, name and role (``GET /v1/auth/me``)."""

    key_id: str
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class ModelVersion(_ApiModel):
    version: str
    aliases: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    run_id: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    gate_passed: bool | None = None


class ModelVersions(_ApiModel):
    versions: list[ModelVersion]


class LoggedPrediction(_ApiModel):
    prediction_id: str
    model_version: str
    probability: float
    at_risk: bool
    threshold: float
    source: str | None = None
    created_at: datetime


class PredictionPage(_ApiModel):
    items: list[LoggedPrediction]
    total: int
    limit: int
    offset: int


class RiskGroup(_ApiModel):
    group: str
    employees: int
    at_risk: int
    at_risk_share: float
    mean_probability: float


class RiskPeriod(_ApiModel):
    period: date
    predictions: int
    at_risk_share: float
    mean_probability: float


class WorkforceSummary(_ApiModel):
    """Headline counts, risk groupings by name (``by_<name>`` in the API) and a series."""

    since: datetime
    employees: int
    at_risk: int
    expected_leavers: float | None = None
    groupings: dict[str, list[RiskGroup]] = Field(default_factory=dict)
    over_time: list[RiskPeriod] = Field(default_factory=list)
    capacity: dict[str, Any] | None = None  # expected leavers caught at the capacity

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> WorkforceSummary:
        """Parse the response; every ``by_<name>`` list becomes the grouping ``<name>``."""
        groupings = {
            key.removeprefix("by_"): value
            for key, value in body.items()
            if key.startswith("by_") and isinstance(value, list)
        }
        fields = {k: v for k, v in body.items() if not k.startswith("by_")}
        return cls.model_validate({**fields, "groupings": groupings})


class ReportSummary(_ApiModel):
    id: int
    model_name: str
    model_version: str
    source: str
    reference_rows: int
    current_rows: int
    dataset_drift: bool
    drift_share: float
    prediction_drift: bool
    performance_decay: bool = False
    drifted_features: list[str] = Field(default_factory=list)
    alert_sent: bool = False
    retrained: bool = False
    new_version: str | None = None
    created_at: datetime


class ReportDetail(ReportSummary):
    summary: dict[str, Any] = Field(default_factory=dict)
    window_start: datetime | None = None
    window_end: datetime | None = None


class ReportPage(_ApiModel):
    items: list[ReportSummary]
    total: int
    limit: int
    offset: int


class ReloadResult(_ApiModel):
    reloaded: bool
    previous_version: str | None = None
    version: str
    source: str | None = None
